// Smoke test: bench/e2eCpuByProcess.ts starts `herald serve --no-worker` and one `herald worker`
// on PostgreSQL, sends a short open-loop run, and finds CPU in each group of processes it names
// (serve, worker, the bench database's backends, this process); the database is dropped after.
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
    const result = await measureCpuByProcess({ store: "postgres", rate: 100, seconds: 2, pgUrl });
    expect(result.accepted).toBe(200);
    expect(result.lost).toBe(0);
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
