// `scale`: the curve of throughput, claim latency and disk use over the deliveries table's size
// (bench/scale.ts), and its slope: the largest size's figures over the smallest's, per store.
// Flat means within 2×: throughput at the largest size at least half the smallest's, and claim
// p99 at most twice it.
import { formatTable } from "./measure.js";
import { runScale, type ScalePoint, type ScaleResult } from "./scale.js";
import type { BackendName } from "./scaleBackends.js";
import type { BenchFn, SummaryRow } from "./types.js";

const PG_URL = process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
/**
 * PostgreSQL's 10^7 point, left out with `HERALD_BENCH_SCALE_10M=0`: its rows take about 5.6 GB
 * on disk (≈ 600 bytes per delivery, measured), and seeding them 100–140 s on a busy 2-core
 * machine.
 */
const PG_10M = process.env.HERALD_BENCH_SCALE_10M !== "0";
/**
 * Claims pooled per size, from as many runs with the probe as it takes (at most
 * `MAX_PROBE_RUNS`): a run of 10,000 deliveries lasts 1–3 s and the probe claims every 100 ms,
 * so one run's p99 would be its slowest claim.
 */
const MIN_CLAIMS = 100;
const MAX_PROBE_RUNS = 12;
/** Flat: the largest size within this factor of the smallest. */
export const FLAT_FACTOR = 2;

export interface ScaleSlope {
  backend: BackendName;
  from: number;
  to: number;
  /** Throughput at the largest size ÷ at the smallest. */
  throughput: number;
  /** Claim p99 at the largest size ÷ at the smallest. */
  claimP99: number;
  flat: boolean;
}

export function slopes(points: readonly ScalePoint[]): ScaleSlope[] {
  const backends = [...new Set(points.map((p) => p.backend))];
  return backends.flatMap((backend) => {
    const curve = points.filter((p) => p.backend === backend);
    const first = curve[0];
    const last = curve.at(-1);
    if (first === undefined || last === undefined || first === last) return [];
    const throughput = last.perSecond / first.perSecond;
    const claimP99 = last.claimP99Ms / Math.max(0.001, first.claimP99Ms);
    return [
      {
        backend,
        from: first.size,
        to: last.size,
        throughput,
        claimP99,
        flat: throughput >= 1 / FLAT_FACTOR && claimP99 <= FLAT_FACTOR,
      },
    ];
  });
}

const count = (n: number) => n.toLocaleString("en-US");
const power = (n: number) => {
  const exponent = Math.log10(n);
  return Number.isInteger(exponent) ? `10^${exponent}` : count(n);
};

function summaryRows(result: ScaleResult): SummaryRow[] {
  return slopes(result.points).map((s) => ({
    benchmark: `scale (${s.backend === "postgres" ? "PostgreSQL" : "SQLite"}, ${power(s.from)} → ${power(s.to)} rows)`,
    herald: `throughput ×${s.throughput.toFixed(2)}, claim p99 ×${s.claimP99.toFixed(2)}`,
    baseline: "—",
    ratio: "—",
    target: `flat: both within ${FLAT_FACTOR}×`,
    met: s.flat ? "yes" : "no",
  }));
}

export async function runScaleBench(options: { quick: boolean; url?: string }) {
  const url = options.url ?? PG_URL;
  const result = await runScale(
    options.quick
      ? {
          pgUrl: url,
          pgDatabase: "herald_bench_scale_quick",
          pgSizes: [1000, 10_000],
          sqliteSizes: [1000, 10_000],
          n: 500,
          minClaims: 1000,
          maxProbeRuns: 2,
          warmup: 100,
        }
      : {
          pgUrl: url,
          pgDatabase: "herald_bench_scale",
          pgSizes: PG_10M ? [10_000, 1_000_000, 10_000_000] : [10_000, 1_000_000],
          sqliteSizes: [10_000, 1_000_000],
          n: 10_000,
          minClaims: MIN_CLAIMS,
          maxProbeRuns: MAX_PROBE_RUNS,
          warmup: 1000,
        },
  );
  const table = formatTable(
    result.points.map((p) => ({
      store: p.backend,
      "background rows": power(p.size),
      "table rows at start": count(p.tableRows),
      "seed s": p.seedSeconds.toFixed(1),
      "deliveries/s": Math.round(p.perSecond),
      "probe runs": p.runs,
      "without jobs": Math.round(p.quietPerSecond),
      "claim p50 ms": p.claimP50Ms.toFixed(2),
      "claim p99 ms": p.claimP99Ms.toFixed(2),
      claims: p.claims,
      "messages pruned in run": count(p.pruned),
      "prune batch p50/p99 ms": `${p.pruneP50Ms.toFixed(1)} / ${p.pruneP99Ms.toFixed(1)}`,
      "disk MB": (p.diskBytes / 1024 / 1024).toFixed(0),
      "bytes/delivery": Math.round(p.bytesPerDelivery),
    })),
  );
  const slopeLines = slopes(result.points).map(
    (s) =>
      `${s.backend}: ${power(s.from)} → ${power(s.to)} rows: throughput ×${s.throughput.toFixed(2)}, claim p99 ×${s.claimP99.toFixed(2)}: ${s.flat ? "flat" : "not flat"} (within ${FLAT_FACTOR}×)`,
  );
  return {
    result,
    table: `${table}\n\n${slopeLines.join("\n")}\nwhole run ${result.seconds.toFixed(0)} s`,
    summary: summaryRows(result),
  };
}

const scale: BenchFn = (options) => runScaleBench(options);

export const benches = { scale };
