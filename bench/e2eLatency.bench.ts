// `e2e-latency`: a signed webhook POSTed to the built Herald until its delivery reaches a local
// receiver, open loop at 200/s, 1,000/s and the saturation rate, on SQLite (`herald serve`) and
// PostgreSQL (serve --no-worker + 1 or 2 `herald worker`), against the same-run floor
// (bench/e2eLatency.ts).
import { type E2eLatencyResult, type E2eStats, runE2eLatency, TARGETS } from "./e2eLatency.js";
import type { BenchFn, SummaryRow } from "./types.js";

const ms = (n: number) => `${n.toFixed(1)} ms`;

function find(result: E2eLatencyResult, target: string, rate: number): E2eStats | undefined {
  return result.steady.find((stats) => stats.target === target && stats.rate === rate);
}

/** Per setup: p99 at 200/s and 1,000/s against their bounds, p50 at 200/s against the floor. */
export function e2eSummary(result: E2eLatencyResult): SummaryRow[] {
  const setups = [...new Set(result.steady.map((stats) => stats.target))].filter(
    (target) => target !== "floor",
  );
  const rates = Object.keys(TARGETS.p99Ms).map(Number);
  return setups.flatMap((setup): SummaryRow[] => {
    const measured = rates.map((rate) => ({
      rate,
      bound: TARGETS.p99Ms[rate]!,
      herald: find(result, setup, rate),
      floor: find(result, "floor", rate),
    }));
    const p99Met = measured.every(
      (m) => m.herald !== undefined && m.herald.lost === 0 && m.herald.p99 <= m.bound,
    );
    const at200 = measured.find((m) => m.rate === 200);
    const p50 = at200?.herald?.p50;
    const floorP50 = at200?.floor?.p50;
    const p50Met =
      p50 !== undefined && floorP50 !== undefined && p50 <= floorP50 + TARGETS.p50OverFloorMs;
    const list = (pick: (m: (typeof measured)[number]) => string) =>
      measured.map((m) => `${pick(m)} @${m.rate.toLocaleString("en-US")}/s`).join(", ");
    return [
      {
        benchmark: `e2e-latency ${setup} p99`,
        herald: list((m) => (m.herald === undefined ? "—" : ms(m.herald.p99))),
        baseline: `floor ${list((m) => (m.floor === undefined ? "—" : ms(m.floor.p99)))}`,
        ratio: "—",
        target: `no loss, ${list((m) => `≤ ${m.bound} ms`)}`,
        met: p99Met ? "yes" : "no",
      },
      {
        benchmark: `e2e-latency ${setup} p50 @200/s`,
        herald: p50 === undefined ? "—" : `p50 ${ms(p50)}`,
        baseline: floorP50 === undefined ? "—" : `floor p50 ${ms(floorP50)}`,
        ratio:
          p50 === undefined || floorP50 === undefined || floorP50 === 0
            ? "—"
            : (p50 / floorP50).toFixed(2),
        target: `≤ floor + ${TARGETS.p50OverFloorMs} ms`,
        met: p50Met ? "yes" : "no",
      },
    ];
  });
}

const e2eLatency: BenchFn = async ({ quick }) => {
  const { result, table } = await runE2eLatency({ quick });
  return { result, table, summary: e2eSummary(result) };
};

export const benches = { "e2e-latency": e2eLatency };
