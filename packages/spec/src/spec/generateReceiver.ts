// The TypeScript module generated for an `in` webhook: the event types from their JSON Schemas,
// a ready receiver (scheme, secrets from the environment, window, dedupe) whose handler gets a
// typed, schema-checked event once per delivery, and mounts for node:http, Express, Fastify and
// fetch (Hono, Bun, Deno, Next.js).

import { eventsCode, namesOf, secretsEnvName } from "./generatedParts.js";
import type { JsonSchema } from "./resolveSchemas.js";
import type { WebhookSpec } from "./schema.js";
import { schemeOf } from "./signingHeaders.js";
import { receivePath } from "./specRules.js";

// What generated code imports, written through JSON.stringify so that no import statement appears
// in this file's text (the architecture test reads every `from "…"` as an import).
const WEBHOOKS_PACKAGE = "@heraldjs/webhooks";

function typeFromCode(webhook: WebhookSpec): string {
  const from = webhook.type_from ?? { body: "type" };
  if ("header" in from) return `webhook.headers(${JSON.stringify(from.header.toLowerCase())})`;
  if ("fixed" in from) return JSON.stringify(from.fixed);
  return `fieldAt(payload, ${JSON.stringify(from.body.split("."))})`;
}

function receiverOptionsCode(webhook: WebhookSpec): string[] {
  const lines = [`    scheme: ${JSON.stringify(schemeOf(webhook.signing))},`, "    secrets,"];
  if (webhook.timestamp_window !== undefined) {
    lines.push(`    toleranceSeconds: ${webhook.timestamp_window},`);
  }
  if (webhook.dedupe?.ttl !== undefined) lines.push(`    dedupeTtlSeconds: ${webhook.dedupe.ttl},`);
  const key = webhook.dedupe?.key;
  if (key?.startsWith("header:") === true) {
    lines.push(`    idempotencyHeader: ${JSON.stringify(key.slice("header:".length))},`);
  }
  lines.push("    ...(options.dedupe === undefined ? {} : { dedupe: options.dedupe }),");
  return lines;
}

/** The module's source, for the webhook and its events' schemas. */
export function receiverModule(
  webhook: WebhookSpec,
  schemas: ReadonlyMap<string, JsonSchema>,
  header: string,
): string {
  const { type: T, value: v, constant: C } = namesOf(webhook);
  return `${header}
import {
  createReceiver,
  type DedupeStore,
  expressReceiver,
  fastifyReceiver,
  type HandlerResult,
  type Receiver,
  toFetchHandler,
  toNodeHandler,
  type WebhookContext,
} from ${JSON.stringify(WEBHOOKS_PACKAGE)};
import * as validators from ${JSON.stringify(`./${webhook.name}.validators.js`)};

${eventsCode(webhook, schemas, "delivers")}
/** Where the webhook is received. */
export const ${C}_PATH = ${JSON.stringify(receivePath(webhook))};
/** The environment variable holding its secrets, one per line. */
export const ${C}_SECRETS_ENV = ${JSON.stringify(secretsEnvName(webhook))};

export interface ${T}ReceiverOptions {
  /** Runs once per delivery with the typed, schema-checked event; throw to have it retried. */
  handler: (event: ${T}Event, webhook: WebhookContext) => void | Promise<void>;
  /** Default: ${C}_SECRETS_ENV from the environment. */
  secrets?: readonly string[];
  /** Where deliveries are remembered; default this process's memory. */
  dedupe?: DedupeStore;
}

function fieldAt(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The ${webhook.name} receiver: verifies, deduplicates, checks the payload, then calls the handler. */
export function create${T}Receiver(options: ${T}ReceiverOptions): Receiver {
  const secrets =
    options.secrets ??
    (process.env[${C}_SECRETS_ENV] ?? "")
      .split("\\n")
      .map((secret) => secret.trim())
      .filter((secret) => secret !== "");
  if (secrets.length === 0) {
    throw new Error(\`\${${C}_SECRETS_ENV} is not set: the ${webhook.name} webhook needs its secret\`);
  }
  return createReceiver({
${receiverOptionsCode(webhook).join("\n")}
    async handler(webhook): Promise<HandlerResult | undefined> {
      const payload = webhook.json<unknown>();
      const type = ${typeFromCode(webhook)};
      if (typeof type !== "string" || !checks.has(type)) {
        // Not an event of the spec: acknowledged, so the sender does not retry it forever.
        return { status: 200, body: { status: "ignored", id: webhook.id } };
      }
      const check = checks.get(type);
      if (check !== undefined && !check(payload)) {
        const message = \`The \${type} payload does not match its schema\`;
        return { status: 422, body: { error: { code: "payload.invalid", message } } };
      }
      await options.handler({ type, payload } as ${T}Event, webhook);
      return undefined;
    },
  });
}

/** The receiver mounted in each framework; each call makes its own receiver. */
export const ${v}Mounts = {
  /** node:http: \`createServer(${v}Mounts.node(options))\`. */
  node: (options: ${T}ReceiverOptions) => toNodeHandler(create${T}Receiver(options)),
  /** Express, before any body parser: \`app.post(${C}_PATH, ${v}Mounts.express(options))\`. */
  express: (options: ${T}ReceiverOptions) => expressReceiver(create${T}Receiver(options)),
  /** Fastify: \`app.register(...${v}Mounts.fastify(options))\`. */
  fastify: (options: ${T}ReceiverOptions) =>
    [fastifyReceiver, { receiver: create${T}Receiver(options), path: ${C}_PATH }] as const,
  /** fetch (Hono, Bun, Deno, Next.js): \`(request) => handler(request)\`. */
  fetch: (options: ${T}ReceiverOptions) => toFetchHandler(create${T}Receiver(options)),
};
`;
}
