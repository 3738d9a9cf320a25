// A webhooks spec as the service's own records, in their wire form: each `in` webhook a source
// (`POST /webhooks/<name>`, its scheme, window, dedupe and type rule, secrets from
// HERALD_<NAME>_SECRETS), and every event type into the catalogue — `<source>.<type>` for an
// `in` webhook (the type its messages get), the type itself for an `out` one. `herald serve`
// applies them with the config; `herald spec push` sends them to a running Herald.

import { secretsEnvName } from "@heraldjs/spec/internal/spec/generatedParts.js";
import type { LoadedSpec } from "@heraldjs/spec/internal/spec/load.js";
import type { WebhookSpec } from "@heraldjs/spec/internal/spec/schema.js";
import { signingScheme } from "@heraldjs/spec/internal/spec/signingHeaders.js";
import { receivePath } from "@heraldjs/spec/internal/spec/specRules.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { WireEventTypeInput } from "../wire/eventType.js";
import type { WireSourceInput } from "../wire/source.js";

export interface SpecRecords {
  sources: WireSourceInput[];
  eventTypes: WireEventTypeInput[];
}

function source(
  webhook: WebhookSpec,
  index: number,
  loaded: LoadedSpec,
  env: Readonly<Record<string, string | undefined>>,
): WireSourceInput {
  const where = `${loaded.file}: webhooks[${index}] (${webhook.name})`;
  if (receivePath(webhook) !== `/webhooks/${webhook.name}`) {
    throw new HeraldError(
      "config.invalid",
      `${where}: the service receives at /webhooks/${webhook.name}, not ${receivePath(webhook)}`,
    );
  }
  const name = secretsEnvName(webhook);
  const secrets = (env[name] ?? "")
    .split("\n")
    .map((secret) => secret.trim())
    .filter((secret) => secret !== "");
  if (secrets.length === 0) {
    throw new HeraldError(
      "config.invalid",
      `${where}: ${name} is not set (its secrets, one per line)`,
    );
  }
  const key = webhook.dedupe?.key;
  return {
    name: webhook.name,
    ...signingScheme(webhook.signing),
    secrets,
    ...(webhook.timestamp_window === undefined ? {} : { tolerance_s: webhook.timestamp_window }),
    ...(webhook.dedupe?.ttl === undefined ? {} : { dedupe_ttl_s: webhook.dedupe.ttl }),
    ...(key?.startsWith("header:") === true
      ? { idempotency_header: key.slice("header:".length) }
      : {}),
    type_from: webhook.type_from ?? { body: "type" },
  };
}

/** The sources and event types a loaded spec stands for; secrets are read from `env`. */
export function specRecords(
  loaded: LoadedSpec,
  env: Readonly<Record<string, string | undefined>>,
): SpecRecords {
  const sources: WireSourceInput[] = [];
  const eventTypes: WireEventTypeInput[] = [];
  loaded.spec.webhooks.forEach((webhook, index) => {
    if (webhook.direction === "in") sources.push(source(webhook, index, loaded, env));
    const schemas = loaded.schemas.get(webhook.name);
    for (const event of webhook.events) {
      const schema = schemas?.get(event.type);
      eventTypes.push({
        name: webhook.direction === "in" ? `${webhook.name}.${event.type}` : event.type,
        ...(event.description === undefined ? {} : { description: event.description }),
        ...(schema === undefined ? {} : { schema }),
        ...(event.deprecated === undefined || event.deprecated === false
          ? {}
          : { deprecated: true }),
      });
    }
  });
  return { sources, eventTypes };
}
