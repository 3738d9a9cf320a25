// Plumbing shared by the SQLite delivery store files: a prepared-statement cache, error
// translation, IMMEDIATE transactions and the keyset clause of list queries (the SQL text both
// dialects share is in ../delivery/sqlText.ts).

import type { ListWindow } from "@heraldjs/core/internal/model/listQuery.js";
import { ROW_CODECS, type Row, rowMapper } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { Statement } from "better-sqlite3";
import type { SqliteDatabase } from "./database.js";
import { isSqliteUnavailable } from "./unavailable.js";

export type SqlParams = Record<string, string | number | null>;

/** Records ↔ rows in SQLite's value forms (ms integers, 0/1, JSON text). */
export const rows = rowMapper(ROW_CODECS.sqlite);

/** `INSERT INTO table (a, b) VALUES (@a, @b)` for the keys of a params object. */
export function insertSql(table: string, params: Row, suffix = ""): string {
  const columns = Object.keys(params);
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})${suffix}`;
}

/** `UPDATE table SET a = @a, … WHERE key = @key` for every other key of a params object. */
export function updateSql(table: string, params: Row, keyColumn: string): string {
  const sets = Object.keys(params)
    .filter((c) => c !== keyColumn)
    .map((c) => `${c} = @${c}`);
  return `UPDATE ${table} SET ${sets.join(", ")} WHERE ${keyColumn} = @${keyColumn}`;
}

export interface SqliteContext {
  db: SqliteDatabase;
  /** The statement for `sql`, prepared once per store. */
  sql(sql: string): Statement<unknown[], unknown>;
  /** Runs `fn` in a BEGIN IMMEDIATE transaction: writers queue on the lock, never deadlock. */
  immediate<T>(fn: () => T): T;
  /**
   * The same, committed without its own fsync (`synchronous=NORMAL` for this transaction only),
   * for the worker's state — claims, attempt outcomes — which a crash may undo without losing
   * anything accepted: a delivery whose claim or outcome is undone is sent again (at least
   * once). In WAL mode such a commit becomes durable with the next fsynced commit or
   * checkpoint, in order, so only the last ones before an OS crash or power loss can be lost;
   * a process crash loses none. Where the connection is already NORMAL it is `immediate`.
   */
  relaxed<T>(fn: () => T): T;
}

/** PRAGMA synchronous values (https://www.sqlite.org/pragma.html#pragma_synchronous). */
const SYNCHRONOUS_NORMAL = 1;
const SYNCHRONOUS_FULL = 2;

export function sqliteContext(db: SqliteDatabase): SqliteContext {
  const cache = new Map<string, Statement<unknown[], unknown>>();
  // One transaction function for every call: better-sqlite3 builds a wrapper (and its four
  // variants) per db.transaction(), which cost more than a short transaction's own statements.
  const run = db.transaction(<T>(fn: () => T): T => fn());
  const fsyncEachCommit = db.pragma("synchronous", { simple: true }) === SYNCHRONOUS_FULL;
  // Set outside any transaction; better-sqlite3 is synchronous, so nothing else runs on this
  // connection between the two settings. Not a prepared statement: SQLite applies this pragma
  // when it compiles it, so a cached one would not set it again.
  const setSynchronous = (level: number) => db.exec(`PRAGMA synchronous = ${level}`);
  return {
    db,
    sql(text) {
      let statement = cache.get(text);
      if (statement === undefined) {
        statement = db.prepare(text);
        cache.set(text, statement);
      }
      return statement;
    },
    immediate(fn) {
      return run.immediate(fn) as ReturnType<typeof fn>;
    },
    relaxed(fn) {
      if (!fsyncEachCommit) return run.immediate(fn) as ReturnType<typeof fn>;
      setSynchronous(SYNCHRONOUS_NORMAL);
      try {
        return run.immediate(fn) as ReturnType<typeof fn>;
      } finally {
        setSynchronous(SYNCHRONOUS_FULL);
      }
    },
  };
}

/**
 * Runs a store operation, turning SQLite's failures into HeraldErrors: those that mean the
 * database is unavailable (isSqliteUnavailable: a lock held longer than the busy timeout, the
 * disk, a closed database) are `store.unavailable`; the rest are bugs and pass.
 */
export async function call<T>(fn: () => T): Promise<T> {
  try {
    return fn();
  } catch (error) {
    if (isHeraldError(error) || !isSqliteUnavailable(error)) throw error;
    const message =
      error instanceof TypeError ? "The SQLite database is closed" : `SQLite: ${errorText(error)}`;
    throw new HeraldError("store.unavailable", message, { cause: error });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isConstraint(
  error: unknown,
  kind: "PRIMARYKEY" | "UNIQUE" | "FOREIGNKEY",
): boolean {
  return (error as { code?: unknown }).code === `SQLITE_CONSTRAINT_${kind}`;
}

/**
 * `(created_at, id)` strictly after the cursor in the list's order, written out rather than as
 * a row value so the index on (…, created_at, id) bounds the scan. Adds `@after_c`, `@after_i`.
 */
export function keysetClause(page: ListWindow, params: SqlParams): string | null {
  if (page.after === null) return null;
  params.after_c = Date.parse(page.after.createdAt);
  params.after_i = page.after.id;
  const op = page.order === "newest" ? "<" : ">";
  return `(created_at ${op} @after_c OR (created_at = @after_c AND id ${op} @after_i))`;
}
