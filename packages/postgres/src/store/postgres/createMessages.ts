// PostgreSQL createMessages, two paths.
//
// The common batch — no idempotency keys, no two inputs sharing a dedupe key, as ingestion
// sends — takes one autocommit statement (createMessagesFast.ts): it takes the dedupe keys
// (ON CONFLICT (source, key) DO UPDATE … WHERE expired, sorted), inserts the messages that took
// theirs or have none, their deliveries and filtered endpoints, and notifies the workers; a
// single statement is atomic, so no BEGIN or COMMIT. Its foreign keys check the endpoints (none is read): a failure (an
// endpoint deleted meanwhile), a deadlock or a serialization failure writes nothing and the whole
// batch takes the transaction path, which says what went wrong. The inputs whose key a stored
// message holds live wrote nothing; the transaction path decides them alone (a duplicate of the
// holder, or created if the key expired meanwhile). Each input of such a batch is decided on its
// own, so the results are those the transaction path would give. What the statement wrote stays
// written if deciding those inputs then fails (PostgreSQL unreachable, or an endpoint deleted
// between the two): the call rejects, and a retry finds the written inputs' keys held by the
// messages they created (duplicates).
//
// With an expected endpoint version (CreateMessagesOptions.endpointsVersion), the statement
// reads the version in its own snapshot and writes nothing unless it is the expected one; the
// transaction path reads it first in its transaction. The inputs a guarded statement left to
// the transaction path are decided unguarded: the statement found the version current a moment
// before, as a router reading it before the write would have.
//
// Every other batch, in one transaction and a handful of statements whatever its size: one read
// finds who holds the batch's idempotency and dedupe keys and which of its endpoints exist; the
// shared plan (../delivery/messageBatch.ts) decides each input; then one statement writes the
// messages, the dedupe keys, the deliveries and the filtered endpoints (multi-row inserts as
// CTEs) and notifies the workers: BEGIN, read, write, COMMIT whatever the batch's size.
//
// The unique constraints have the last word, not the read: the messages are inserted with
// ON CONFLICT (tenant, idempotency_key) DO NOTHING and the keys with ON CONFLICT (source, key)
// DO UPDATE … WHERE expired. A conflicting insert waits for the other transaction (or statement)
// to commit; when a row the plan counted on is then missing, a concurrent batch won a key: the
// transaction rolls back and the batch is decided again on what that writer committed (read
// committed sees it). On the one-statement path a key a concurrent writer won is simply not
// taken, and its input is decided by the transaction path. So 200 identical concurrent calls,
// from any number of processes, store one message.

import type { CreateMessagesOptions } from "@heraldjs/core/internal/model/deliveryOperations.js";
import { endpointsVersionChanged } from "@heraldjs/core/internal/model/endpointRoutes.js";
import {
  assertEndpoints,
  type BatchHolders,
  batchResults,
  newBatchRecords,
  planBatch,
} from "@heraldjs/core/internal/model/messageBatch.js";
import type { NewMessage } from "@heraldjs/core/internal/model/messageRecords.js";
import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type {
  CreateMessageResult,
  DeliveryStore,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  insertFilteredSql,
  oneStatementEligible,
  writeOneStatement,
} from "./createMessagesFast.js";
import { type PgClient, type PgPool, withTransaction } from "./database.js";
import { readEndpointsVersion } from "./deliveryCatalog.js";
import { messagesWithDeliveries } from "./deliveryQueries.js";
import { pgCall, pgErrorCode, rows } from "./deliverySql.js";
import { countedTypes } from "./eventTypeSightings.js";
import { inboundKeyRowsJson, takeInboundKeys, takeInboundKeysSql } from "./inboundKeys.js";
import { NOTIFY_EXPRESSION } from "./wakeUpTurns.js";

/** The endpoint version the batch was routed on (CreateMessagesOptions), if it must be checked. */
type Guard = CreateMessagesOptions["endpointsVersion"];

/** Rounds (transactions) a batch may take when concurrent writers keep winning its keys. */
const MAX_ROUNDS = 8;

/** A concurrent writer changed what the plan was built on: roll back and decide again. */
class Contended extends Error {}

// Deadlock (40P01) and serialization (40001) failures roll the transaction back: decide again.
const RETRYABLE = new Set(["40P01", "40001"]);

// Who holds the batch's keys, and which endpoints exist: one round trip. Served by the unique
// index messages_idempotency_key, the primary keys of inbound_keys and of endpoints.
const READ = `SELECT 'message' AS kind, tenant AS a, idempotency_key AS b, id, NULL::timestamptz AS expires_at
FROM messages WHERE (tenant, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
UNION ALL
SELECT 'key', source, key, message_id, expires_at
FROM inbound_keys WHERE (source, key) IN (SELECT * FROM unnest($3::text[], $4::text[]))
UNION ALL
SELECT 'endpoint', NULL, NULL, id, NULL FROM endpoints WHERE id = ANY($5::text[])`;

// One parameter for any number of rows: the rows as JSON, typed by the table itself. Columns
// are named, so a column added later keeps its DEFAULT instead of receiving NULL. The payload
// arrives as JSON text in a JSON string (a top-level JSON null would become SQL NULL otherwise)
// and is parsed here. Sorted by key, so two batches sharing keys take them in one order.
function insertMessages(columns: readonly string[]): string {
  const select = columns.map((c) => (c === "payload" ? "(payload #>> '{}')::jsonb" : c));
  return `INSERT INTO messages (${columns.join(", ")})
SELECT ${select.join(", ")} FROM json_populate_recordset(NULL::messages, $1::json)
ORDER BY tenant, idempotency_key
ON CONFLICT (tenant, idempotency_key) DO NOTHING
RETURNING id, type`;
}

function insertDeliveries(columns: readonly string[]): string {
  const list = columns.join(", ");
  return `INSERT INTO deliveries (${list})
SELECT ${list} FROM json_populate_recordset(NULL::deliveries, $1::json)`;
}

interface Holders extends BatchHolders {
  endpoints: Set<string>;
}

async function readHolders(client: PgClient, records: readonly NewMessage[]): Promise<Holders> {
  const idempotent = new Map<string, string>();
  const inbound = new Map<string, { messageId: string; expiresAt: string }>();
  const endpoints = new Set<string>();
  const pair = (a: string, b: string) => `${a}\0${b}`;
  const keyed = records.flatMap((r) => (r.message.idempotencyKey === null ? [] : [r.message]));
  const deduped = records.flatMap((r) => (r.inboundKey === null ? [] : [r.inboundKey]));
  const endpointIds = [...new Set(records.flatMap((r) => r.deliveries.map((d) => d.endpointId)))];
  if (keyed.length + deduped.length + endpointIds.length > 0) {
    const { rows: found } = await client.query<{
      kind: "message" | "key" | "endpoint";
      a: string | null;
      b: string | null;
      id: string;
      expires_at: Date | null;
    }>(READ, [
      keyed.map((m) => m.tenant),
      keyed.map((m) => m.idempotencyKey),
      deduped.map((k) => k.source),
      deduped.map((k) => k.key),
      endpointIds,
    ]);
    for (const row of found) {
      if (row.kind === "endpoint") endpoints.add(row.id);
      else if (row.kind === "message") idempotent.set(pair(row.a!, row.b!), row.id);
      else {
        const expiresAt = row.expires_at!.toISOString();
        inbound.set(pair(row.a!, row.b!), { messageId: row.id, expiresAt });
      }
    }
  }
  return {
    endpoints,
    idempotent: (tenant, key) => idempotent.get(pair(tenant, key)),
    inbound: (source, key) => inbound.get(pair(source, key)),
  };
}

/**
 * The batch's writes as one statement (one round trip): its messages, dedupe keys, the
 * catalogue's count of its types and deliveries, and the workers' wake-up when it stored deliveries. Parents and children in sibling
 * CTEs: the foreign keys are checked at the end of the statement, when the messages exist. Answers
 * how many messages and keys were written, so a concurrent writer that won one of them is seen.
 */
function writeBatchSql(
  messageColumns: readonly string[],
  deliveryColumns: readonly string[] | undefined,
  filtered: boolean,
): string {
  const parts = [
    `m AS (${insertMessages(messageColumns)})`,
    `k AS (${takeInboundKeysSql("$2", "$3")})`,
    ...countedTypes("m", "$3"),
  ];
  if (deliveryColumns !== undefined) {
    parts.push(`d AS (${insertDeliveries(deliveryColumns).replace("$1", "$4")} RETURNING 1)`);
  }
  const notify =
    deliveryColumns === undefined
      ? ""
      : `, (SELECT ${NOTIFY_EXPRESSION} FROM (SELECT 1 FROM d LIMIT 1) AS one) AS notified`;
  // The filtered endpoints of the messages written (the next parameter, when any).
  if (filtered) {
    parts.push(`f AS (${insertFilteredSql(deliveryColumns === undefined ? "$4" : "$5")})`);
  }
  return `WITH ${parts.join(",\n")}
SELECT (SELECT count(*) FROM m)::int AS messages, (SELECT count(*) FROM k)::int AS keys${notify}`;
}

/** One round: read, plan, write. Throws Contended when a concurrent writer won a key. */
async function storeBatch(
  client: PgClient,
  records: readonly NewMessage[],
  nowIso: string,
  expected: Guard,
): Promise<CreateMessageResult[]> {
  if (expected !== undefined) {
    const actual = await readEndpointsVersion(client, expected.tenant);
    if (actual !== expected.version) {
      throw endpointsVersionChanged(expected.tenant, expected.version, actual);
    }
  }
  const holders = await readHolders(client, records);
  const plan = planBatch(records, nowIso, holders);
  assertEndpoints(plan, records.length, (id) => holders.endpoints.has(id));
  if (plan.created.length > 0) {
    const messages = plan.created.map(({ records: r }) => rows.messageParams(r.message));
    const deliveries = plan.created.flatMap(({ records: r }) =>
      r.deliveries.map(rows.deliveryParams),
    );
    const filtered = plan.created.flatMap(({ records: r }) => r.filtered.map(rows.filteredParams));
    const sql = writeBatchSql(
      Object.keys(messages[0]!),
      deliveries.length > 0 ? Object.keys(deliveries[0]!) : undefined,
      filtered.length > 0,
    );
    const params = [JSON.stringify(messages), inboundKeyRowsJson(plan.keys), nowIso];
    if (deliveries.length > 0) params.push(JSON.stringify(deliveries));
    if (filtered.length > 0) params.push(JSON.stringify(filtered));
    let written: { messages: number; keys: number };
    try {
      const { rows: counts } = await client.query<{ messages: number; keys: number }>(sql, params);
      written = counts[0]!;
    } catch (error) {
      // A message a concurrent batch won (its deliveries or key then miss their parent), or an
      // endpoint deleted since the read: the next round reads again and says which.
      if (pgErrorCode(error) === "23503") throw new Contended();
      throw error;
    }
    if (written.messages !== messages.length || written.keys !== plan.keys.length) {
      throw new Contended();
    }
  } else if (!(await takeInboundKeys(client, plan.keys, nowIso))) {
    throw new Contended();
  }
  const stored = await messagesWithDeliveries(client, plan.existingIds);
  // A holder deleted since the read (its keys went with it): decide again.
  if (stored.size !== plan.existingIds.length) throw new Contended();
  return batchResults(records, plan, (id) => stored.get(id)!);
}

/** The transaction path: rounds of storeBatch until one is not contended. */
async function inTransaction(
  pool: PgPool,
  records: readonly NewMessage[],
  nowIso: string,
  expected: Guard = undefined,
): Promise<CreateMessageResult[]> {
  for (let round = 1; ; round++) {
    try {
      return await pgCall(() =>
        withTransaction(pool, (client) => storeBatch(client, records, nowIso, expected)),
      );
    } catch (error) {
      const retry = error instanceof Contended || RETRYABLE.has(pgErrorCode(error) ?? "");
      if (!retry) throw error;
      if (round === MAX_ROUNDS) {
        throw new HeraldError(
          "store.unavailable",
          `createMessages lost to concurrent writers ${MAX_ROUNDS} times; try again`,
          { cause: error },
        );
      }
    }
  }
}

/**
 * The one-statement path; undefined when the statement wrote nothing and the whole batch must
 * take the transaction path.
 */
async function oneStatement(
  pool: PgPool,
  records: readonly NewMessage[],
  nowIso: string,
  expected: Guard,
): Promise<CreateMessageResult[] | undefined> {
  const written = await pgCall(() => writeOneStatement(pool, records, nowIso, expected));
  if (written === undefined) return undefined;
  const held = records.filter((r) => !written.has(r.message.id));
  const decided = held.length === 0 ? [] : await inTransaction(pool, held, nowIso);
  let next = 0;
  return records.map((r): CreateMessageResult => {
    if (written.has(r.message.id)) {
      return { message: r.message, deliveries: r.deliveries, created: true };
    }
    return decided[next++]!;
  });
}

export function postgresCreateMessages(
  pool: PgPool,
  clock: Clock,
): DeliveryStore["createMessages"] {
  return async (inputs, options) => {
    const nowIso = isoNow(clock);
    const records = newBatchRecords(inputs, nowIso, clock);
    if (records.length === 0) return [];
    const expected = options?.endpointsVersion;
    if (oneStatementEligible(records)) {
      const results = await oneStatement(pool, records, nowIso, expected);
      if (results !== undefined) return results;
    }
    return inTransaction(pool, records, nowIso, expected);
  };
}
