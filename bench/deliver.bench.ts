// `deliver-sqlite`: deliveries/s of one built `herald worker` process on SQLite to a local
// keep-alive receiver (absolute target ≥ 3,000/s). `deliver-pg`: the same on PostgreSQL with 1
// and 2 worker processes, against pg-boss 10 no-op jobs on the same database in the same run
// (target ≥ 1.0× pg-boss). Method and settings: bench/notes-deliver.md.

import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  median,
  perSecond,
  spreadOf,
  startReceiver,
  type WorkerSettings,
} from "./deliverHarness.js";
import { type PgBossSettings, setUpPgBench } from "./deliverPg.js";
import { type DeliverRun, runSqliteOnce } from "./deliverSqlite.js";
import { formatTable } from "./measure.js";
import type { BenchFn } from "./types.js";

/** The worker's herald.yaml `worker:` keys for both benchmarks. */
export const WORKER_SETTINGS: WorkerSettings = {
  concurrency: 100,
  leaseMs: 60_000,
  pollIntervalMs: 100,
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

export async function runDeliverSqlite(options: { quick: boolean }) {
  const n = options.quick ? 1000 : 8000;
  const runs = options.quick ? 2 : 5;
  const receiver = await startReceiver();
  try {
    await runSqliteOnce({ n: Math.ceil(n / 4), receiver, settings: WORKER_SETTINGS }); // warm-up
    const timed: DeliverRun[] = [];
    for (let i = 0; i < runs; i++) {
      timed.push(await runSqliteOnce({ n, receiver, settings: WORKER_SETTINGS }));
    }
    const herald = series("herald worker (SQLite, 1 process)", timed);
    return {
      result: { n, settings: WORKER_SETTINGS, herald, met: herald.median >= 3000 },
      table: formatTable([row(herald)]),
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
    ],
  };
};

export async function runDeliverPg(options: { quick: boolean; url: string }) {
  const n = options.quick ? 500 : 3000;
  const runs = options.quick ? 1 : 5;
  const receiver = await startReceiver();
  const bench = await setUpPgBench({
    url: options.url,
    n,
    settings: WORKER_SETTINGS,
    boss: PG_BOSS_SETTINGS,
    receiver,
    configPath: join(tmpdir(), `herald-deliver-pg-${process.pid}.yaml`),
  });
  try {
    const processes = [1, 2];
    // Warm-up: one run of each contender (also warms PostgreSQL's caches).
    for (const count of processes) {
      await bench.herald(count, Math.ceil(n / 4));
      await bench.pgBoss(count, Math.ceil(n / 4));
    }
    const heraldRuns = new Map<number, DeliverRun[]>(processes.map((c) => [c, []]));
    const bossRuns = new Map<number, DeliverRun[]>(processes.map((c) => [c, []]));
    // Interleaved, run by run: Herald 1, pg-boss 1, Herald 2, pg-boss 2, …
    for (let i = 0; i < runs; i++) {
      for (const count of processes) {
        heraldRuns.get(count)!.push(await bench.herald(count));
        bossRuns.get(count)!.push(await bench.pgBoss(count));
      }
    }
    const pairs = processes.map((count) => {
      const herald = series(`herald worker ×${count}`, heraldRuns.get(count)!);
      const boss = series(`pg-boss no-op ×${count}`, bossRuns.get(count)!);
      return { processes: count, herald, pgBoss: boss, ratio: herald.median / boss.median };
    });
    return {
      result: { n, settings: WORKER_SETTINGS, pgBoss: PG_BOSS_SETTINGS, pairs },
      table: formatTable(
        pairs.flatMap((p) => [
          row(p.herald, { "herald ÷ pg-boss": p.ratio.toFixed(2) }),
          row(p.pgBoss, { "herald ÷ pg-boss": "—" }),
        ]),
      ),
    };
  } finally {
    await bench.close();
    await receiver.close();
  }
}

const deliverPg: BenchFn = async ({ quick }) => {
  const url = process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
  const { result, table } = await runDeliverPg({ quick, url });
  return {
    result,
    table,
    summary: result.pairs.map((p) => ({
      benchmark: `deliver-pg (${p.processes} worker process${p.processes > 1 ? "es" : ""})`,
      herald: perSecond(p.herald.median, "deliveries/s"),
      baseline: perSecond(p.pgBoss.median, "jobs/s"),
      ratio: p.ratio.toFixed(2),
      target: "≥ 1.0× pg-boss",
      met: p.ratio >= 1 ? ("yes" as const) : ("no" as const),
    })),
  };
};

export const benches = { "deliver-sqlite": deliverSqlite, "deliver-pg": deliverPg };
