// The `scale` benchmark's two stores: a PostgreSQL database of its own (created, migrated and
// dropped) and a SQLite file in a temporary directory. Each gives the bench's store, the
// worker's arguments, background seeding, one timed claim, one retention batch and disk use.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { DeliveryStore } from "../packages/core/src/store/deliveryPorts.js";
import { createPgPool, type PgPool } from "../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../packages/postgres/src/store/postgres/deliveryStore.js";
import { migratePostgres } from "../packages/postgres/src/store/postgres/migrate.js";
import { openSqlite, type SqliteDatabase } from "../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../packages/sqlite/src/store/sqlite/migrate.js";
import { sleep } from "./deliverHarness.js";
import {
  pgDisk,
  pgTemplate,
  prunePg,
  pruneSqlite,
  type SeedRange,
  seedPg,
  seedSqlite,
  sqliteTemplate,
  type Template,
} from "./scaleSeed.js";

export type BackendName = "postgres" | "sqlite";

export interface ScaleBackend {
  readonly name: BackendName;
  /** The bench's own store: seeding the run's deliveries, enabling the endpoint. */
  readonly store: DeliveryStore;
  /** `herald worker` arguments after `worker`, without --config. */
  readonly workerArgs: readonly string[];
  template(): Promise<Template>;
  seed(template: Template, range: SeedRange): Promise<void>;
  /** Rows in `deliveries`. */
  rows(): Promise<number>;
  /** Open deliveries created at or after `sinceMs`: the run's, not yet delivered. */
  openSince(sinceMs: number): Promise<number>;
  /**
   * One claim of up to `limit` due deliveries, rolled back: its time (SQLite: with the wait for
   * the write lock) and how many it claimed.
   */
  claim(limit: number): Promise<{ ms: number; claimed: number }>;
  /** One retention batch of up to `limit` deliveries' messages: messages deleted. */
  prune(cutoffMs: number, limit: number): Promise<number>;
  /** Bytes on disk of the delivery tables (SQLite: the file and its WAL) and stored deliveries. */
  disk(): Promise<{ bytes: number; deliveries: number }>;
  close(): Promise<void>;
}

const OPEN_SINCE =
  "SELECT count(*) AS n FROM deliveries WHERE status IN ('pending', 'delivering', 'retrying') AND created_at >= ";

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A database `name` on the server of `url` (dropped first if a crashed run left it). */
export async function openPgBackend(url: string, name: string): Promise<ScaleBackend> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const dbUrl = withDatabase(url, name);
  const pool = createPgPool({ connectionString: dbUrl, max: 4 });
  // The probe's claims run in a transaction that is rolled back: one connection, so BEGIN, the
  // claim and ROLLBACK share it.
  const probePool = createPgPool({ connectionString: dbUrl, max: 1 });
  const pools: PgPool[] = [pool, probePool];
  try {
    await migratePostgres(pool);
    const probeStore = createPostgresDeliveryStore(probePool);
    return {
      name: "postgres",
      store: createPostgresDeliveryStore(pool),
      workerArgs: ["--db", dbUrl],
      template: () => pgTemplate(pool),
      seed: (template, range) => seedPg(pool, template, range),
      async rows() {
        const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM deliveries");
        return Number(rows[0]!.n);
      },
      async openSince(sinceMs) {
        const { rows } = await pool.query<{ n: string }>(`${OPEN_SINCE}$1`, [
          new Date(sinceMs).toISOString(),
        ]);
        return Number(rows[0]!.n);
      },
      async claim(limit) {
        await probePool.query("BEGIN");
        try {
          const started = performance.now();
          const claimed = await probeStore.claimDueDeliveries({
            owner: "scale-probe",
            limit,
            leaseMs: 60_000,
          });
          return { ms: performance.now() - started, claimed: claimed.length };
        } finally {
          await probePool.query("ROLLBACK");
        }
      },
      prune: (cutoffMs, limit) => prunePg(pool, cutoffMs, limit),
      disk: () => pgDisk(pool),
      async close() {
        for (const p of pools) await p.end();
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  } catch (error) {
    for (const p of pools) await p.end().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
    throw error;
  }
}

const isBusy = (error: unknown) =>
  (error as { code?: unknown }).code === "SQLITE_BUSY" ||
  (error as { code?: unknown }).code === "SQLITE_BUSY_SNAPSHOT";

/**
 * `fn` until it does not fail with SQLITE_BUSY. The probe and the retention job use connections
 * without a busy timeout and wait here, asynchronously: a busy handler would block the bench
 * process, and the receiver with it.
 */
async function unbusy<T>(fn: () => T): Promise<T> {
  for (;;) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error)) throw error;
      await sleep(1);
    }
  }
}

/** A SQLite file in a temporary directory, removed on close. */
export function openSqliteBackend(): ScaleBackend {
  const dir = mkdtempSync(join(tmpdir(), "herald-scale-"));
  const path = join(dir, "herald.db");
  // The bench's own writes (seeding) at `normal`; the worker runs at the default (`full`).
  const db = openSqlite(path, { durability: "normal" });
  // The probe and the retention job each on a connection of its own: the probe's transaction
  // spans an await, and a retention batch run meanwhile must not join it.
  const jobs: SqliteDatabase[] = [];
  try {
    migrateSqlite(db);
    const probeDb = openSqlite(path, { durability: "normal", busyTimeoutMs: 0 });
    jobs.push(probeDb);
    const pruneDb = openSqlite(path, { durability: "normal", busyTimeoutMs: 0 });
    jobs.push(pruneDb);
    const probeStore = createSqliteDeliveryStore(probeDb);
    const count = db.prepare("SELECT count(*) AS n FROM deliveries");
    const open = db.prepare(`${OPEN_SINCE}?`);
    const size = (file: string) => {
      try {
        return statSync(file).size;
      } catch {
        return 0;
      }
    };
    return {
      name: "sqlite",
      store: createSqliteDeliveryStore(db),
      workerArgs: ["--db", path],
      template: async () => sqliteTemplate(db),
      seed: async (template, range) => seedSqlite(db, template, range),
      rows: async () => (count.get() as { n: number }).n,
      openSince: async (sinceMs) => (open.get(sinceMs) as { n: number }).n,
      async claim(limit) {
        const started = performance.now();
        await unbusy(() => probeDb.exec("BEGIN IMMEDIATE"));
        try {
          const claimed = await probeStore.claimDueDeliveries({
            owner: "scale-probe",
            limit,
            leaseMs: 60_000,
          });
          return { ms: performance.now() - started, claimed: claimed.length };
        } finally {
          probeDb.exec("ROLLBACK");
        }
      },
      prune: (cutoffMs, limit) => unbusy(() => pruneSqlite(pruneDb, cutoffMs, limit)),
      disk: async () => ({
        bytes: size(path) + size(`${path}-wal`),
        deliveries: (count.get() as { n: number }).n,
      }),
      async close() {
        for (const job of jobs) job.close();
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const job of jobs) job.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
