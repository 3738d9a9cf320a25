// The one-statement path of PostgreSQL createMessages (see createMessages.ts): a batch without
// idempotency keys whose dedupe keys are distinct is written by one autocommit statement — no
// BEGIN, no read, no COMMIT — taking its keys first and inserting only the messages that hold
// theirs (or have none), then their deliveries.
import { createHash } from "node:crypto";
import type { CreateMessagesOptions } from "@heraldjs/core/internal/model/deliveryOperations.js";
import { endpointsVersionChanged } from "@heraldjs/core/internal/model/endpointRoutes.js";
import { type NewMessage, payloadJson } from "@heraldjs/core/internal/model/messageRecords.js";
import type { PgPool } from "./database.js";
import { pgErrorCode, rows } from "./deliverySql.js";
import { countedTypes } from "./eventTypeSightings.js";
import { inboundKeyRowsJson, takeInboundKeysSql } from "./inboundKeys.js";
import { NOTIFY_EXPRESSION } from "./wakeUpTurns.js";

/**
 * True when the batch may take the one-statement path: no input has an idempotency key, and no
 * two inputs share a dedupe key (so each input is decided alone: created unless its key is held
 * live by a stored message).
 */
export function oneStatementEligible(records: readonly NewMessage[]): boolean {
  const keys = new Set<string>();
  for (const { message, inboundKey } of records) {
    if (message.idempotencyKey !== null) return false;
    if (inboundKey === null) continue;
    const pair = `${inboundKey.source}\0${inboundKey.key}`; // NUL is refused in both parts
    if (keys.has(pair)) return false;
    keys.add(pair);
  }
  return true;
}

/**
 * The INSERT of filtered endpoints (FilteredRecord rows as a JSON array in `parameter`); the
 * caller appends a WHERE on the messages written. Both write paths use it.
 */
export function insertFilteredSql(parameter: string): string {
  return `INSERT INTO message_filtered (message_id, endpoint_id, filtered_at)
SELECT message_id, endpoint_id, filtered_at
FROM json_populate_recordset(NULL::message_filtered, ${parameter}::json)`;
}

// Failures that roll the statement back and leave the batch to the transaction path: a foreign
// key (an endpoint deleted since the caller read the catalogue: that path reports which), a
// deadlock or a serialization failure.
const FALL_BACK = new Set(["23503", "40P01", "40001"]);

/**
 * The statement: `k` takes the dedupe keys ($2, sorted: no deadlock between batches sharing
 * keys), an expired holder's included (`$3` is now); `m` inserts the messages ($1) that have no
 * key ($4, their ids) or whose key `k` took; `t` and `ts` count them in the catalogue
 * (eventTypeSightings.ts); `d` the deliveries ($5) of the messages `m` inserted, `f` their
 * filtered endpoints (the next parameter, when any; insertFilteredSql). Sibling CTEs, so
 * the foreign keys are checked at the end of the statement, when the messages exist. Answers the
 * ids of the messages written, and notifies the workers when it stored deliveries.
 */
function oneStatementSql(
  messageColumns: readonly string[],
  deliveryColumns: readonly string[] | undefined,
  filtered: boolean,
  guarded: boolean,
): string {
  // The payload is in the rows' JSON as itself (messagesJson), so the recordset reads it as
  // jsonb in its one parse; only a JSON null payload arrives as SQL NULL.
  const select = messageColumns.map((c) =>
    c === "payload" ? "coalesce(payload, 'null'::jsonb)" : c,
  );
  // Guarded: the tenant's endpoint version ($n, $n+1 after the other parameters) is read in
  // the statement's snapshot (`v`); only when it is the expected one does `g` hold a row, and
  // the keys and messages are written under it (so the deliveries and filtered endpoints too).
  const first = 5 + (deliveryColumns === undefined ? 0 : 1) + (filtered ? 1 : 0);
  const versionSql = `COALESCE((SELECT version FROM endpoint_versions WHERE tenant = $${first}::text), 0)`;
  const guard = guarded ? "EXISTS (SELECT 1 FROM g)" : "";
  const parts = [
    ...(guarded
      ? [
          `v AS (SELECT ${versionSql} AS version)`,
          `g AS (SELECT 1 FROM v WHERE version = $${first + 1}::bigint)`,
        ]
      : []),
    `k AS (${takeInboundKeysSql("$2", "$3", "message_id", guard)})`,
    `m AS (INSERT INTO messages (${messageColumns.join(", ")})
SELECT ${select.join(", ")} FROM json_populate_recordset(NULL::messages, $1::json)
WHERE (id = ANY($4::text[]) OR id IN (SELECT message_id FROM k))${guarded ? ` AND ${guard}` : ""}
RETURNING id, type)`,
    ...countedTypes("m", "$3"),
  ];
  let notify = "";
  if (deliveryColumns !== undefined) {
    const list = deliveryColumns.join(", ");
    parts.push(`d AS (INSERT INTO deliveries (${list})
SELECT ${list} FROM json_populate_recordset(NULL::deliveries, $5::json)
WHERE message_id IN (SELECT id FROM m)
RETURNING 1)`);
    notify = `, (SELECT ${NOTIFY_EXPRESSION} FROM (SELECT 1 FROM d LIMIT 1) AS one) AS notified`;
  }
  if (filtered) {
    const parameter = deliveryColumns === undefined ? "$5" : "$6";
    parts.push(`f AS (${insertFilteredSql(parameter)}
WHERE message_id IN (SELECT id FROM m))`);
  }
  const version = guarded ? ", (SELECT version FROM v) AS endpoints_version" : "";
  return `WITH ${parts.join(",\n")}
SELECT (SELECT array_agg(id) FROM m) AS ids${notify}${version}`;
}

// Prepared once per connection under a name derived from the text (the text depends on the
// column lists): no parse or plan per batch.
const statements = new Map<string, { name: string; text: string }>();

function statement(
  messageColumns: readonly string[],
  deliveryColumns: readonly string[] | undefined,
  filtered: boolean,
  guarded: boolean,
): { name: string; text: string } {
  const cacheKey = `${messageColumns.join(",")}|${deliveryColumns?.join(",") ?? ""}|${filtered}|${guarded}`;
  let found = statements.get(cacheKey);
  if (found === undefined) {
    const text = oneStatementSql(messageColumns, deliveryColumns, filtered, guarded);
    const hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
    found = { name: `herald_create_messages_${hash}`, text };
    statements.set(cacheKey, found);
  }
  return found;
}

/**
 * The `$1` parameter: the messages' rows as one JSON array, each payload spliced in as its own
 * JSON text (the text it was parsed from, serialised once). Sent as a string inside the rows,
 * PostgreSQL would parse every payload three times (the array, the string, then `::jsonb`).
 */
function messagesJson(records: readonly NewMessage[]): { json: string; columns: string[] } {
  let columns: string[] = [];
  const parts = records.map((record) => {
    const row = rows.messageParams({ ...record.message, payload: null });
    delete row.payload;
    if (columns.length === 0) columns = [...Object.keys(row), "payload"];
    // `row` always has its id, so its JSON ends in "}" after at least one field.
    const fields = JSON.stringify(row);
    return `${fields.slice(0, -1)},"payload":${payloadJson(record)}}`;
  });
  return { json: `[${parts.join(",")}]`, columns };
}

/**
 * Writes the batch in one statement. Resolves to the ids of the messages written (an input
 * missing from it holds a key some stored message holds live: nothing of it was written), or to
 * undefined when the statement failed as a whole (FALL_BACK) and wrote nothing. With `expected`
 * it writes only while the tenant's endpoint version is that one, else rejects with
 * `endpoint.version_changed` having written nothing.
 */
export async function writeOneStatement(
  pool: PgPool,
  records: readonly NewMessage[],
  nowIso: string,
  expected?: CreateMessagesOptions["endpointsVersion"],
): Promise<Set<string> | undefined> {
  const messages = messagesJson(records);
  const deliveries = records.flatMap((r) => r.deliveries.map(rows.deliveryParams));
  const keys = records.flatMap(({ message, inboundKey }) =>
    inboundKey === null ? [] : [{ ...inboundKey, messageId: message.id }],
  );
  const unkeyed = records.flatMap((r) => (r.inboundKey === null ? [r.message.id] : []));
  const filtered = records.flatMap((r) => r.filtered.map(rows.filteredParams));
  const { name, text } = statement(
    messages.columns,
    deliveries.length > 0 ? Object.keys(deliveries[0]!) : undefined,
    filtered.length > 0,
    expected !== undefined,
  );
  const values: unknown[] = [messages.json, inboundKeyRowsJson(keys), nowIso, unkeyed];
  if (deliveries.length > 0) values.push(JSON.stringify(deliveries));
  if (filtered.length > 0) values.push(JSON.stringify(filtered));
  if (expected !== undefined) values.push(expected.tenant, expected.version);
  try {
    const { rows: result } = await pool.query<{
      ids: string[] | null;
      endpoints_version?: string;
    }>({ name, text, values });
    const row = result[0]!;
    if (expected !== undefined && Number(row.endpoints_version) !== expected.version) {
      throw endpointsVersionChanged(
        expected.tenant,
        expected.version,
        Number(row.endpoints_version),
      );
    }
    return new Set(row.ids ?? []);
  } catch (error) {
    if (FALL_BACK.has(pgErrorCode(error) ?? "")) return undefined;
    throw error;
  }
}
