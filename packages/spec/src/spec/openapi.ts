// A spec as an OpenAPI 3.1 document: `in` webhooks under `paths` (the operation a provider
// calls), `out` webhooks under the top-level `webhooks` object (one entry per event type, the
// operation Herald calls on a subscriber). Every operation carries `x-herald-webhook`, the
// webhook's whole block, and the root `x-herald-spec` the rest (info, order, generator), so
// `fromOpenApi` gives the spec back exactly (with `$ref` keys escaped inside the blocks, see
// escapeRefs). Written by canonicalJson: byte-identical per spec.

import { createHash } from "node:crypto";
import { canonicalJson } from "./canonicalJson.js";
import type { LoadedSpec } from "./load.js";
import type { JsonSchema } from "./resolveSchemas.js";
import type { EventSpec, Spec, WebhookSpec } from "./schema.js";
import { signingHeaders } from "./signingHeaders.js";
import { receivePath } from "./specRules.js";

export const WEBHOOK_EXTENSION = "x-herald-webhook";

const REF_KEY = /^\$+ref$/;

/**
 * A block with every `$ref` key written `$$ref` (and `$$ref` as `$$$ref`, …), so OpenAPI tools
 * do not follow the references a spec holds as written (`schemas/x.yaml#/…`, `#/$defs/A`).
 * `unescapeRefs` undoes it exactly.
 */
export function escapeRefs(value: unknown): unknown {
  return renameKeys(value, (key) => (REF_KEY.test(key) ? `$${key}` : key));
}

export function unescapeRefs(value: unknown): unknown {
  return renameKeys(value, (key) => (REF_KEY.test(key) && key !== "$ref" ? key.slice(1) : key));
}

function renameKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => renameKeys(item, rename));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [rename(key), renameKeys(inner, rename)]),
  );
}
export const SPEC_EXTENSION = "x-herald-spec";

export interface GeneratorInfo {
  /** The generating Herald's version, written into the document. */
  version: string;
}

/** The sha256 (hex) of a spec's canonical JSON: what generated files say they came from. */
export function specDigest(spec: Spec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

function headerParameters(webhook: WebhookSpec) {
  return signingHeaders(webhook.signing).map((name) => ({
    name,
    in: "header",
    required: true,
    schema: { type: "string" },
  }));
}

function examplesOf(events: readonly EventSpec[]) {
  const examples: Record<string, { summary: string; value: unknown }> = {};
  for (const event of events) {
    (event.examples ?? []).forEach((value, index) => {
      examples[`${event.type}#${index + 1}`] = { summary: event.type, value };
    });
  }
  return Object.keys(examples).length === 0 ? undefined : examples;
}

function bodyOf(events: readonly EventSpec[], schemas: ReadonlyMap<string, JsonSchema>) {
  const each = events.map((event) => ({
    ...(schemas.get(event.type) ?? {}),
    ...(event.description === undefined ? {} : { description: event.description }),
    "x-herald-event-type": event.type,
  }));
  const schema = each.length === 1 ? each[0] : { oneOf: each };
  return {
    required: true,
    content: { "application/json": { schema, examples: examplesOf(events) } },
  };
}

function receiveOperation(webhook: WebhookSpec, schemas: ReadonlyMap<string, JsonSchema>) {
  return {
    operationId: `receive-${webhook.name}`,
    summary: `Receive the ${webhook.name} webhook`,
    description: webhook.description,
    parameters: headerParameters(webhook),
    requestBody: bodyOf(webhook.events, schemas),
    responses: {
      "2XX": {
        description: "Verified and accepted (a repeated delivery is answered as a duplicate)",
      },
      "4XX": { description: "Refused: a bad signature, a stale timestamp or an invalid body" },
    },
    [WEBHOOK_EXTENSION]: escapeRefs(webhook),
  };
}

function sendOperation(
  webhook: WebhookSpec,
  event: EventSpec,
  schemas: ReadonlyMap<string, JsonSchema>,
) {
  return {
    operationId: `send-${webhook.name}-${event.type}`,
    summary: `${event.type}, sent by the ${webhook.name} webhook`,
    description: event.description,
    deprecated: event.deprecated === undefined || event.deprecated === false ? undefined : true,
    parameters: headerParameters(webhook),
    requestBody: bodyOf([event], schemas),
    responses: {
      "2XX": { description: "The subscriber accepted the webhook" },
      default: { description: "Anything else is retried, then dead-lettered" },
    },
    [WEBHOOK_EXTENSION]: escapeRefs(webhook),
  };
}

/** The OpenAPI 3.1 document of a loaded spec. */
export function toOpenApi(loaded: LoadedSpec, generator: GeneratorInfo): Record<string, unknown> {
  const { spec, schemas } = loaded;
  // Maps, so that no path or event type (`__proto__` included) can reach a prototype.
  const paths = new Map<string, unknown>();
  const webhooks = new Map<string, unknown>();
  for (const webhook of spec.webhooks) {
    const own = schemas.get(webhook.name) ?? new Map<string, JsonSchema>();
    if (webhook.direction === "in") {
      paths.set(receivePath(webhook), { post: receiveOperation(webhook, own) });
    } else {
      for (const event of webhook.events) {
        webhooks.set(event.type, { post: sendOperation(webhook, event, own) });
      }
    }
  }
  return {
    openapi: "3.1.0",
    info: documentInfo(spec),
    paths: Object.fromEntries(paths),
    webhooks: Object.fromEntries(webhooks),
    [SPEC_EXTENSION]: specExtension(spec, generator),
  };
}

/** A document's `info`, from the spec's (or defaults). */
export function documentInfo(spec: Spec) {
  return {
    title: spec.info?.title ?? "Webhooks",
    version: spec.info?.version ?? "0.0.0",
    description: spec.info?.description,
  };
}

/** The root `x-herald-spec`: the generator, the spec's digest and info, its webhooks' order. */
export function specExtension(spec: Spec, generator: GeneratorInfo) {
  return {
    generator: `herald ${generator.version}`,
    spec_sha256: specDigest(spec),
    info: spec.info,
    order: spec.webhooks.map((webhook) => webhook.name),
  };
}

/** The OpenAPI document as the exact text `herald spec openapi` writes. */
export function renderOpenApi(loaded: LoadedSpec, generator: GeneratorInfo): string {
  return canonicalJson(toOpenApi(loaded, generator));
}
