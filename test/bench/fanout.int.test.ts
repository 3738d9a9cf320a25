// Smoke test: the fanout benchmark on a tiny size (1, 10 and 100 endpoints): stores and
// delivers (until stored as delivered) through a built `herald worker` on SQLite and on its own PostgreSQL database
// (dropped afterwards), routes with the cached index and by listing, and reports its rows.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { runFanout } from "../../bench/fanout.bench.js";
import { FANOUT_DATABASE } from "../../bench/fanoutBackends.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

// Skips only when PostgreSQL is unreachable; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("bench: fanout", () => {
  it("stores, routes and delivers one message to each fan-out on both stores", async () => {
    const url = serviceUrl("postgres");
    const { results, table, summary } = await runFanout({ quick: true, url });
    expect(results.map((r) => r.dialect)).toEqual(["sqlite", "postgres"]);
    for (const r of results) {
      expect(r.stored.bySize.map((s) => s.endpoints)).toEqual([1, 10, 100]);
      expect(r.delivered.bySize.map((s) => s.endpoints)).toEqual([1, 10, 100]);
      for (const s of [...r.stored.bySize, ...r.delivered.bySize, r.stored.oneOfLargest]) {
        expect(s.usPerEndpoint).toBeGreaterThan(0);
      }
      // Delivered is timed until the store holds every delivery as delivered, which comes
      // after the receiver's last answer in the same run.
      for (const d of r.delivered.bySize) {
        expect(d.msPerMessage).toBeGreaterThanOrEqual(d.answered.msPerMessage);
      }
      expect(r.answeredFlatness.marginalUs).toHaveLength(2);
      expect(r.delivered.workerExitCode).toBe(0);
      expect(r.routing.oneMatch.cached.usPerMessage).toBeGreaterThan(0);
      expect(r.routing.oneMatch.listed.usPerMessage).toBeGreaterThan(0);
      expect(r.storedFlatness.marginalUs).toHaveLength(2);
    }
    expect(summary).toHaveLength(6);
    expect(table).toContain("list every endpoint per message");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
        FANOUT_DATABASE,
      ]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  }, 90_000);
});
