// SQLite createMessages: a whole batch in one IMMEDIATE transaction. The write lock serialises
// writers across connections and processes, so what the batch reads (idempotency and dedupe
// keys, endpoints) still holds when it writes; better-sqlite3 is synchronous, so the batch is
// one db.transaction from the first read to the commit.
//
// Two halves, so the transaction can run on another connection (the writer thread,
// writerThread.ts): `batchToWrite` checks the inputs and builds the records and the payloads'
// JSON (no database), `writeBatch` decides and writes them in the transaction, and
// `batchOutcomeResults` turns its answer into the store's results.
import type { Statement } from "better-sqlite3";
import type { Clock } from "../../core/clock.js";
import type { RetryPolicy } from "../../core/retryPolicy.js";
import {
  createEndpointRouter,
  deliveryInputs,
  type EndpointRouter,
} from "../../delivery/routing.js";
import {
  assertEndpoints,
  type BatchOutcome,
  batchResults,
  newBatchRecords,
  planBatch,
} from "../delivery/messageBatch.js";
import { type NewMessage, newDeliveryRecords, payloadJson } from "../delivery/messageRecords.js";
import type { Row } from "../delivery/rows.js";
import { isoNow } from "../delivery/time.js";
import type {
  CreateMessageResult,
  DeliveryRecord,
  DeliveryStore,
  MessageWithDeliveries,
} from "../deliveryPorts.js";
import { call, insertSql, rows, type SqliteContext } from "./deliverySql.js";
import { inboundKeyHolder, takeInboundKeys } from "./inboundKeys.js";

/** A checked batch as the transaction needs it: structured-clone friendly (no payload objects). */
export interface BatchToWrite {
  nowIso: string;
  /** The records, each message's payload replaced by null: its JSON text is in `payloads`. */
  records: NewMessage[];
  payloads: string[];
}

/** What the transaction decided, and the stored messages some inputs duplicate. */
export interface WrittenBatch {
  outcomes: BatchOutcome[];
  existing: MessageWithDeliveries[];
  /** With routing: the deliveries planned for each input (in input order). */
  deliveries?: DeliveryRecord[][];
}

/**
 * Deliveries planned inside the transaction: each input goes to the tenant's enabled endpoints
 * whose patterns match its type, read under the write lock (so none can vanish before the
 * write). The inputs carry no deliveries of their own.
 */
export interface BatchRouting {
  tenant: string;
  defaultRetry: RetryPolicy;
  /** Ids of the planned deliveries; its time is the batch's. */
  clock: Clock;
  /** The last router, reused while no other connection committed (PRAGMA data_version). */
  cache?: { version: number; router: EndpointRouter };
}

const ENABLED_ENDPOINTS =
  "SELECT * FROM endpoints WHERE tenant = ? AND enabled = 1 ORDER BY created_at, id";

function routeBatch(ctx: SqliteContext, batch: BatchToWrite, routing: BatchRouting): void {
  const version = ctx.db.pragma("data_version", { simple: true }) as number;
  let router = routing.cache?.version === version ? routing.cache.router : undefined;
  if (router === undefined) {
    const endpoints = (ctx.sql(ENABLED_ENDPOINTS).all(routing.tenant) as Row[]).map(rows.endpoint);
    router = createEndpointRouter(endpoints);
    routing.cache = { version, router };
  }
  for (const record of batch.records) {
    const inputs = deliveryInputs(router.match(record.message.type), routing.defaultRetry);
    record.deliveries = newDeliveryRecords(record.message.id, inputs, batch.nowIso, routing.clock);
  }
}

/** The INSERT of a row shape, built once per column list (rows of one table share it). */
function insertStatement(ctx: SqliteContext, table: string, params: Record<string, unknown>) {
  return ctx.sql(insertSql(table, params as Parameters<typeof insertSql>[1]));
}

/** Checks the inputs and builds their records (ids from `clock`); throws as createMessages. */
export function batchToWrite(
  inputs: Parameters<DeliveryStore["createMessages"]>[0],
  clock: Clock,
): { records: NewMessage[]; batch: BatchToWrite } {
  const nowIso = isoNow(clock);
  const records = newBatchRecords(inputs, nowIso, clock);
  const payloads: string[] = [];
  const bare = records.map((r): NewMessage => {
    payloads.push(payloadJson(r.message));
    return { ...r, message: { ...r.message, payload: null } };
  });
  return { records, batch: { nowIso, records: bare, payloads } };
}

/** Decides and writes a batch in one IMMEDIATE transaction on `ctx`'s connection. */
export function writeBatch(
  ctx: SqliteContext,
  batch: BatchToWrite,
  stored: (id: string) => MessageWithDeliveries | undefined,
  routing?: BatchRouting,
): WrittenBatch {
  const { sql } = ctx;
  const { records, payloads, nowIso } = batch;
  return ctx.immediate(() => {
    if (routing !== undefined) routeBatch(ctx, batch, routing);
    const plan = planBatch(records, nowIso, {
      idempotent: (tenant, key) =>
        (
          sql("SELECT id FROM messages WHERE tenant = ? AND idempotency_key = ?").get(
            tenant,
            key,
          ) as { id: string } | undefined
        )?.id,
      inbound: (source, key) => inboundKeyHolder(ctx, source, key),
    });
    // A batch's deliveries mostly share a few endpoints: each is looked up once.
    const exists = sql("SELECT 1 FROM endpoints WHERE id = ?");
    const known = new Map<string, boolean>();
    assertEndpoints(plan, records.length, (id) => {
      let found = known.get(id);
      if (found === undefined) {
        found = exists.get(id) !== undefined;
        known.set(id, found);
      }
      return found;
    });
    let insertMessage: Statement | undefined;
    let insertDelivery: Statement | undefined;
    for (const { index, records: created } of plan.created) {
      const message = rows.messageParams(created.message);
      message.payload = payloads[index];
      insertMessage ??= insertStatement(ctx, "messages", message);
      insertMessage.run(message);
      for (const d of created.deliveries) {
        const delivery = rows.deliveryParams(d);
        insertDelivery ??= insertStatement(ctx, "deliveries", delivery);
        insertDelivery.run(delivery);
      }
    }
    takeInboundKeys(ctx, plan.keys);
    const written: WrittenBatch = {
      outcomes: plan.outcomes,
      existing: plan.existingIds.map((id) => stored(id)!),
    };
    if (routing !== undefined) written.deliveries = records.map((r) => r.deliveries);
    return written;
  });
}

/** One result per input, from the full records and what the transaction decided. */
export function batchOutcomeResults(
  records: readonly NewMessage[],
  written: WrittenBatch,
): CreateMessageResult[] {
  const existing = new Map(written.existing.map((m) => [m.message.id, m]));
  const planned = written.deliveries;
  return batchResults(
    planned === undefined
      ? records
      : records.map((r, i) => ({ ...r, deliveries: planned[i] ?? [] })),
    { outcomes: written.outcomes, created: [], keys: [], existingIds: [] },
    (id) => existing.get(id)!,
  );
}

export function sqliteCreateMessages(
  ctx: SqliteContext,
  clock: Clock,
  messageWithDeliveries: (id: string) => MessageWithDeliveries | undefined,
): DeliveryStore["createMessages"] {
  return (inputs) =>
    call(() => {
      const { records, batch } = batchToWrite(inputs, clock);
      if (records.length === 0) return [];
      return batchOutcomeResults(records, writeBatch(ctx, batch, messageWithDeliveries));
    });
}
