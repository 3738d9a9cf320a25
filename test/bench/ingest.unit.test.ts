// Smoke test: the ingest-sqlite benchmark starts the built `herald serve` on a temp SQLite file
// and the bare Fastify baseline as child processes, loads both with autocannon and reports
// positive figures, on a tiny size (benchmarks themselves are not part of npm test).
import { describe, expect, it } from "vitest";
import { ingestSummary } from "../../bench/ingest.bench.js";
import { runIngestBench } from "../../bench/ingest.js";

describe("bench: ingest-sqlite", () => {
  it("measures Herald and the bare route, every Herald answer a durable 202", async () => {
    const { result, table } = await runIngestBench({
      dialect: "sqlite",
      runs: 2,
      durationS: 1,
      warmupS: 0.5,
      connections: 8,
    });
    expect(result.bare.runs).toHaveLength(2);
    expect(result.herald.runs).toHaveLength(2);
    expect(result.bare.median).toBeGreaterThan(0);
    expect(result.herald.median).toBeGreaterThan(0);
    expect(result.ratio).toBeGreaterThan(0);
    expect(result.herald.p99Median).toBeGreaterThan(0);
    // Distinct signed webhooks: no duplicate (200) and no error on either side.
    expect(result.failures.herald).toEqual({ other: {}, errors: 0, timeouts: 0 });
    expect(result.failures.bare).toEqual({ other: {}, errors: 0, timeouts: 0 });
    for (const [i, sent] of result.pool.sent.entries()) {
      expect(sent).toBeLessThanOrEqual(result.pool.size[i]!);
    }
    expect(result.batch.transactions).toBeGreaterThan(0);
    expect(result.batch.meanSize).toBeGreaterThanOrEqual(1);
    expect(table).toContain("herald serve (sqlite");
    // CPU per request, on Linux (/proc): the whole process, its main thread a part of it; no
    // PostgreSQL backends on SQLite. The CPU-bound ceiling follows from the same figures.
    const cpu = result.cpuUsPerRequest;
    expect(cpu.herald).toBeGreaterThan(0);
    expect(cpu.heraldMainThread).toBeGreaterThan(0);
    expect(cpu.heraldMainThread!).toBeLessThanOrEqual(cpu.herald!);
    expect(cpu.pgBackends).toBeNull();
    expect(result.cpuBoundRatio).toBeCloseTo(
      (cpu.bare! + cpu.loadGenerator!) / (cpu.herald! + cpu.loadGenerator!),
      9,
    );
    const summary = ingestSummary(result);
    expect(summary.map((row) => row.benchmark)).toEqual([
      "ingest-sqlite (vs bare Fastify)",
      "ingest-sqlite p99",
    ]);
    expect(summary[1]?.target).toBe("≤ 25 ms");
  }, 30_000);
});
