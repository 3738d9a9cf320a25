// The fanout benchmark's stores: a SQLite file in a temporary directory (opened as `herald
// serve` opens it) and a PostgreSQL database of its own (herald_bench_fanout, dropped first if
// a crashed run left it, and at the end), each with the `herald worker` arguments that reach it,
// a bulk copy of an endpoint, and a way to drop every message between phases.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { DeliveryStore } from "../packages/core/src/store/deliveryPorts.js";
import { createPgPool } from "../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../packages/postgres/src/store/postgres/deliveryStore.js";
import { migratePostgres } from "../packages/postgres/src/store/postgres/migrate.js";
import { openSqlite, type SqliteDatabase } from "../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../packages/sqlite/src/store/sqlite/migrate.js";

export type FanoutDialect = "sqlite" | "postgres";

export interface FanoutBackend {
  readonly dialect: FanoutDialect;
  readonly store: DeliveryStore;
  /** `herald worker` arguments that open the same store. */
  readonly workerArgs: readonly string[];
  /**
   * Copies the endpoint `id` (created through the store) as `<id>_1` … `<id>_<count>`, copy i
   * taking `bench.fanout` and `bench.only.<i>`, in one statement: creating 11,101 endpoints one
   * commit each would take most of the run. Every other column is the original's.
   */
  copyEndpoint(id: string, count: number): Promise<void>;
  /** One trivial query (`SELECT 1`): the floor of anything that reads the store per message. */
  roundTrip(): Promise<void>;
  /** Whether a delivery of the message is not yet stored as delivered (one indexed read). */
  anyUndelivered(messageId: string): Promise<boolean>;
  /** Deletes every message (and so every delivery): the next phase starts with nothing due. */
  clearMessages(): Promise<void>;
  close(): Promise<void>;
}

export const FANOUT_DATABASE = "herald_bench_fanout";

/** A row when some delivery of message $1 is not delivered yet (`deliveries_message` index). */
const UNDELIVERED_SQL =
  "SELECT 1 FROM deliveries WHERE message_id = $1 AND status <> 'delivered' LIMIT 1";

/** INSERT … SELECT of every column of `endpoints`, id and event_types from `copy`. */
function copySql(columns: readonly string[], copy: { id: string; eventTypes: string }): string {
  const values = columns.map((c) =>
    c === "id" ? copy.id : c === "event_types" ? copy.eventTypes : `e.${c}`,
  );
  return `INSERT INTO endpoints (${columns.join(", ")}) SELECT ${values.join(", ")}`;
}

/**
 * On SQLite, copies the endpoint `id` as `<id>_1` … `<id>_<count>` in one statement, copy i's
 * event_types the SQL `eventTypes` (over the copy's number `s.i` and the original `e`); returns
 * the copies' ids.
 */
export function copySqliteEndpoint(
  db: SqliteDatabase,
  id: string,
  count: number,
  eventTypes: string,
): string[] {
  if (count < 1) return [];
  const columns = (db.prepare("PRAGMA table_info(endpoints)").all() as { name: string }[]).map(
    (c) => c.name,
  );
  const insert = copySql(columns, { id: "e.id || '_' || s.i", eventTypes });
  db.prepare(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) ${insert} FROM endpoints e, s WHERE e.id = ?`,
  ).run(count, id);
  return Array.from({ length: count }, (_, i) => `${id}_${i + 1}`);
}

export function openSqliteBackend(): FanoutBackend {
  const dir = mkdtempSync(join(tmpdir(), "herald-fanout-"));
  const path = join(dir, "herald.db");
  const db = openSqlite(path);
  migrateSqlite(db);
  const store = createSqliteDeliveryStore(db);
  const undeliveredSqlite = db.prepare(UNDELIVERED_SQL.replace("$1", "?"));
  return {
    dialect: "sqlite",
    store,
    workerArgs: ["--db", path],
    async copyEndpoint(id, count) {
      copySqliteEndpoint(db, id, count, "json_array('bench.fanout', 'bench.only.' || s.i)");
    },
    async roundTrip() {
      db.prepare("SELECT 1").get();
    },
    async anyUndelivered(messageId) {
      return undeliveredSqlite.get(messageId) !== undefined;
    },
    async clearMessages() {
      db.exec("DELETE FROM messages");
    },
    async close() {
      await store.close();
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
  let columns: string[];
  try {
    await migratePostgres(pool);
    const { rows } = await pool.query<{ name: string }>(
      "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'endpoints' ORDER BY ordinal_position",
    );
    columns = rows.map((r) => r.name);
  } catch (error) {
    await pool.end();
    await drop();
    await admin.end();
    throw error;
  }
  const store = createPostgresDeliveryStore(pool);
  const insert = copySql(columns, {
    id: "e.id || '_' || s.i",
    eventTypes: "jsonb_build_array('bench.fanout', 'bench.only.' || s.i)",
  });
  return {
    dialect: "postgres",
    store,
    workerArgs: ["--db", own.href],
    async copyEndpoint(id, count) {
      await pool.query(`${insert} FROM endpoints e, generate_series(1, $1) s(i) WHERE e.id = $2`, [
        count,
        id,
      ]);
    },
    async roundTrip() {
      await pool.query("SELECT 1");
    },
    async anyUndelivered(messageId) {
      return (await pool.query(UNDELIVERED_SQL, [messageId])).rowCount !== 0;
    },
    async clearMessages() {
      await pool.query("TRUNCATE attempts, deliveries, message_filtered, messages CASCADE");
    },
    async close() {
      await store.close();
      await pool.end();
      await drop();
      await admin.end();
    },
  };
}
