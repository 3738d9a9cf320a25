// What the generated receiver and dispatcher modules share: their names, the event types from
// the JSON Schemas with their doc comments, the union of events, and the table of validators.

import type { JsonSchema } from "./resolveSchemas.js";
import type { EventSpec, WebhookSpec } from "./schema.js";
import { pascalName, typeText } from "./schemaTypes.js";

/** `stripe-payments` → `StripePayments` (types), `stripePayments` (values), `STRIPE_PAYMENTS`. */
export function namesOf(webhook: Pick<WebhookSpec, "name">) {
  const type = pascalName(webhook.name);
  return {
    type,
    value: type[0]?.toLowerCase() + type.slice(1),
    constant: webhook.name.toUpperCase().replace(/[^A-Z0-9]/g, "_"),
  };
}

/**
 * The environment variable with a webhook's secrets, one per line: read by the generated
 * receiver and by `herald serve` / `herald spec push` alike.
 */
export function secretsEnvName(webhook: Pick<WebhookSpec, "name">): string {
  return `HERALD_${namesOf(webhook).constant}_SECRETS`;
}

/** A type name per event, unique within the module. */
export function eventTypeNames(webhook: WebhookSpec): string[] {
  const used = new Set<string>();
  return webhook.events.map((event) => {
    let name = pascalName(event.type);
    for (let n = 2; used.has(name); n++) name = `${pascalName(event.type)}${n}`;
    used.add(name);
    return name;
  });
}

/** The validator export of the event at `index` in `<name>.validators.js`. */
export const validatorName = (index: number) => `event${index}`;

/** `/** type: description *\/`, with `@deprecated` (since, replacement) when it is. */
export function docComment(event: EventSpec): string {
  const lines = [[event.type, event.description].filter(Boolean).join(": ")];
  if (event.deprecated !== undefined && event.deprecated !== false) {
    const detail = typeof event.deprecated === "object" ? event.deprecated : {};
    const since = detail.since === undefined ? "" : ` since ${detail.since}`;
    const by = detail.replaced_by === undefined ? "" : `; use ${detail.replaced_by}`;
    lines.push(`@deprecated${since}${by}`);
  }
  return `/**\n${lines.map((line) => ` * ${line.replace(/\*\//g, "* /")}`).join("\n")}\n */`;
}

/**
 * The event types, their union `<T>Event`, and `checks`: each event type's validator (or
 * undefined without a schema), in a Map so that no type name — `__proto__` included — can
 * reach an object's prototype.
 */
export function eventsCode(
  webhook: WebhookSpec,
  schemas: ReadonlyMap<string, JsonSchema>,
  verb: "delivers" | "sends",
): string {
  const { type: T } = namesOf(webhook);
  const names = eventTypeNames(webhook);
  const types = webhook.events
    .map(
      (event, i) =>
        `${docComment(event)}\nexport type ${names[i]} = ${typeText(schemas.get(event.type))};\n`,
    )
    .join("\n");
  const union = webhook.events
    .map((event, i) => `  | { type: ${JSON.stringify(event.type)}; payload: ${names[i]} }`)
    .join("\n");
  const checks = webhook.events
    .map((event, i) => {
      const check = schemas.has(event.type) ? `validators.${validatorName(i)}` : "undefined";
      return `  [${JSON.stringify(event.type)}, ${check}],`;
    })
    .join("\n");
  return `${types}
/** Every event the ${webhook.name} webhook ${verb}, by type. */
export type ${T}Event =
${union};

type Check = ((value: unknown) => boolean) & { errors?: unknown };
const checks = new Map<string, Check | undefined>([
${checks}
]);
`;
}
