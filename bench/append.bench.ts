// `append-pg`: PostgreSQL event store appends, 16 concurrent writers, against Emmett
// (bench/append.ts).
import { runAppendBench } from "./append.js";
import type { BenchFn } from "./types.js";

const appendPg: BenchFn = async ({ quick }) => {
  const { result, table } = await runAppendBench(
    quick ? { runMs: 1000, runs: 3, warmupMs: 500 } : {},
  );
  const rate = (n: number) => `${Math.round(n).toLocaleString("en-US")} appends/s`;
  const [herald, emmett] = result.results;
  return {
    result,
    table,
    summary: [
      {
        benchmark: "append-pg",
        herald: rate(herald?.median ?? 0),
        baseline: rate(emmett?.median ?? 0),
        ratio: result.ratio.toFixed(2),
        target: `≥ ${result.target}×`,
        met: result.met ? "yes" : "no",
      },
    ],
  };
};

export const benches = { "append-pg": appendPg };
