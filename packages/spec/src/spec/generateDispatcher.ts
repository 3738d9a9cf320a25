// The TypeScript module generated for an `out` webhook: one typed function per event type,
// each checking its payload against the event's JSON Schema before it dispatches through a
// target — the library dispatcher (`createDispatcher` of @heraldjs/core/delivery) or a running
// Herald's `POST /v1/messages` (`heraldApi`).

import { docComment, eventsCode, eventTypeNames, namesOf } from "./generatedParts.js";
import type { JsonSchema } from "./resolveSchemas.js";
import type { WebhookSpec } from "./schema.js";
import { pascalName } from "./schemaTypes.js";

/** The binding's function name for an event type: `order.placed` → `orderPlaced`. */
function functionName(type: string, used: Set<string>): string {
  const base = pascalName(type);
  let name = base[0]?.toLowerCase() + base.slice(1);
  for (let n = 2; used.has(name); n++) name = `${base[0]?.toLowerCase()}${base.slice(1)}${n}`;
  used.add(name);
  return name;
}

/** The module's source, for the webhook and its events' schemas. */
export function dispatcherModule(
  webhook: WebhookSpec,
  schemas: ReadonlyMap<string, JsonSchema>,
  header: string,
): string {
  const { type: T, value: v } = namesOf(webhook);
  const names = eventTypeNames(webhook);
  const used = new Set<string>();
  const functions = webhook.events
    .map((event, i) => {
      const name = functionName(event.type, used);
      return `    ${docComment(event).replace(/\n/g, "\n    ")}
    ${name}: (payload: ${names[i]}, options: ${T}DispatchOptions = {}) =>
      send(${JSON.stringify(event.type)}, payload, options),`;
    })
    .join("\n");
  return `${header}
import * as validators from ${JSON.stringify(`./${webhook.name}.validators.js`)};

${eventsCode(webhook, schemas, "sends")}
/** What a dispatch needs: a library Dispatcher (createDispatcher) is one, heraldApi another. */
export interface ${T}Target {
  dispatch(input: {
    type: string;
    payload: Record<string, unknown>;
    tenant?: string;
    idempotencyKey?: string | null;
  }): Promise<unknown>;
}

export interface ${T}DispatchOptions {
  /** Default \`default\`. */
  tenant?: string;
  /** Repeating it sends nothing more: the first message stands. */
  idempotencyKey?: string;
}

/** The error a payload that does not match its event's schema is refused with. */
export class ${T}PayloadError extends Error {
  readonly code = "payload.invalid";
  constructor(
    readonly type: string,
    readonly errors: unknown,
  ) {
    super(\`The \${type} payload does not match its schema\`);
  }
}

/**
 * A target that POSTs to a running Herald's \`/v1/messages\` (\`url\` is its origin, e.g.
 * \`http://127.0.0.1:8080\`), with \`apiKey\` as a Bearer token when the API requires one.
 */
export function heraldApi(options: { url: string; apiKey?: string }): ${T}Target {
  const endpoint = \`\${options.url.replace(/\\/+$/, "")}/v1/messages\`;
  return {
    async dispatch({ type, payload, tenant, idempotencyKey }) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (options.apiKey !== undefined) headers.authorization = \`Bearer \${options.apiKey}\`;
      if (idempotencyKey !== undefined && idempotencyKey !== null) {
        headers["idempotency-key"] = idempotencyKey;
      }
      const body = JSON.stringify(tenant === undefined ? { type, payload } : { type, payload, tenant });
      const response = await fetch(endpoint, { method: "POST", headers, body });
      const answer: unknown = await response.json().catch(() => null);
      if (!response.ok) {
        throw new Error(\`POST \${endpoint} answered \${response.status}: \${JSON.stringify(answer)}\`);
      }
      return answer;
    },
  };
}

/** One function per event type of the ${webhook.name} webhook, each checking its payload first. */
export function ${v}Binding(target: ${T}Target) {
  const send = (type: string, payload: unknown, options: ${T}DispatchOptions) => {
    const check = checks.get(type);
    if (check !== undefined && !check(payload)) throw new ${T}PayloadError(type, check.errors);
    return target.dispatch({
      type,
      payload: payload as Record<string, unknown>,
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    });
  };
  return {
${functions}
  };
}
`;
}
