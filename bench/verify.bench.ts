// `verify`: verifyWebhook against standardwebhooks and the raw node:crypto floor (bench/verify.ts).
import type { BenchFn } from "./types.js";
import { runVerifyBench } from "./verify.js";

const verify: BenchFn = async ({ quick }) => {
  const { result, table } = await runVerifyBench(quick ? { iterations: 500, runs: 3 } : {});
  const ops = (n: number) => `${Math.round(n).toLocaleString("en-US")} verify/s`;
  const [herald, sw, raw] = result.results;
  return {
    result,
    table,
    summary: [
      {
        benchmark: "verify (vs standardwebhooks)",
        herald: ops(herald?.median ?? 0),
        baseline: ops(sw?.median ?? 0),
        ratio: result.ratios.vsStandardwebhooks.toFixed(2),
        target: "≥ 3×",
        met: result.met.vsStandardwebhooks ? "yes" : "no",
      },
      {
        benchmark: "verify (vs raw node:crypto)",
        herald: ops(herald?.median ?? 0),
        baseline: ops(raw?.median ?? 0),
        ratio: result.ratios.vsRawCrypto.toFixed(2),
        target: "≥ 0.75×",
        met: result.met.vsRawCrypto ? "yes" : "no",
      },
    ],
  };
};

export const benches = { verify };
