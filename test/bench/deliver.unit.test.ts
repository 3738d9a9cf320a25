// Smoke test: deliver-sqlite seeds, runs the built `herald worker` child on SQLite and reports
// a rate, on a tiny size (`npm run bench -- deliver-sqlite` runs the real one).
import { describe, expect, it } from "vitest";
import { benches } from "../../bench/deliver.bench.js";

describe("bench: deliver-sqlite", () => {
  it("delivers every seeded delivery and reports a rate per run", { timeout: 30_000 }, async () => {
    const { result, summary, table } = await benches["deliver-sqlite"]({ quick: true });
    const { herald } = result as {
      herald: { median: number; runs: { delivered: number; received: number }[] };
    };
    expect(herald.runs).toHaveLength(2);
    for (const run of herald.runs) {
      expect(run.delivered).toBe(1000);
      expect(run.received).toBeGreaterThanOrEqual(1000);
    }
    expect(herald.median).toBeGreaterThan(0);
    expect(summary[0]?.benchmark).toContain("deliver-sqlite");
    expect(table).toContain("herald worker");
  });
});
