// Smoke test: deliver-pg starts Herald's worker processes and the pg-boss and graphile-worker
// baselines once (×1 and ×2 each), and times runs through them on the real PostgreSQL, on a tiny
// size; graphile-worker's database is dropped afterwards.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { runDeliverPg } from "../../bench/deliver.bench.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

// Skips (loudly) only when PostgreSQL is unreachable; under CI=true serviceAvailable fails instead.
describe.skipIf(!available)("bench: deliver-pg", () => {
  it("times Herald, pg-boss and graphile-worker with 1 and 2 long-running processes", {
    timeout: 120_000,
  }, async () => {
    const { result, table } = await runDeliverPg({ quick: true, url: serviceUrl("postgres") });
    expect(result.pairs.map((p) => p.processes)).toEqual([1, 2]);
    const sets = [
      "herald ×1",
      "pg-boss ×1",
      "graphile-worker ×1",
      "herald ×2",
      "pg-boss ×2",
      "graphile-worker ×2",
    ];
    expect(Object.keys(result.warmups).sort()).toEqual([...sets].sort());
    for (const pair of result.pairs) {
      for (const run of [...pair.herald.runs, ...pair.pgBoss.runs, ...pair.graphile.runs]) {
        expect(run.delivered).toBe(result.n);
        // Every other set was up and idle meanwhile.
        expect(Object.keys(run.idle)).toHaveLength(5);
      }
      expect(pair.herald.runs[0]!.received).toBeGreaterThanOrEqual(result.n);
      expect(pair.ratio).toBeGreaterThan(0);
      expect(pair.graphileRatio).toBeGreaterThan(0);
      // graphile-worker's processes printed the first job of each of their runs.
      // (Without that line the rate from it would be N / 0.)
      expect(Number.isFinite(pair.graphile.runs[0]!.perSecondFromFirst)).toBe(true);
    }
    // The processes ran for the whole bench and stopped gracefully.
    for (const set of sets) {
      expect(result.exitCodes[set]).toEqual(set.endsWith("×1") ? [0] : [0, 0]);
    }
    expect(table).toContain("pg-boss");
    expect(table).toContain("graphile-worker");
    // graphile-worker's database is gone.
    const admin = new pg.Client({ connectionString: serviceUrl("postgres") });
    await admin.connect();
    try {
      const { rows } = await admin.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [
        `herald_bench_graphile_${process.pid}_%`,
      ]);
      expect(rows).toEqual([]);
    } finally {
      await admin.end();
    }
  });
});
