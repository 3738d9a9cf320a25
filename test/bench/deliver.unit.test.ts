// Smoke test: deliver-sqlite starts the built `herald worker` child once on one SQLite file and
// the bare undici sender (its ceiling) once, warms both up and times runs through them,
// interleaved, on a tiny size (`npm run bench -- deliver-sqlite` runs the real one).
import { describe, expect, it } from "vitest";
import { benches } from "../../bench/deliver.bench.js";

describe("bench: deliver-sqlite", () => {
  it("delivers every seeded delivery through one worker process, and the bare sender sends as many, run after run", {
    timeout: 30_000,
  }, async () => {
    const { result, summary, table } = await benches["deliver-sqlite"]({ quick: true });
    type Series = {
      median: number;
      runs: { delivered: number; received: number; cpuMsPerDelivery: number }[];
    };
    type Process = {
      startCpuSeconds: number;
      warmup: { delivered: number };
      exitCode: number | null;
    };
    const { herald, ceiling, worker, bare, ratio } = result as {
      herald: Series;
      ceiling: Series;
      worker: Process;
      bare: Process;
      ratio: number;
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
    // The ceiling: every request answered 2xx, once, and the process stopped gracefully.
    expect(bare.warmup.delivered).toBe(500);
    expect(ceiling.runs).toHaveLength(2);
    for (const run of ceiling.runs) {
      expect(run.delivered).toBe(1000);
      expect(run.received).toBe(1000);
    }
    expect(bare.exitCode).toBe(0);
    expect(ratio).toBeGreaterThan(0);
    expect(summary.map((row) => row.benchmark)).toEqual([
      "deliver-sqlite (1 worker process)",
      "deliver-sqlite vs bare undici sender (ceiling)",
    ]);
    expect(table).toContain("herald worker");
    expect(table).toContain("bare undici sender");
  });
});
