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

async function waitForCount(
  pool: PgPool,
  sql: string,
  params: unknown[],
  n: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ n: string }>(sql, params);
    const done = Number(rows[0]!.n);
    if (done >= n) return done;
    if (performance.now() > deadline)
      throw new Error(`only ${done} of ${n} done in ${timeoutMs} ms`);
    await sleep(20);
  }
}

function finish(
  n: number,
  done: number,
  spawned: number,
  first: number,
  workers: readonly ChildWorker[],
  received: number,
): DeliverRun {
  const end = performance.now();
  const cpu = workers.reduce((sum, w) => sum + (cpuSecondsOf(w.pid) ?? 0), 0);
  return {
    perSecond: n / ((end - first) / 1000),
    wallPerSecond: n / ((end - spawned) / 1000),
    seconds: (end - first) / 1000,
    delivered: done,
    received,
    cpuMsPerDelivery: (cpu * 1000) / n,
  };
}

export interface PgBench {
  /** `size` deliveries (default N): the warm-up runs a smaller one. */
  herald(workers: number, size?: number): Promise<DeliverRun>;
  pgBoss(workers: number, size?: number): Promise<DeliverRun>;
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

  async function herald(count: number, n = options.n): Promise<DeliverRun> {
    await pool.query("TRUNCATE attempts, deliveries, messages CASCADE");
    await seedDeliveries(store, n);
    receiver.reset();
    const spawned = performance.now();
    const workers = await Promise.all(
      Array.from({ length: count }, () =>
        startHeraldWorker(["--db", url, "--schema", heraldSchema, "--config", options.configPath]),
      ),
    );
    try {
      const done = await waitForCount(
        pool,
        "SELECT count(*) AS n FROM deliveries WHERE status = 'delivered'",
        [],
        n,
        Math.max(60_000, n * 20),
      );
      return finish(n, done, spawned, receiver.firstAt() ?? spawned, workers, receiver.count());
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }

  async function pgBoss(count: number, n = options.n): Promise<DeliverRun> {
    const queue = `bench_${++queueNumber}`;
    await boss.createQueue(queue);
    for (let done = 0; done < n; done += 5000) {
      const size = Math.min(5000, n - done);
      await boss.insert(
        Array.from({ length: size }, (_, i) => ({ name: queue, data: { n: done + i } })),
      );
    }
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
        }),
      ),
    );
    try {
      const done = await waitForCount(
        pool,
        `SELECT count(*) AS n FROM ${bossSchema}.job WHERE name = $1 AND state = 'completed'`,
        [queue],
        n,
        Math.max(60_000, n * 20),
      );
      // A process that got no job prints no `first` line.
      const firsts = workers.flatMap((w) =>
        [...w.stdout().matchAll(/^first (\d+)$/gm)].map(
          (m) => Number(m[1]) - performance.timeOrigin,
        ),
      );
      const first = firsts.length === 0 ? spawned : Math.min(...firsts);
      return finish(n, done, spawned, first, workers, done);
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
