// Smoke test of the ingest benchmark's candidate variants (bench/ingest.ts IngestVariant, run by
// bench/ingestCandidates.ts) on SQLite, tiny size: each variant stores what it says it does —
// `message-only` no delivery, `fewer-indexes` no secondary index on deliveries — and answers
// every webhook 202.
import { describe, expect, it } from "vitest";
import { DELIVERY_INDEXES, type IngestVariant, runIngestBench } from "../../bench/ingest.js";

const tiny = { dialect: "sqlite", runs: 1, durationS: 0.5, warmupS: 0.5, connections: 4 } as const;

async function run(variant: IngestVariant) {
  const { result, table } = await runIngestBench({ ...tiny, variant });
  expect(result.settings.variant).toBe(variant);
  expect(result.herald.median).toBeGreaterThan(0);
  expect(result.failures.herald).toEqual({ other: {}, errors: 0, timeouts: 0 });
  expect(result.stored.messages).toBeGreaterThan(0);
  return { result, table };
}

describe("bench: ingest candidates", () => {
  it("as configured, every stored message has its one delivery and all indexes stay", {
    timeout: 60_000,
  }, async () => {
    const { result, table } = await run("as-configured");
    expect(result.stored.deliveries).toBe(result.stored.messages);
    for (const name of DELIVERY_INDEXES) expect(result.stored.deliveryIndexes).toContain(name);
    expect(table).toContain("durable 202, 1 delivery)");
  });

  it("message-only stores messages and no delivery", { timeout: 60_000 }, async () => {
    const { result, table } = await run("message-only");
    expect(result.stored.deliveries).toBe(0);
    expect(table).toContain("no delivery");
  });

  it("fewer-indexes stores deliveries with only the primary key's index", {
    timeout: 60_000,
  }, async () => {
    const { result } = await run("fewer-indexes");
    expect(result.stored.deliveries).toBe(result.stored.messages);
    expect(result.stored.deliveryIndexes).toEqual(["sqlite_autoindex_deliveries_1"]);
  });
});
