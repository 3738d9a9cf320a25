// Plumbing shared by the PostgreSQL delivery store files: row mapping, statement builders,
// the keyset clause of list queries and translation of driver errors into HeraldErrors (the SQL
// text both dialects share is in ../delivery/sqlText.ts).

import type { ListWindow } from "@heraldjs/core/internal/model/listQuery.js";
import { ROW_CODECS, type Row, rowMapper } from "@heraldjs/core/internal/store/sql/deliveryRows.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { PgClient, PgPool } from "./database.js";
import { isPgUnavailable } from "./unavailable.js";

/** Records ↔ rows in PostgreSQL's value forms (timestamptz, boolean, jsonb). */
export const rows = rowMapper(ROW_CODECS.postgres);

/** A pool (one statement, autocommit) or a client inside a transaction. */
export type Queryable = PgPool | PgClient;

export interface Statement {
  text: string;
  values: unknown[];
}

/** Collects positional parameters: `p(value)` appends it and returns its `$n`. */
export function parameters(): { p: (value: unknown) => string; values: unknown[] } {
  const values: unknown[] = [];
  return {
    values,
    p(value) {
      values.push(value);
      return `$${values.length}`;
    },
  };
}

export function insertStatement(table: string, params: Row, suffix = ""): Statement {
  const columns = Object.keys(params);
  return {
    text: `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})${suffix}`,
    values: Object.values(params),
  };
}

export function updateStatement(table: string, params: Row, keyColumn: string): Statement {
  const columns = Object.keys(params).filter((c) => c !== keyColumn);
  return {
    text: `UPDATE ${table} SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(", ")} WHERE ${keyColumn} = $1`,
    values: [params[keyColumn], ...columns.map((c) => params[c])],
  };
}

/** `(created_at, id)` strictly after the cursor in the list's order, or null on page one. */
export function keysetClause(page: ListWindow, p: (value: unknown) => string): string | null {
  if (page.after === null) return null;
  const op = page.order === "newest" ? "<" : ">";
  return `(created_at, id) ${op} (${p(page.after.createdAt)}::timestamptz, ${p(page.after.id)})`;
}

export function pgErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Runs a store operation; driver failures that mean "database unreachable" → store.unavailable. */
export async function pgCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isHeraldError(error)) throw error;
    if (isPgUnavailable(error)) {
      const message = error instanceof Error ? error.message : String(error);
      throw new HeraldError("store.unavailable", `PostgreSQL: ${message}`, { cause: error });
    }
    throw error;
  }
}
