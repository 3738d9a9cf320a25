// Smoke test: the soak benchmark seeds in phases while one worker process runs, samples its
// RSS and times claims between phases, on a tiny size (--quick: 5,000 deliveries).
import { describe, expect, it } from "vitest";
import { runSoak } from "../../bench/soak.bench.js";

describe("bench: soak", () => {
  it("delivers every phase and samples RSS and claim latency", { timeout: 30_000 }, async () => {
    const result = await runSoak({ total: 3000, phase: 1000, budgetMs: 20_000, claimSamples: 5 });
    expect(result.delivered).toBeGreaterThanOrEqual(3000);
    expect(result.reachedTotal).toBe(true);
    expect(result.phases).toHaveLength(3);
    expect(result.samples.length).toBeGreaterThan(0);
    expect(result.rssMaxMb).toBeGreaterThan(10);
    for (const phase of result.phases) {
      expect(phase.claimP99Ms).toBeGreaterThan(0);
      expect(phase.claimWorkP99Ms).toBeGreaterThan(0);
    }
  });
});
