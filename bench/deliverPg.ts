// deliver-pg's timed runs: Herald's built `herald worker` (1 or 2 processes) on one PostgreSQL
// schema, against pg-boss 10 no-op jobs (1 or 2 processes of bench/workers/pgBossWorker.mjs) on
// its own schema of the same database. Both are seeded before their workers start; both are
// timed from the first delivery (job) to the moment the database says all N are done.
import PgBoss from "pg-boss";
import { createPgPool, type PgPool } from "../src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../src/store/postgres/deliveryStore.js";
import { migratePostgres } from "../src/store/postgres/migrate.js";
import {
  type ChildWorker,
  cpuSecondsOf,
  createBenchEndpoint,
  ENDPOINT_ID,
  type Receiver,
  seedDeliveries,
  sleep,
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

/** What a run's poll of the database saw: done counts over time and the backends' CPU. */
interface Progress {
  done: number;
  /** performance.now() and the count of the first poll that saw at least one done. */
  firstSeenAt: number | null;
  firstSeenCount: number;
  /** performance.now() of the poll that saw all N done. */
  endAt: number;
  /** CPU seconds of the contender's PostgreSQL backends (application_name) during the run. */
  backendCpuSeconds: number;
}

/** The contender's backends (by application_name) and their CPU seconds so far. */
async function backendCpu(pool: PgPool, app: string): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
    [app],
  );
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    const seconds = cpuSecondsOf(pid);
    if (seconds !== null) cpu.set(pid, seconds);
  }
  return cpu;
}

/**
 * Polls `sql` (a count of done items) every 20 ms until it reaches `n`, and samples the CPU of
 * the contender's backends meanwhile (a backend's last reading counts: they end with their
 * worker). Backends are on this machine (PostgreSQL's /proc/<pid>/stat).
 */
async function waitForCount(
  pool: PgPool,
  sql: string,
  params: unknown[],
  n: number,
  timeoutMs: number,
  app: string,
): Promise<Progress> {
  const deadline = performance.now() + timeoutMs;
  const before = await backendCpu(pool, app);
  const last = new Map<number, number>();
  let firstSeenAt: number | null = null;
  let firstSeenCount = 0;
  for (;;) {
    const { rows } = await pool.query<{ n: string }>(sql, params);
    const now = performance.now();
    const done = Number(rows[0]!.n);
    for (const [pid, seconds] of await backendCpu(pool, app)) last.set(pid, seconds);
    if (done > 0 && firstSeenAt === null) {
      firstSeenAt = now;
      firstSeenCount = done;
    }
    if (done >= n) {
      let backendCpuSeconds = 0;
      for (const [pid, seconds] of last) backendCpuSeconds += seconds - (before.get(pid) ?? 0);
      return { done, firstSeenAt, firstSeenCount, endAt: now, backendCpuSeconds };
    }
    if (now > deadline) throw new Error(`only ${done} of ${n} done in ${timeoutMs} ms`);
    await sleep(20);
  }
}

export interface PgDeliverRun extends DeliverRun {
  /**
   * The former `perSecond`: N over the time from the contender's first delivery (the
   * receiver's first request; pg-boss: its first batch) to the poll that saw all N done. It
   * counts every item of pg-boss's first fetch (500 per process, done at once) but none of the
   * poll interval that follows each fetch, so it overstates a contender that works in timed
   * batches: kept for comparison with earlier runs.
   */
  perSecondFromFirst: number;
  /** CPU of the contender's PostgreSQL backends per delivery (job), ms. */
  pgCpuMsPerDelivery: number;
  /** Worker CPU per delivery without the processes' start-up (CPU since they were ready), ms. */
  workerCpuMsAfterStart: number;
}

/**
 * `perSecond`: the items done between the first poll that saw any done and the poll that saw
 * all N, over the time between those two polls. Both contenders are read by the same 20 ms
 * poll of the same database, so the first batch of a batch-and-wait worker is not counted
 * without the wait that follows it.
 */
function finish(
  n: number,
  progress: Progress,
  spawned: number,
  first: number,
  workers: readonly ChildWorker[],
  received: number,
  cpuAtReady: number,
): PgDeliverRun {
  const { done, firstSeenAt, firstSeenCount, endAt, backendCpuSeconds } = progress;
  const cpu = workerCpu(workers);
  const measured = firstSeenAt !== null && endAt > firstSeenAt && firstSeenCount < n;
  const perSecondFromFirst = n / ((endAt - first) / 1000);
  return {
    perSecond: measured
      ? (n - firstSeenCount) / ((endAt - firstSeenAt!) / 1000)
      : perSecondFromFirst,
    perSecondFromFirst,
    wallPerSecond: n / ((endAt - spawned) / 1000),
    seconds: measured ? (endAt - firstSeenAt!) / 1000 : (endAt - first) / 1000,
    delivered: done,
    received,
    cpuMsPerDelivery: (cpu * 1000) / n,
    pgCpuMsPerDelivery: (backendCpuSeconds * 1000) / n,
    workerCpuMsAfterStart: ((cpu - cpuAtReady) * 1000) / n,
  };
}

function workerCpu(workers: readonly ChildWorker[]): number {
  return workers.reduce((sum, w) => sum + (cpuSecondsOf(w.pid) ?? 0), 0);
}

export interface PgBench {
  /** `size` deliveries (default N): the warm-up runs a smaller one. */
  herald(workers: number, size?: number): Promise<PgDeliverRun>;
  pgBoss(workers: number, size?: number): Promise<PgDeliverRun>;
  close(): Promise<void>;
}

export async function setUpPgBench(options: {
  url: string;
  n: number;
  settings: WorkerSettings;
  boss: PgBossSettings;
  receiver: Receiver;
  configPath: string;
}): Promise<PgBench> {
  const { url, receiver } = options;
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const heraldSchema = `bench_herald_${suffix}`;
  const bossSchema = `bench_pgboss_${suffix}`;
  // The workers' connections carry these names (PGAPPNAME), to read their backends' CPU.
  const heraldApp = `bench_herald_${suffix}`;
  const bossApp = `bench_pgboss_${suffix}`;
  const pool = createPgPool({ connectionString: url, schema: heraldSchema, max: 4 });
  await migratePostgres(pool, { schema: heraldSchema });
  const store = createPostgresDeliveryStore(pool);
  await createBenchEndpoint(store, receiver.url);
  writeWorkerConfig(options.configPath, options.settings);
  const boss = new PgBoss({
    connectionString: url,
    schema: bossSchema,
    max: 4,
    supervise: false,
    schedule: false,
  });
  boss.on("error", () => {});
  await boss.start();
  let queueNumber = 0;

  async function herald(count: number, n = options.n): Promise<PgDeliverRun> {
    await pool.query("TRUNCATE attempts, deliveries, messages CASCADE");
    await seedDeliveries(store, n);
    // Nothing is due until every worker is up (its endpoint disabled): a second process's
    // start-up (~1 s of CPU) does not compete with the first one's deliveries.
    await store.setEndpointEnabled(ENDPOINT_ID, false, "bench: workers starting");
    receiver.reset();
    const spawned = performance.now();
    const workers = await Promise.all(
      Array.from({ length: count }, () =>
        startHeraldWorker(["--db", url, "--schema", heraldSchema, "--config", options.configPath], {
          env: { PGAPPNAME: heraldApp },
        }),
      ),
    );
    const cpuAtReady = workerCpu(workers);
    await store.setEndpointEnabled(ENDPOINT_ID, true);
    try {
      const progress = await waitForCount(
        pool,
        "SELECT count(*) AS n FROM deliveries WHERE status = 'delivered'",
        [],
        n,
        Math.max(60_000, n * 20),
        heraldApp,
      );
      return finish(
        n,
        progress,
        spawned,
        receiver.firstAt() ?? spawned,
        workers,
        receiver.count(),
        cpuAtReady,
      );
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }

  async function pgBoss(count: number, n = options.n): Promise<PgDeliverRun> {
    const queue = `bench_${++queueNumber}`;
    await boss.createQueue(queue);
    const spawned = performance.now();
    const workers = await Promise.all(
      Array.from({ length: count }, () =>
        startPgBossWorker({
          BOSS_URL: url,
          BOSS_SCHEMA: bossSchema,
          BOSS_QUEUE: queue,
          BOSS_BATCH: String(options.boss.batchSize),
          BOSS_WORKERS: String(options.boss.workersPerProcess),
          BOSS_POLL_S: String(options.boss.pollingIntervalSeconds),
          PGAPPNAME: bossApp,
        }),
      ),
    );
    const cpuAtReady = workerCpu(workers);
    // As for Herald: the jobs come once every worker is up (their next poll fetches them).
    for (let done = 0; done < n; done += 5000) {
      const size = Math.min(5000, n - done);
      await boss.insert(
        Array.from({ length: size }, (_, i) => ({ name: queue, data: { n: done + i } })),
      );
    }
    try {
      const progress = await waitForCount(
        pool,
        `SELECT count(*) AS n FROM ${bossSchema}.job WHERE name = $1 AND state = 'completed'`,
        [queue],
        n,
        Math.max(60_000, n * 20),
        bossApp,
      );
      // A process that got no job prints no `first` line.
      const firsts = workers.flatMap((w) =>
        [...w.stdout().matchAll(/^first (\d+)$/gm)].map(
          (m) => Number(m[1]) - performance.timeOrigin,
        ),
      );
      const first = firsts.length === 0 ? spawned : Math.min(...firsts);
      return finish(n, progress, spawned, first, workers, progress.done, cpuAtReady);
    } finally {
      // The queue stays (its jobs are completed); the schema is dropped at the end.
      await Promise.all(workers.map((w) => w.stop()));
    }
  }

  return {
    herald,
    pgBoss,
    async close() {
      await boss.stop({ graceful: false, wait: true });
      await pool.query(`DROP SCHEMA IF EXISTS ${heraldSchema} CASCADE`);
      await pool.query(`DROP SCHEMA IF EXISTS ${bossSchema} CASCADE`);
      await pool.end();
    },
  };
}
