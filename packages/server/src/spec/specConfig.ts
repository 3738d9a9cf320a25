// herald.yaml's `webhooks:` (the webhooks spec, docs/spec.md) applied by `herald serve` with the
// rest of the config: its sources and event types join the file's own, and are upserted
// idempotently like them. A name that both the spec and `sources:` / `event_types:` give is
// refused.

import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { parseYaml } from "@heraldjs/spec/internal/config/yamlSource.js";
import { parseSpec } from "@heraldjs/spec/internal/spec/load.js";
import { parseWire } from "@heraldjs/spec/internal/wire/zodIssues.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { HeraldConfig } from "../config/types.js";
import { toEventTypeInput, wireEventTypeSchema } from "../wire/eventType.js";
import { toSourceInput, wireSourceSchema } from "../wire/source.js";
import { specRecords } from "./specWire.js";

function refuseClash(
  kind: string,
  names: readonly string[],
  taken: ReadonlySet<string>,
  file: string,
) {
  const clash = names.find((name) => taken.has(name));
  if (clash !== undefined) {
    throw new HeraldError(
      "config.invalid",
      `${file}: the ${kind} ${JSON.stringify(clash)} is given both by webhooks: and by the file's own list`,
    );
  }
}

/** `config` with the sources and event types of its file's `webhooks:`, when it has one. */
export async function withSpec(
  config: HeraldConfig,
  env: Readonly<Record<string, string | undefined>>,
): Promise<HeraldConfig> {
  if (config.file === null) return config;
  const text = await readFile(config.file, "utf8");
  const raw = parseYaml(text, config.file).doc.toJS() as Record<string, unknown> | null;
  if (raw === null || typeof raw !== "object" || raw.webhooks === undefined) return config;
  const loaded = parseSpec(text, config.file, dirname(config.file));
  const records = specRecords(loaded, env);
  refuseClash(
    "source",
    records.sources.map((s) => s.name),
    new Set(config.sources.map((s) => s.name)),
    config.file,
  );
  refuseClash(
    "event type",
    records.eventTypes.map((e) => e.name),
    new Set(config.eventTypes.map((e) => e.name)),
    config.file,
  );
  return {
    ...config,
    sources: [
      ...config.sources,
      ...records.sources.map((wire) =>
        toSourceInput(parseWire(wireSourceSchema, wire, "config.invalid")),
      ),
    ],
    eventTypes: [
      ...config.eventTypes,
      ...records.eventTypes.map((wire) =>
        toEventTypeInput(parseWire(wireEventTypeSchema, wire, "config.invalid")),
      ),
    ],
  };
}
