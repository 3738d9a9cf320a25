// A spec as an AsyncAPI 3.0 document: one HTTP channel per webhook (its receive path for `in`,
// the subscriber's URL for `out`), one message per event type with its payload schema, signing
// headers and examples, and one operation per webhook (`receive` or `send`). Each channel
// carries `x-herald-webhook` and the root `x-herald-spec`, as in the OpenAPI document, so
// `fromAsyncApi` gives the spec back exactly. Written by canonicalJson.

import { canonicalJson } from "./canonicalJson.js";
import type { LoadedSpec } from "./load.js";
import {
  documentInfo,
  escapeRefs,
  type GeneratorInfo,
  SPEC_EXTENSION,
  specExtension,
  WEBHOOK_EXTENSION,
} from "./openapi.js";
import type { JsonSchema } from "./resolveSchemas.js";
import type { WebhookSpec } from "./schema.js";
import { signingHeaders } from "./signingHeaders.js";
import { receivePath } from "./specRules.js";

/** A message key for an event type: AsyncAPI keys are letters, digits, `-`, `_` and `.`. */
function messageKeys(webhook: WebhookSpec): string[] {
  const used = new Set<string>();
  return webhook.events.map((event) => {
    const base = event.type.replace(/[^A-Za-z0-9._-]/g, "_");
    let key = base;
    for (let n = 2; used.has(key); n++) key = `${base}_${n}`;
    used.add(key);
    return key;
  });
}

function channelOf(webhook: WebhookSpec, schemas: ReadonlyMap<string, JsonSchema>) {
  const headers = signingHeaders(webhook.signing);
  const keys = messageKeys(webhook);
  const messages = Object.fromEntries(
    webhook.events.map((event, i) => [
      keys[i],
      {
        name: event.type,
        description: event.description,
        contentType: "application/json",
        headers: {
          type: "object",
          required: headers,
          properties: Object.fromEntries(headers.map((name) => [name, { type: "string" }])),
        },
        payload: schemas.get(event.type) ?? {},
        examples: event.examples?.map((payload) => ({ payload })),
        "x-herald-event-type": event.type,
        ...(event.deprecated === undefined || event.deprecated === false
          ? {}
          : { "x-deprecated": true }),
      },
    ]),
  );
  return {
    address: webhook.direction === "in" ? receivePath(webhook) : null,
    description: webhook.description,
    messages,
    [WEBHOOK_EXTENSION]: escapeRefs(webhook),
  };
}

/** The AsyncAPI 3.0 document of a loaded spec. */
export function toAsyncApi(loaded: LoadedSpec, generator: GeneratorInfo): Record<string, unknown> {
  const { spec, schemas } = loaded;
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const webhook of spec.webhooks) {
    channels[webhook.name] = channelOf(webhook, schemas.get(webhook.name) ?? new Map());
    const action = webhook.direction === "in" ? "receive" : "send";
    operations[`${action}-${webhook.name}`] = {
      action,
      channel: { $ref: `#/channels/${webhook.name}` },
      messages: messageKeys(webhook).map((key) => ({
        $ref: `#/channels/${webhook.name}/messages/${key}`,
      })),
    };
  }
  return {
    asyncapi: "3.0.0",
    info: documentInfo(spec),
    defaultContentType: "application/json",
    channels,
    operations,
    [SPEC_EXTENSION]: specExtension(spec, generator),
  };
}

/** The AsyncAPI document as the exact text `herald spec asyncapi` writes. */
export function renderAsyncApi(loaded: LoadedSpec, generator: GeneratorInfo): string {
  return canonicalJson(toAsyncApi(loaded, generator));
}
