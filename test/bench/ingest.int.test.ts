// Smoke test: the ingest-pg benchmark runs `herald serve` on a fresh PostgreSQL schema (dropped
// afterwards) against the bare Fastify baseline and reports positive figures, on a tiny size.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { runIngestBench } from "../../bench/ingest.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("bench: ingest-pg", () => {
  it("measures Herald on PostgreSQL and the bare route, then drops its schema", async () => {
    const pgUrl = serviceUrl("postgres");
    const { result, table } = await runIngestBench({
      dialect: "postgres",
      pgUrl,
      runs: 2,
      durationS: 1,
      warmupS: 0.5,
      connections: 8,
    });
    expect(result.herald.median).toBeGreaterThan(0);
    expect(result.bare.median).toBeGreaterThan(0);
    expect(result.ratio).toBeGreaterThan(0);
    expect(result.failures.herald).toEqual({ other: {}, errors: 0, timeouts: 0 });
    expect(result.batch.transactions).toBeGreaterThan(0);
    expect(table).toContain("herald serve (postgres");
    // Herald's PostgreSQL backends (found by the PGAPPNAME the bench gives Herald) did the
    // writes: their CPU is counted, and lowers the CPU-bound ceiling.
    const cpu = result.cpuUsPerRequest;
    expect(cpu.pgBackends).toBeGreaterThan(0);
    expect(result.cpuBoundRatio).toBeCloseTo(
      (cpu.bare! + cpu.loadGenerator!) / (cpu.herald! + cpu.pgBackends! + cpu.loadGenerator!),
      9,
    );
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      expect(result.schema).toMatch(/^bench_ingest_[0-9a-f]{8}$/);
      const { rows } = await client.query(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name = $1",
        [result.schema],
      );
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  }, 30_000);
});
