// `ingest-sqlite`, `ingest-pg`: POST /webhooks/:source on the built `herald serve` (SQLite file /
// PostgreSQL schema) against a bare Fastify route, under autocannon (bench/ingest.ts).
import { type IngestBenchResult, type IngestDialect, runIngestBench } from "./ingest.js";
import type { BenchFn, BenchOutput } from "./types.js";

const rps = (n: number) => `${Math.round(n).toLocaleString("en-US")} req/s`;

export function ingestSummary(result: IngestBenchResult): BenchOutput["summary"] {
  const name = result.benchmark;
  const { targets, met } = result;
  return [
    {
      benchmark: `${name} (vs bare Fastify)`,
      herald: rps(result.herald.median),
      baseline: rps(result.bare.median),
      ratio: result.ratio.toFixed(2),
      target: `≥ ${targets.ratio}×`,
      met: met.ratio ? "yes" : "no",
    },
    {
      benchmark: `${name} p99`,
      herald: `p99 ${result.herald.p99Median.toFixed(1)} ms`,
      baseline: "—",
      ratio: "—",
      target: targets.p99Ms === null ? "—" : `≤ ${targets.p99Ms} ms`,
      met: met.p99 === null ? "—" : met.p99 ? "yes" : "no",
    },
  ];
}

function ingestBench(dialect: IngestDialect): BenchFn {
  return async ({ quick }) => {
    const { result, table } = await runIngestBench({
      dialect,
      ...(quick ? { runs: 2, durationS: 1, warmupS: 1 } : {}),
      ...(process.env.HERALD_BENCH_CPU_PROF === undefined
        ? {}
        : { cpuProfileDir: process.env.HERALD_BENCH_CPU_PROF }),
    });
    return { result, table, summary: ingestSummary(result) };
  };
}

export const benches = {
  "ingest-sqlite": ingestBench("sqlite"),
  "ingest-pg": ingestBench("postgres"),
};
