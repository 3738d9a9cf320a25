// Smoke test: the scale benchmark grows the deliveries table of a SQLite file and of a
// PostgreSQL database of its own while one built worker delivers, with the claim probe and the
// retention job running, on a tiny size (--quick), and drops the database afterwards.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { runScaleBench } from "../../bench/scale.bench.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

// Skipped only when PostgreSQL is unreachable (a loud notice from serviceAvailable); under
// CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable throws instead, failing the run.
describe.skipIf(!available)("bench: scale", () => {
  it("measures every size on both stores, prunes during the runs and cleans up", {
    timeout: 120_000,
  }, async () => {
    const url = serviceUrl("postgres");
    const { result, table, summary } = await runScaleBench({ quick: true, url });
    expect(result.points.map((p) => [p.backend, p.size])).toEqual([
      ["sqlite", 1000],
      ["sqlite", 10_000],
      ["postgres", 1000],
      ["postgres", 10_000],
    ]);
    for (const point of result.points) {
      expect(point.tableRows).toBeGreaterThanOrEqual(point.size);
      // Probe runs until 1,000 claims or 2 runs (the quick size holds far fewer): 2 runs of n.
      expect(point.runs).toBe(2);
      expect(point.delivered).toBe(2 * result.options.n);
      expect(point.perSecond).toBeGreaterThan(0);
      expect(point.claims).toBeGreaterThan(0);
      expect(point.claimP99Ms).toBeGreaterThan(0);
      // The retention job really deleted rows during the run.
      expect(point.pruned).toBeGreaterThan(0);
      expect(point.pruneP99Ms).toBeGreaterThan(0);
      expect(point.bytesPerDelivery).toBeGreaterThan(0);
    }
    expect(result.exitCodes).toEqual({ sqlite: 0, postgres: 0 });
    expect(summary.map((row) => row.benchmark)).toEqual([
      "scale (SQLite, 10^3 → 10^4 rows)",
      "scale (PostgreSQL, 10^3 → 10^4 rows)",
    ]);
    expect(table).toContain("bytes/delivery");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
        result.options.pgDatabase,
      ]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
