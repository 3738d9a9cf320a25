// deliver-pg's graphile-worker baseline: its own database (created for the bench and dropped
// after), one graphile-worker schema per process set (so a set's LISTEN/NOTIFY and polls see
// only its own jobs), installed before the processes start; a run's jobs are added with one
// `addJobs` call (one statement). graphile-worker deletes a job once it completes, so a set's
// done count is N minus the jobs left in its table.
import { makeWorkerUtils, type WorkerUtils } from "graphile-worker";
import { createPgPool, type PgPool } from "../packages/postgres/src/store/postgres/database.js";

/** graphile-worker's settings, as its performance page runs it. */
export interface GraphileSettings {
  /** `concurrentJobs` per process. */
  concurrency: number;
  /** `maxPoolSize` per process. */
  maxPoolSize: number;
  /** `localQueue.size`: jobs fetched (and locked) per query. */
  localQueueSize: number;
  /** `completeJobBatchDelay` and `failJobBatchDelay` (0: batched, no added wait). */
  batchDelayMs: number;
  /** `pollInterval` (a fallback: new jobs arrive by LISTEN/NOTIFY). */
  pollIntervalMs: number;
}

export interface GraphileDatabase {
  readonly url: string;
  /** The bench's connections to it: counting, installing the schemas, adding jobs. */
  readonly pool: PgPool;
  /** Closes `pool` and drops the database (its workers must be stopped first). */
  drop(): Promise<void>;
}

/** A new database next to `url`'s, named `name`: graphile-worker's own. */
export async function createGraphileDatabase(
  admin: PgPool,
  url: string,
  name: string,
): Promise<GraphileDatabase> {
  await admin.query(`CREATE DATABASE ${name}`);
  const own = new URL(url);
  own.pathname = `/${name}`;
  const pool = createPgPool({ connectionString: own.toString(), max: 2 });
  // graphile-worker wants an error handler on the pool's clients too (it warns without one).
  pool.on("connect", (client) => client.on("error", () => {}));
  return {
    url: own.toString(),
    pool,
    async drop() {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

export interface GraphileQueue {
  readonly schema: string;
  readonly task: string;
  /** Adds the run's `n` jobs (payload `{ run, n }`) in one statement. */
  add(run: number, n: number): Promise<void>;
  /** Jobs not yet completed (completed ones are deleted). */
  remainingSql: string;
  /** The jobs left, grouped by attempts, lock, due and last error (a stuck run's diagnosis). */
  stateSql: string;
}

/** Installs graphile-worker's schema `schema` and returns the set's queue of task `task`. */
export async function graphileQueue(
  db: GraphileDatabase,
  schema: string,
  task: string,
): Promise<GraphileQueue> {
  // On the bench's pool: the database's drop closes it.
  const utils: WorkerUtils = await makeWorkerUtils({ pgPool: db.pool, schema });
  await utils.migrate();
  return {
    schema,
    task,
    async add(run, n) {
      await utils.addJobs(
        Array.from({ length: n }, (_, i) => ({ identifier: task, payload: { run, n: i } })),
      );
    },
    remainingSql: `SELECT count(*) AS n FROM ${schema}._private_jobs`,
    stateSql: `SELECT count(*)::int AS n, attempts, locked_by IS NOT NULL AS locked,
        run_at <= now() AS due, left(last_error, 300) AS last_error
      FROM ${schema}._private_jobs GROUP BY 2, 3, 4, 5 ORDER BY 1 DESC LIMIT 5`,
  };
}
