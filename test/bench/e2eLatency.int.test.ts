// Smoke test: e2e-latency in its quick mode starts `herald serve` on SQLite and on PostgreSQL
// (with 1 and 2 `herald worker`), sends open-loop webhooks to each and to the floor, and every
// accepted webhook reaches the receiver once; the bench's database is dropped afterwards.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { e2eSummary } from "../../bench/e2eLatency.bench.js";
import { runE2eLatency } from "../../bench/e2eLatency.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

// Skipped only when PostgreSQL is unreachable (a loud notice from serviceAvailable); under
// CI=true or HERALD_REQUIRE_SERVICES=1 serviceAvailable throws instead, failing the run.
describe.skipIf(!available)("bench: e2e-latency", () => {
  it("delivers every webhook of every setup and rate, with ordered percentiles", {
    timeout: 240_000,
  }, async () => {
    const pgUrl = serviceUrl("postgres");
    const { result, table } = await runE2eLatency({ quick: true, pgUrl });
    const setups = ["floor", "sqlite", "pg ×1", "pg ×2"];
    expect(result.steady.map((s) => `${s.target}@${s.rate}`)).toEqual([
      ...setups.map((s) => `${s}@200`),
      ...setups.map((s) => `${s}@1000`),
    ]);
    const saturated = result.saturation.flatMap((s) => [s.floor, s.herald]);
    for (const stats of [...result.steady, ...saturated]) {
      expect(stats.sent).toBeGreaterThan(0);
      expect(stats.accepted).toBe(stats.sent);
      expect(stats.received).toBe(stats.accepted);
      expect(stats.lost).toBe(0);
      expect(stats.p50).toBeGreaterThan(0);
      expect(stats.p50).toBeLessThanOrEqual(stats.p95);
      expect(stats.p95).toBeLessThanOrEqual(stats.p99);
      expect(stats.p99).toBeLessThanOrEqual(stats.max);
    }
    expect(result.saturation.map((s) => s.target)).toEqual(setups.slice(1));
    for (const { probe } of result.saturation) expect(probe.rate).toBeGreaterThan(0);
    expect(result.stray).toBe(0);
    expect(table).toContain("saturation pg ×2");

    const summary = e2eSummary(result);
    expect(summary.map((row) => row.benchmark)).toEqual(
      setups.slice(1).flatMap((s) => [`e2e-latency ${s} p99`, `e2e-latency ${s} p50 @200/s`]),
    );
    for (const row of summary) expect(["yes", "no"]).toContain(row.met);

    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT datname FROM pg_database WHERE datname = $1", [
        result.database,
      ]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
