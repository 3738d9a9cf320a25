// The fanout benchmark's stores: a SQLite file in a temporary directory (opened as `herald
// serve` opens it) and a PostgreSQL database of its own (herald_bench_fanout, dropped first if
// a crashed run left it, and at the end), each with the `herald worker` arguments that reach it
// and a way to drop every message between phases.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { DeliveryStore } from "../packages/core/src/store/deliveryPorts.js";
import { createPgPool } from "../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../packages/postgres/src/store/postgres/deliveryStore.js";
import { migratePostgres } from "../packages/postgres/src/store/postgres/migrate.js";
import { openSqlite } from "../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../packages/sqlite/src/store/sqlite/migrate.js";

export type FanoutDialect = "sqlite" | "postgres";

export interface FanoutBackend {
  readonly dialect: FanoutDialect;
  readonly store: DeliveryStore;
  /**
   * The same store through a connection that commits without waiting for the disk (SQLite
   * `normal`, PostgreSQL synchronous_commit off): seeding 11,101 endpoints one commit each
   * would otherwise take most of the run. Every figure is taken through `store`.
   */
  readonly seedStore: DeliveryStore;
  /** `herald worker` arguments that open the same store. */
  readonly workerArgs: readonly string[];
  /** One trivial query (`SELECT 1`): the floor of anything that reads the store per message. */
  roundTrip(): Promise<void>;
  /** Deletes every message (and so every delivery): the next phase starts with nothing due. */
  clearMessages(): Promise<void>;
  close(): Promise<void>;
}

export const FANOUT_DATABASE = "herald_bench_fanout";

export function openSqliteBackend(): FanoutBackend {
  const dir = mkdtempSync(join(tmpdir(), "herald-fanout-"));
  const path = join(dir, "herald.db");
  const db = openSqlite(path);
  migrateSqlite(db);
  const store = createSqliteDeliveryStore(db);
  const seedDb = openSqlite(path, { durability: "normal" });
  return {
    dialect: "sqlite",
    store,
    seedStore: createSqliteDeliveryStore(seedDb),
    workerArgs: ["--db", path],
    async roundTrip() {
      db.prepare("SELECT 1").get();
    },
    async clearMessages() {
      db.exec("DELETE FROM messages");
    },
    async close() {
      await store.close();
      seedDb.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `url` names any database of the server; the bench creates and drops its own beside it. */
export async function openPgBackend(url: string): Promise<FanoutBackend> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const drop = () => admin.query(`DROP DATABASE IF EXISTS ${FANOUT_DATABASE} WITH (FORCE)`);
  await drop();
  await admin.query(`CREATE DATABASE ${FANOUT_DATABASE}`);
  const own = new URL(url);
  own.pathname = `/${FANOUT_DATABASE}`;
  const pool = createPgPool({ connectionString: own.href, max: 8 });
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end();
    await drop();
    await admin.end();
    throw error;
  }
  const store = createPostgresDeliveryStore(pool);
  // The store's tables are in `public`, the schema a plain pool resolves.
  const seedPool = new pg.Pool({
    connectionString: own.href,
    max: 8,
    options: "-c synchronous_commit=off",
  });
  return {
    dialect: "postgres",
    store,
    seedStore: createPostgresDeliveryStore(seedPool),
    workerArgs: ["--db", own.href],
    async roundTrip() {
      await pool.query("SELECT 1");
    },
    async clearMessages() {
      await pool.query("TRUNCATE attempts, deliveries, message_filtered, messages CASCADE");
    },
    async close() {
      await store.close();
      await seedPool.end();
      await pool.end();
      await drop();
      await admin.end();
    },
  };
}
