// Smoke test: deliver-pg starts Herald's worker processes and the pg-boss baseline once (×1 and
// ×2 each), and times runs through them on the real PostgreSQL, on a tiny size.
import { describe, expect, it } from "vitest";
import { runDeliverPg } from "../../bench/deliver.bench.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("bench: deliver-pg", () => {
  it("times Herald and pg-boss with 1 and 2 long-running processes", {
    timeout: 30_000,
  }, async () => {
    const { result, table } = await runDeliverPg({ quick: true, url: serviceUrl("postgres") });
    expect(result.pairs.map((p) => p.processes)).toEqual([1, 2]);
    const sets = ["herald ×1", "pg-boss ×1", "herald ×2", "pg-boss ×2"];
    expect(Object.keys(result.warmups).sort()).toEqual([...sets].sort());
    for (const pair of result.pairs) {
      for (const run of [...pair.herald.runs, ...pair.pgBoss.runs]) {
        expect(run.delivered).toBe(result.n);
        // Every other set was up and idle meanwhile.
        expect(Object.keys(run.idle)).toHaveLength(3);
      }
      expect(pair.herald.runs[0]!.received).toBeGreaterThanOrEqual(result.n);
      expect(pair.ratio).toBeGreaterThan(0);
    }
    // The processes ran for the whole bench and stopped gracefully.
    for (const set of sets) {
      expect(result.exitCodes[set]).toEqual(set.endsWith("×1") ? [0] : [0, 0]);
    }
    expect(table).toContain("pg-boss");
  });
});
