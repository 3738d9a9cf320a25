// Smoke test: bench/e2eCpuByProcess.ts starts `herald serve --no-worker` and one `herald worker`
// on PostgreSQL, sends two short open-loop runs, and finds CPU in each group of processes it names
// (serve, worker, the bench database's backends, this process), the backends' share split by the
// process each works for; the database is dropped after.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { BENCH_GROUP, measureCpuByProcess } from "../../bench/e2eCpuByProcess.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

// Skipped only when PostgreSQL is down outside CI; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("bench: CPU per webhook by process", () => {
  it("accounts every webhook's CPU to serve, worker, PostgreSQL and the bench", {
    timeout: 120_000,
  }, async () => {
    const pgUrl = serviceUrl("postgres");
    const { runs } = await measureCpuByProcess({
      store: "postgres",
      rate: 100,
      seconds: 2,
      runs: 2,
      pgUrl,
    });
    expect(runs).toHaveLength(2);
    for (const result of runs) {
      expect(result.accepted).toBe(200);
      expect(result.lost).toBe(0);
      expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
      expect(result.p50Ms).toBeGreaterThan(0);
      expect(Object.keys(result.perWebhookMs).sort()).toEqual(
        [BENCH_GROUP, "postgres", "serve", "worker"].sort(),
      );
      const parts = Object.values(result.perWebhookMs);
      // /proc counts in 10 ms ticks: over 200 webhooks each process shows some.
      for (const ms of parts) expect(ms).toBeGreaterThan(0);
      expect(result.totalMs).toBeCloseTo(
        parts.reduce((sum, ms) => sum + ms, 0),
        9,
      );
      // serve's statements (ingestion) and the worker's (claims, outcomes) both cost the
      // database something; the split covers client backends only, so it is at most the group
      // (which also holds the database's autovacuum workers) give or take the 10 ms ticks a
      // trailing statement adds between the two reads.
      const byOwner = result.postgresByOwnerMs;
      expect(byOwner.serve).toBeGreaterThan(0);
      expect(byOwner.worker).toBeGreaterThan(0);
      const split = Object.values(byOwner).reduce((sum, ms) => sum + ms, 0);
      expect(split).toBeLessThanOrEqual(result.perWebhookMs.postgres! + 30 / result.accepted);
    }

    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'herald_bench_e2e_%' AND datname = $1",
        [`herald_bench_e2e_${process.pid}`],
      );
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
