// Smoke test: deliver-sqlite starts the built `herald worker` child once on one SQLite file,
// warms it up and times runs through it, on a tiny size (`npm run bench -- deliver-sqlite`
// runs the real one).
import { describe, expect, it } from "vitest";
import { benches } from "../../bench/deliver.bench.js";

describe("bench: deliver-sqlite", () => {
  it("delivers every seeded delivery through one worker process, run after run", {
    timeout: 30_000,
  }, async () => {
    const { result, summary, table } = await benches["deliver-sqlite"]({ quick: true });
    const { herald, worker } = result as {
      herald: {
        median: number;
        runs: { delivered: number; received: number; cpuMsPerDelivery: number }[];
      };
      worker: { startCpuSeconds: number; warmup: { delivered: number }; exitCode: number | null };
    };
    expect(worker.warmup.delivered).toBe(500);
    expect(herald.runs).toHaveLength(2);
    for (const run of herald.runs) {
      // Counted per run, though the file keeps the rows of earlier runs.
      expect(run.delivered).toBe(1000);
      expect(run.received).toBeGreaterThanOrEqual(1000);
      expect(run.cpuMsPerDelivery).toBeGreaterThan(0);
    }
    expect(worker.startCpuSeconds).toBeGreaterThan(0);
    expect(worker.exitCode).toBe(0); // stopped gracefully (SIGTERM) after the last run
    expect(herald.median).toBeGreaterThan(0);
    expect(summary[0]?.benchmark).toContain("deliver-sqlite");
    expect(table).toContain("herald worker");
  });
});
