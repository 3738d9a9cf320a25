// `deliver-sqlite`: deliveries/s of one built `herald worker` process on SQLite to a local
// keep-alive receiver (absolute target ≥ 3,000/s). `deliver-pg`: the same on PostgreSQL with 1
// and 2 worker processes, against pg-boss 10 no-op jobs on the same database in the same run
// (target ≥ 1.0× pg-boss). Method and settings: docs/benchmarks.md. The worker processes are
// started once per contender and configuration, warmed up, and timed run after run (steady
// state of long-running workers); start-up is not in any figure.

import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BareBench, setUpBareBench } from "./deliverBare.js";
import type { GraphileSettings } from "./deliverGraphile.js";
import {
  median,
  perSecond,
  spreadOf,
  startReceiver,
  type WorkerSettings,
} from "./deliverHarness.js";
import {
  graphileSetName,
  heraldSetName,
  type IdleCpu,
  type PgBossSettings,
  type PgDeliverRun,
  pgBossSetName,
  setUpPgBench,
} from "./deliverPg.js";
import { type DeliverRun, setUpSqliteBench } from "./deliverSqlite.js";
import { formatTable } from "./measure.js";
import type { BenchFn } from "./types.js";

/** The worker's herald.yaml `worker:` keys for both benchmarks. */
export const WORKER_SETTINGS: WorkerSettings = {
  concurrency: 100,
  leaseMs: 60_000,
  pollIntervalMs: 100,
};

/**
 * graphile-worker as its performance page runs it (the configuration of its published figures):
 * 24 concurrent jobs, a pool of 25, a local queue of 500 jobs per fetch, job completions batched
 * with no added delay; new jobs arrive by LISTEN/NOTIFY, the poll (its default 2 s) is a fallback.
 */
export const GRAPHILE_SETTINGS: GraphileSettings = {
  concurrency: 24,
  maxPoolSize: 25,
  localQueueSize: 500,
  batchDelayMs: 0,
  pollIntervalMs: 2000,
};

/** pg-boss tuned for throughput as its docs suggest: big fetches, the shortest poll allowed. */
export const PG_BOSS_SETTINGS: PgBossSettings = {
  batchSize: 500,
  workersPerProcess: 1,
  pollingIntervalSeconds: 0.5,
};

export interface Series {
  name: string;
  runs: DeliverRun[];
  median: number;
  spread: number;
  cpuMsPerDelivery: number;
}

function series(name: string, runs: DeliverRun[]): Series {
  const rates = runs.map((r) => r.perSecond);
  return {
    name,
    runs,
    median: median(rates),
    spread: spreadOf(rates),
    cpuMsPerDelivery: median(runs.map((r) => r.cpuMsPerDelivery)),
  };
}

function row(s: Series, extra: Record<string, string> = {}): Record<string, string | number> {
  return {
    contender: s.name,
    "median /s": Math.round(s.median),
    spread: `${(s.spread * 100).toFixed(0)}%`,
    "runs /s": s.runs.map((r) => Math.round(r.perSecond)).join(", "),
    "worker CPU ms/delivery": s.cpuMsPerDelivery.toFixed(3),
    ...extra,
  };
}

/** Sizes: N per timed run, the warm-up's size, the timed runs (≥ 5 unless quick). */
export function deliverSizes(bench: "sqlite" | "pg", quick: boolean) {
  if (quick)
    return bench === "sqlite"
      ? { n: 1000, warmup: 500, runs: 2 }
      : { n: 500, warmup: 250, runs: 1 };
  return bench === "sqlite"
    ? { n: 8000, warmup: 4000, runs: 5 }
    : { n: 6000, warmup: 6000, runs: 5 };
}

/** The share of the bare sender's rate Herald's SQLite worker must reach. */
export const BARE_TARGET_RATIO = 0.6;

export async function runDeliverSqlite(options: { quick: boolean }) {
  const { n, warmup, runs } = deliverSizes("sqlite", options.quick);
  const receiver = await startReceiver();
  try {
    // Both processes up for the whole bench: warm-up run each, then interleaved timed runs.
    const bench = await setUpSqliteBench({ receiver, settings: WORKER_SETTINGS });
    let bare: BareBench | null = null;
    let exitCode: number | null = null;
    let bareExitCode: number | null = null;
    const timed: DeliverRun[] = [];
    const bareTimed: DeliverRun[] = [];
    let warm: DeliverRun;
    let bareWarm: DeliverRun;
    try {
      bare = await setUpBareBench({ receiver, concurrency: WORKER_SETTINGS.concurrency });
      warm = await bench.run(warmup);
      bareWarm = await bare.run(warmup);
      for (let i = 0; i < runs; i++) {
        timed.push(await bench.run(n));
        bareTimed.push(await bare.run(n));
      }
    } finally {
      exitCode = await bench.close();
      bareExitCode = (await bare?.close()) ?? null;
    }
    const herald = series("herald worker (SQLite, 1 process)", timed);
    const ceiling = series("bare undici sender (no storage, 1 process)", bareTimed);
    const ratio = herald.median / ceiling.median;
    return {
      result: {
        n,
        settings: WORKER_SETTINGS,
        method:
          "one long-running worker process and one bare sender process, warm-up run each, then interleaved timed runs (one file)",
        worker: { startCpuSeconds: bench.startCpuSeconds, warmup: warm, exitCode },
        bare: { startCpuSeconds: bare.startCpuSeconds, warmup: bareWarm, exitCode: bareExitCode },
        herald,
        ceiling,
        ratio,
        met: herald.median >= 3000,
        metCeiling: ratio >= BARE_TARGET_RATIO,
      },
      table: formatTable([
        row(herald, { "herald ÷ bare": ratio.toFixed(2) }),
        row(ceiling, { "herald ÷ bare": "—" }),
      ]),
    };
  } finally {
    await receiver.close();
  }
}

const deliverSqlite: BenchFn = async ({ quick }) => {
  const { result, table } = await runDeliverSqlite({ quick });
  return {
    result,
    table,
    summary: [
      {
        benchmark: "deliver-sqlite (1 worker process)",
        herald: perSecond(result.herald.median, "deliveries/s"),
        baseline: "—",
        ratio: "—",
        target: "≥ 3,000/s",
        met: result.met ? "yes" : "no",
      },
      {
        benchmark: "deliver-sqlite vs bare undici sender (ceiling)",
        herald: perSecond(result.herald.median, "deliveries/s"),
        baseline: perSecond(result.ceiling.median, "requests/s"),
        ratio: result.ratio.toFixed(2),
        target: `≥ ${BARE_TARGET_RATIO}× bare undici`,
        met: result.metCeiling ? "yes" : "no",
      },
    ],
  };
};

/** Median of the other sets' CPU while `runs` ran, % of one core, by set. */
function idleOf(runs: readonly PgDeliverRun[]): Record<string, IdleCpu> {
  const names = new Set(runs.flatMap((r) => Object.keys(r.idle)));
  const out: Record<string, IdleCpu> = {};
  for (const name of names) {
    const seen = runs.map((r) => r.idle[name]).filter((x) => x !== undefined);
    out[name] = {
      worker: median(seen.map((x) => x.worker)),
      backend: median(seen.map((x) => x.backend)),
    };
  }
  return out;
}

const percent = (x: number) => `${x.toFixed(1)}%`;

export async function runDeliverPg(options: { quick: boolean; url: string }) {
  const { n, warmup, runs } = deliverSizes("pg", options.quick);
  const processes = [1, 2];
  const receiver = await startReceiver();
  try {
    // Every set (Herald, pg-boss, graphile-worker; ×1 and ×2 each) starts once and runs for the
    // whole bench.
    const bench = await setUpPgBench({
      url: options.url,
      n,
      processes,
      settings: WORKER_SETTINGS,
      boss: PG_BOSS_SETTINGS,
      graphile: GRAPHILE_SETTINGS,
      receiver,
      configPath: join(tmpdir(), `herald-deliver-pg-${process.pid}.yaml`),
    });
    const heraldRuns = new Map<number, PgDeliverRun[]>(processes.map((c) => [c, []]));
    const bossRuns = new Map<number, PgDeliverRun[]>(processes.map((c) => [c, []]));
    const graphileRuns = new Map<number, PgDeliverRun[]>(processes.map((c) => [c, []]));
    const warmups: Record<string, PgDeliverRun> = {};
    let exitCodes: Record<string, (number | null)[]> = {};
    try {
      // Warm-up: one run through each set (also warms PostgreSQL's caches).
      for (const count of processes) {
        warmups[heraldSetName(count)] = await bench.herald(count, warmup);
        warmups[pgBossSetName(count)] = await bench.pgBoss(count, warmup);
        warmups[graphileSetName(count)] = await bench.graphile(count, warmup);
      }
      // Interleaved, run by run: Herald ×1, pg-boss ×1, graphile-worker ×1, Herald ×2, …
      for (let i = 0; i < runs; i++) {
        for (const count of processes) {
          heraldRuns.get(count)!.push(await bench.herald(count));
          bossRuns.get(count)!.push(await bench.pgBoss(count));
          graphileRuns.get(count)!.push(await bench.graphile(count));
        }
      }
    } finally {
      exitCodes = await bench.close();
    }
    const pairs = processes.map((count) => {
      const herald = pgSeries(
        heraldSetName(count),
        `herald worker ×${count}`,
        heraldRuns.get(count)!,
      );
      const boss = pgSeries(pgBossSetName(count), `pg-boss no-op ×${count}`, bossRuns.get(count)!);
      const graphile = pgSeries(
        graphileSetName(count),
        `graphile-worker no-op ×${count}`,
        graphileRuns.get(count)!,
      );
      return {
        processes: count,
        herald,
        pgBoss: boss,
        graphile,
        /** Herald ÷ pg-boss. */
        ratio: herald.median / boss.median,
        graphileRatio: herald.median / graphile.median,
      };
    });
    const all = [...heraldRuns.values(), ...bossRuns.values(), ...graphileRuns.values()].flat();
    // The other sets' CPU while a set ran, per set: median over the runs of the other sets.
    const idle = idleOf(all);
    return {
      result: {
        n,
        runs,
        warmup,
        settings: WORKER_SETTINGS,
        pgBoss: PG_BOSS_SETTINGS,
        graphile: GRAPHILE_SETTINGS,
        method:
          "all six process sets up for the whole bench, warm-up run each, then interleaved timed runs",
        startCpuSeconds: bench.startCpuSeconds,
        warmups,
        idle,
        exitCodes,
        pairs,
      },
      table: formatTable(
        pairs.flatMap((p) => [
          pgRow(p.herald, idle, {
            "herald ÷ pg-boss": p.ratio.toFixed(2),
            "herald ÷ graphile-worker": p.graphileRatio.toFixed(2),
          }),
          pgRow(p.pgBoss, idle, { "herald ÷ pg-boss": "—", "herald ÷ graphile-worker": "—" }),
          pgRow(p.graphile, idle, { "herald ÷ pg-boss": "—", "herald ÷ graphile-worker": "—" }),
        ]),
      ),
    };
  } finally {
    await receiver.close();
  }
}

interface PgSeries extends Series {
  set: string;
  runs: PgDeliverRun[];
  pgCpuMsPerDelivery: number;
  /** The other sets' CPU (workers + backends, % of one core) during this set's runs: median. */
  othersIdlePercent: number;
}

function pgSeries(set: string, name: string, runs: PgDeliverRun[]): PgSeries {
  return {
    ...series(name, runs),
    set,
    runs,
    pgCpuMsPerDelivery: median(runs.map((r) => r.pgCpuMsPerDelivery)),
    othersIdlePercent: median(
      runs.map((r) => Object.values(r.idle).reduce((sum, x) => sum + x.worker + x.backend, 0)),
    ),
  };
}

function pgRow(
  s: PgSeries,
  idle: Record<string, IdleCpu>,
  extra: Record<string, string>,
): Record<string, string | number> {
  const own = idle[s.set];
  return {
    ...row(s),
    "PG backend CPU ms/delivery": s.pgCpuMsPerDelivery.toFixed(3),
    "idle CPU while others run (worker + backend, % core)":
      own === undefined ? "—" : `${percent(own.worker)} + ${percent(own.backend)}`,
    "other sets' CPU during its runs (% core)": percent(s.othersIdlePercent),
    ...extra,
  };
}

const deliverPg: BenchFn = async ({ quick }) => {
  const url = process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
  const { result, table } = await runDeliverPg({ quick, url });
  return {
    result,
    table,
    summary: result.pairs.flatMap((p) => {
      const processes = `${p.processes} worker process${p.processes > 1 ? "es" : ""}`;
      const herald = perSecond(p.herald.median, "deliveries/s");
      return [
        {
          benchmark: `deliver-pg (${processes})`,
          herald,
          baseline: perSecond(p.pgBoss.median, "jobs/s"),
          ratio: p.ratio.toFixed(2),
          target: "≥ 1.0× pg-boss",
          met: p.ratio >= 1 ? ("yes" as const) : ("no" as const),
        },
        {
          benchmark: `deliver-pg vs graphile-worker (${processes})`,
          herald,
          baseline: perSecond(p.graphile.median, "jobs/s"),
          ratio: p.graphileRatio.toFixed(2),
          target: "≥ 1.0× graphile-worker",
          met: p.graphileRatio >= 1 ? ("yes" as const) : ("no" as const),
        },
      ];
    }),
  };
};

export const benches = { "deliver-sqlite": deliverSqlite, "deliver-pg": deliverPg };
