// Smoke test: the verify benchmark starts, times every contender and reports ratios, on a
// tiny size (benchmarks themselves are not part of npm test; `npm run bench` runs them).
import { describe, expect, it } from "vitest";
import { runVerifyBench } from "../../bench/verify.js";

describe("bench: verify", () => {
  it("produces a result with a median per contender and both ratios", async () => {
    const { result, table } = await runVerifyBench({ iterations: 50, runs: 2 });
    expect(result.results.map((r) => r.name)).toEqual([
      "herald verifyWebhook",
      "standardwebhooks verify",
      "node:crypto HMAC + timingSafeEqual",
    ]);
    for (const r of result.results) {
      expect(r.runs).toHaveLength(2);
      expect(r.median).toBeGreaterThan(0);
    }
    expect(result.ratios.vsStandardwebhooks).toBeGreaterThan(0);
    expect(result.ratios.vsRawCrypto).toBeGreaterThan(0);
    expect(table).toContain("herald verifyWebhook");
  });
});
