// deliver-pg's runs: Herald's built `herald worker` (1 or 2 processes) against two job queues
// running no-op jobs on the same PostgreSQL server: pg-boss 10 (1 or 2 processes of
// bench/workers/pgBossWorker.mjs) and graphile-worker (1 or 2 processes of
// bench/workers/graphileWorker.mjs, in a database of its own). Every process set (Herald,
// pg-boss, graphile-worker, ×1 and ×2 each) is started once, before the first run, and stays up
// for the whole bench: the runs measure long-running, warmed-up worker processes. Each set has
// work of its own — Herald ×1 and ×2 each their own schema (the endpoint disabled until the
// run's N deliveries are seeded), pg-boss ×1 and ×2 each their own queue, graphile-worker ×1 and
// ×2 each their own schema (a run's N jobs added in one statement) — so only the set under test
// has anything due; the others idle meanwhile (their CPU is recorded). Every contender is timed
// by the same 20 ms poll of the database, from the first poll that saw any item done to the one
// that saw all N done.
import PgBoss from "pg-boss";
import { createPgPool, type PgPool } from "../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../packages/postgres/src/store/postgres/deliveryStore.js";
import { migratePostgres } from "../packages/postgres/src/store/postgres/migrate.js";
import {
  createGraphileDatabase,
  type GraphileQueue,
  type GraphileSettings,
  graphileQueue,
} from "./deliverGraphile.js";
import {
  type ChildWorker,
  cpuSecondsOf,
  createBenchEndpoint,
  ENDPOINT_ID,
  type Receiver,
  seedDeliveries,
  sleep,
  startGraphileWorker,
  startHeraldWorker,
  startPgBossWorker,
  type WorkerSettings,
  writeWorkerConfig,
} from "./deliverHarness.js";
import type { DeliverRun } from "./deliverSqlite.js";

export interface PgBossSettings {
  /** Jobs per fetch (`work({ batchSize })`). */
  batchSize: number;
  /** `work()` calls per process: pg-boss 10's way to run batches concurrently. */
  workersPerProcess: number;
  /** `pollingIntervalSeconds` (pg-boss's minimum is 0.5). */
  pollingIntervalSeconds: number;
}

/** CPU of the sets that had nothing due while another set ran, in % of one core. */
export interface IdleCpu {
  /** The set's worker processes. */
  worker: number;
  /** The set's PostgreSQL backends (by application_name). */
  backend: number;
}

export interface PgDeliverRun extends DeliverRun {
  /**
   * N over the time from the contender's first delivery (the receiver's first request; pg-boss:
   * its first batch; graphile-worker: its first job) to the poll that saw all N done. It counts every item of pg-boss's first
   * fetch (500 per process, done at once) but none of the poll interval that follows each
   * fetch, so it overstates a contender that works in timed batches: kept for comparison.
   */
  perSecondFromFirst: number;
  /** CPU of the contender's PostgreSQL backends during the run, per delivery (job), ms. */
  pgCpuMsPerDelivery: number;
  /** The other sets' CPU during this run (nothing due for them), by set name. */
  idle: Record<string, IdleCpu>;
}

/** A CPU reading of every set: worker processes by set, backends by pid (and their set). */
interface CpuReading {
  workers: Map<string, number>;
  backends: Map<number, { set: string; seconds: number }>;
}

interface ProcessSet {
  readonly name: string;
  readonly app: string;
  readonly workers: readonly ChildWorker[];
}

function workerCpu(workers: readonly ChildWorker[]): number {
  return workers.reduce((sum, w) => sum + (cpuSecondsOf(w.pid) ?? 0), 0);
}

export interface PgBench {
  /** Set names in start order (`herald ×1`, …, `pg-boss ×1`, …, `graphile-worker ×1`, …). */
  readonly sets: readonly string[];
  /** Worker CPU seconds each set used to start (until every process printed it was ready). */
  readonly startCpuSeconds: Record<string, number>;
  /** One run of `size` deliveries (default N) through the running Herald ×`processes` set. */
  herald(processes: number, size?: number): Promise<PgDeliverRun>;
  /** One run of `size` jobs (default N) through the running pg-boss ×`processes` set. */
  pgBoss(processes: number, size?: number): Promise<PgDeliverRun>;
  /** One run of `size` jobs (default N) through the running graphile-worker ×`processes` set. */
  graphile(processes: number, size?: number): Promise<PgDeliverRun>;
  /** Stops every process (SIGTERM, graceful), drops the schemas and graphile-worker's database: exit codes by set. */
  close(): Promise<Record<string, (number | null)[]>>;
}

export const heraldSetName = (processes: number) => `herald ×${processes}`;
export const pgBossSetName = (processes: number) => `pg-boss ×${processes}`;
export const graphileSetName = (processes: number) => `graphile-worker ×${processes}`;

/**
 * The earliest epoch-ms time (group 1 of `pattern`, global) the workers printed after their
 * stdout offsets `marks`, on this process's performance.now() clock; null if none did.
 */
function firstPrinted(
  workers: readonly ChildWorker[],
  marks: readonly number[],
  pattern: RegExp,
): number | null {
  const times = workers.flatMap((w, i) =>
    [...w.stdout().slice(marks[i]).matchAll(pattern)].map(
      (m) => Number(m[1]) - performance.timeOrigin,
    ),
  );
  return times.length === 0 ? null : Math.min(...times);
}

async function countOf(pool: PgPool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

export async function setUpPgBench(options: {
  url: string;
  n: number;
  /** Process counts, one Herald set and one pg-boss set each (default [1, 2]). */
  processes?: readonly number[];
  settings: WorkerSettings;
  boss: PgBossSettings;
  graphile: GraphileSettings;
  receiver: Receiver;
  configPath: string;
}): Promise<PgBench> {
  const { url, receiver } = options;
  const counts = options.processes ?? [1, 2];
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const bossSchema = `bench_pgboss_${suffix}`;
  writeWorkerConfig(options.configPath, options.settings);
  // The bench's own connection for counting and reading pg_stat_activity.
  const pool = createPgPool({ connectionString: url, max: 2 });
  // graphile-worker's own database, and the bench's connection to it for counting.
  const graphileDb = await createGraphileDatabase(
    pool,
    url,
    `herald_bench_graphile_${suffix}`,
  ).catch(async (error: unknown) => {
    await pool.end();
    throw error;
  });
  const boss = new PgBoss({
    connectionString: url,
    schema: bossSchema,
    max: 4,
    supervise: false,
    schedule: false,
  });
  boss.on("error", () => {});
  await boss.start();

  const sets: ProcessSet[] = [];
  const heraldSets = new Map<
    number,
    ProcessSet & {
      schema: string;
      pool: PgPool;
      store: ReturnType<typeof createPostgresDeliveryStore>;
    }
  >();
  const bossSets = new Map<number, ProcessSet & { queue: string }>();
  const graphileSets = new Map<number, ProcessSet & { queue: GraphileQueue }>();
  let graphileRuns = 0;
  const startCpuSeconds: Record<string, number> = {};

  async function close(): Promise<Record<string, (number | null)[]>> {
    const codes: Record<string, (number | null)[]> = {};
    await Promise.all(
      sets.map(async (set) => {
        codes[set.name] = await Promise.all(set.workers.map((w) => w.stop()));
      }),
    );
    await boss.stop({ graceful: false, wait: true });
    for (const set of heraldSets.values()) {
      await set.pool.end();
      await pool.query(`DROP SCHEMA IF EXISTS ${set.schema} CASCADE`);
    }
    await pool.query(`DROP SCHEMA IF EXISTS ${bossSchema} CASCADE`);
    await graphileDb.drop();
    await pool.end();
    return codes;
  }

  try {
    // Schemas, endpoints (disabled: nothing due) and queues first, then every process.
    const starts: Promise<void>[] = [];
    for (const count of counts) {
      const schema = `bench_herald${count}_${suffix}`;
      const app = `bench_herald${count}_${suffix}`;
      const setPool = createPgPool({ connectionString: url, schema, max: 4 });
      await migratePostgres(setPool, { schema });
      const store = createPostgresDeliveryStore(setPool);
      await createBenchEndpoint(store, receiver.url);
      await store.setEndpointEnabled(ENDPOINT_ID, false, "bench: between runs");
      const workers: ChildWorker[] = [];
      const set = { name: heraldSetName(count), app, workers, schema, pool: setPool, store };
      heraldSets.set(count, set);
      sets.push(set);
      for (let i = 0; i < count; i++) {
        starts.push(
          startHeraldWorker(["--db", url, "--schema", schema, "--config", options.configPath], {
            env: { PGAPPNAME: app },
          }).then((w) => {
            workers.push(w);
          }),
        );
      }
    }
    for (const count of counts) {
      const queue = `bench_${count}`;
      const app = `bench_pgboss${count}_${suffix}`;
      await boss.createQueue(queue);
      const workers: ChildWorker[] = [];
      const set = { name: pgBossSetName(count), app, workers, queue };
      bossSets.set(count, set);
      sets.push(set);
      for (let i = 0; i < count; i++) {
        starts.push(
          startPgBossWorker({
            BOSS_URL: url,
            BOSS_SCHEMA: bossSchema,
            BOSS_QUEUE: queue,
            BOSS_BATCH: String(options.boss.batchSize),
            BOSS_WORKERS: String(options.boss.workersPerProcess),
            BOSS_POLL_S: String(options.boss.pollingIntervalSeconds),
            PGAPPNAME: app,
          }).then((w) => {
            workers.push(w);
          }),
        );
      }
    }
    for (const count of counts) {
      const app = `bench_graphile${count}_${suffix}`;
      const queue = await graphileQueue(graphileDb, `graphile_${count}`, `bench_${count}`);
      const workers: ChildWorker[] = [];
      const set = { name: graphileSetName(count), app, workers, queue };
      graphileSets.set(count, set);
      sets.push(set);
      const g = options.graphile;
      for (let i = 0; i < count; i++) {
        starts.push(
          startGraphileWorker({
            GRAPHILE_URL: graphileDb.url,
            GRAPHILE_SCHEMA: queue.schema,
            GRAPHILE_TASK: queue.task,
            GRAPHILE_CONCURRENCY: String(g.concurrency),
            GRAPHILE_POOL: String(g.maxPoolSize),
            GRAPHILE_LOCAL_QUEUE: String(g.localQueueSize),
            GRAPHILE_BATCH_DELAY_MS: String(g.batchDelayMs),
            GRAPHILE_POLL_MS: String(g.pollIntervalMs),
            PGAPPNAME: app,
          }).then((w) => {
            workers.push(w);
          }),
        );
      }
    }
    const started = await Promise.allSettled(starts);
    const failed = started.find((s) => s.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    for (const set of sets) startCpuSeconds[set.name] = workerCpu(set.workers);
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }

  const apps = sets.map((s) => s.app);
  const setOfApp = new Map(sets.map((s) => [s.app, s.name]));

  async function readBackends(into: CpuReading["backends"]): Promise<void> {
    const { rows } = await pool.query<{ pid: number; app: string }>(
      "SELECT pid, application_name AS app FROM pg_stat_activity WHERE application_name = ANY($1)",
      [apps],
    );
    for (const { pid, app } of rows) {
      const seconds = cpuSecondsOf(pid);
      if (seconds !== null) into.set(pid, { set: setOfApp.get(app)!, seconds });
    }
  }

  async function reading(): Promise<CpuReading> {
    const backends: CpuReading["backends"] = new Map();
    await readBackends(backends);
    return { workers: new Map(sets.map((s) => [s.name, workerCpu(s.workers)])), backends };
  }

  /**
   * What a run that did not finish leaves to read: each process of the set (alive or its exit,
   * the end of its stderr) and what `diagnose` reads from the set's tables.
   */
  async function stateOf(set: ProcessSet, diagnose?: () => Promise<string>): Promise<string> {
    const lines = set.workers.map((w, i) => {
      const { exitCode, signalCode } = w.child;
      const state =
        exitCode === null && signalCode === null ? "running" : `exited ${exitCode ?? signalCode}`;
      return `process ${i + 1} (pid ${w.pid}): ${state}; stderr ends: ${w.stderr().slice(-2000) || "(empty)"}`;
    });
    if (diagnose !== undefined) {
      lines.push(await diagnose().catch((error: unknown) => `diagnose failed: ${String(error)}`));
    }
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity",
    );
    lines.push(`connections to PostgreSQL: ${rows[0]!.n}`);
    return lines.join("\n");
  }

  /**
   * Makes the run's work due (`release`), then polls `doneCount` (the set's count of done
   * items) every 20 ms until it reaches `n`. The backends' CPU is sampled every 100 ms (a backend's
   * last reading counts: the pools close idle connections after 10 s and open new ones).
   */
  async function timedRun(
    set: ProcessSet,
    n: number,
    doneCount: () => Promise<number>,
    release: () => Promise<void>,
    diagnose?: () => Promise<string>,
  ): Promise<{ run: PgDeliverRun; start: number; end: number }> {
    const before = await reading();
    const last: CpuReading["backends"] = new Map(before.backends);
    const start = performance.now();
    await release();
    const deadline = performance.now() + Math.max(60_000, n * 20);
    let firstSeenAt: number | null = null;
    let firstSeenCount = 0;
    let done = 0;
    let end = 0;
    for (let poll = 0; ; poll++) {
      done = await doneCount();
      end = performance.now();
      if (done > 0 && firstSeenAt === null) {
        firstSeenAt = end;
        firstSeenCount = done;
      }
      if (done >= n) break;
      if (poll % 5 === 0) await readBackends(last);
      if (end > deadline) {
        throw new Error(`${set.name}: only ${done} of ${n} done\n${await stateOf(set, diagnose)}`);
      }
      await sleep(20);
    }
    const workersAfter = new Map(sets.map((s) => [s.name, workerCpu(s.workers)]));
    await readBackends(last);
    const backendCpu = new Map(sets.map((s) => [s.name, 0]));
    for (const [pid, { set: name, seconds }] of last) {
      backendCpu.set(
        name,
        backendCpu.get(name)! + seconds - (before.backends.get(pid)?.seconds ?? 0),
      );
    }
    const wall = (end - start) / 1000;
    const idle: Record<string, IdleCpu> = {};
    for (const other of sets) {
      if (other === set) continue;
      const worker = workersAfter.get(other.name)! - before.workers.get(other.name)!;
      idle[other.name] = {
        worker: (worker / wall) * 100,
        backend: (backendCpu.get(other.name)! / wall) * 100,
      };
    }
    const cpu = workersAfter.get(set.name)! - before.workers.get(set.name)!;
    const measured = firstSeenAt !== null && end > firstSeenAt && firstSeenCount < n;
    return {
      start,
      end,
      run: {
        perSecond: measured ? (n - firstSeenCount) / ((end - firstSeenAt!) / 1000) : n / wall,
        perSecondFromFirst: 0,
        seconds: measured ? (end - firstSeenAt!) / 1000 : wall,
        delivered: done,
        received: done,
        cpuMsPerDelivery: (cpu * 1000) / n,
        pgCpuMsPerDelivery: (backendCpu.get(set.name)! * 1000) / n,
        idle,
      },
    };
  }

  /**
   * The set's workers keep polling between runs, and a claim (rows of `deliveries` locked, the
   * message and endpoint read) can deadlock with the TRUNCATE's table locks; PostgreSQL then
   * cancels one of the two. A cancelled claim is retried by its worker at its next poll; a
   * cancelled TRUNCATE is retried here.
   */
  async function truncateBetweenRuns(pool: PgPool): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await pool.query("TRUNCATE attempts, deliveries, messages CASCADE");
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== "40P01" || attempt >= 10) throw error;
        await sleep(50 * attempt);
      }
    }
  }

  async function herald(processes: number, n = options.n): Promise<PgDeliverRun> {
    const set = heraldSets.get(processes);
    if (set === undefined) throw new Error(`no Herald set of ${processes} processes`);
    await truncateBetweenRuns(set.pool);
    await seedDeliveries(set.store, n);
    receiver.reset();
    const { run, end } = await timedRun(
      set,
      n,
      () =>
        countOf(
          pool,
          `SELECT count(*) AS n FROM ${set.schema}.deliveries WHERE status = 'delivered'`,
        ),
      async () => {
        await set.store.setEndpointEnabled(ENDPOINT_ID, true);
      },
    );
    await set.store.setEndpointEnabled(ENDPOINT_ID, false, "bench: between runs");
    const first = receiver.firstAt() ?? end;
    return { ...run, received: receiver.count(), perSecondFromFirst: n / ((end - first) / 1000) };
  }

  async function pgBoss(processes: number, n = options.n): Promise<PgDeliverRun> {
    const set = bossSets.get(processes);
    if (set === undefined) throw new Error(`no pg-boss set of ${processes} processes`);
    // The previous run's completed jobs go (as Herald's tables are truncated).
    await pool.query(
      `DO $$ DECLARE t text; BEGIN
         SELECT partition_name INTO t FROM ${bossSchema}.queue WHERE name = '${set.queue}';
         EXECUTE format('TRUNCATE ${bossSchema}.%I', t);
       END $$`,
    );
    const marks = set.workers.map((w) => w.stdout().length);
    const { run, end } = await timedRun(
      set,
      n,
      () =>
        countOf(
          pool,
          `SELECT count(*) AS n FROM ${bossSchema}.job WHERE name = $1 AND state = 'completed'`,
          [set.queue],
        ),
      // The run's jobs at once: one insert (one statement); the workers' next poll fetches them.
      async () => {
        await boss.insert(
          Array.from({ length: n }, (_, i) => ({ name: set.queue, data: { n: i } })),
        );
      },
    );
    // Each process prints `batch <epoch ms> <jobs>` per batch its handler gets.
    const first = firstPrinted(set.workers, marks, /^batch (\d+) /gm) ?? end;
    return { ...run, perSecondFromFirst: n / ((end - first) / 1000) };
  }

  async function graphile(processes: number, n = options.n): Promise<PgDeliverRun> {
    const set = graphileSets.get(processes);
    if (set === undefined) throw new Error(`no graphile-worker set of ${processes} processes`);
    const runId = graphileRuns++;
    const marks = set.workers.map((w) => w.stdout().length);
    // Completed jobs are deleted: what is left in the table is what is not done yet.
    const { run, end } = await timedRun(
      set,
      n,
      async () => n - (await countOf(graphileDb.pool, set.queue.remainingSql)),
      () => set.queue.add(runId, n),
      async () => {
        const { rows } = await graphileDb.pool.query(set.queue.stateSql);
        return `${set.queue.schema}'s jobs: ${JSON.stringify(rows)}`;
      },
    );
    // Each process prints `first <epoch ms> <run>` for the first job of a run it runs.
    const runLine = new RegExp(`^first (\\d+) ${runId}$`, "gm");
    const first = firstPrinted(set.workers, marks, runLine) ?? end;
    return { ...run, perSecondFromFirst: n / ((end - first) / 1000) };
  }

  return { sets: sets.map((s) => s.name), startCpuSeconds, herald, pgBoss, graphile, close };
}
