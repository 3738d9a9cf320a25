// SQL text both SQL adapters write the same way; what differs by dialect (placeholders, value
// forms, the keyset comparison) stays in each adapter's deliverySql.ts.
import type { ListWindow } from "../../model/listQuery.js";

/** `'a', 'b'` for an IN list of the store's own constants (never user input). */
export const inList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(", ");

/**
 * One page of a keyset-paged list: the filters (keyset clause included) ANDed, ordered by
 * (created_at, id) in the list's order, `limit` being the placeholder of the row limit.
 */
export function pageSql(
  table: string,
  where: readonly string[],
  page: ListWindow,
  limit: string,
): string {
  const order = page.order === "newest" ? "created_at DESC, id DESC" : "created_at ASC, id ASC";
  return `SELECT * FROM ${table} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY ${order} LIMIT ${limit}`;
}

/** On a taken key, update every column but the key and created_at; return the row. */
export function upsertClause(columns: readonly string[], keyColumn: string): string {
  const sets = columns
    .filter((c) => c !== keyColumn && c !== "created_at")
    .map((c) => `${c} = excluded.${c}`);
  return ` ON CONFLICT (${keyColumn}) DO UPDATE SET ${sets.join(", ")} RETURNING *`;
}
