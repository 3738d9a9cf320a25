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
import { isHeraldError } from "../../core/errors.js";
import type { RetryPolicy } from "../../core/retryPolicy.js";
import {
  assertEndpoints,
  type BatchOutcome,
  batchResults,
  newBatchRecords,
  planBatch,
} from "../../model/messageBatch.js";
import { type NewMessage, newDeliveryRecords, payloadJson } from "../../model/messageRecords.js";
import { createEndpointRouter, deliveryInputs, type EndpointRouter } from "../../model/routing.js";
import { isoNow } from "../../model/time.js";
import type {
  CreateMessageResult,
  DeliveryRecord,
  DeliveryStore,
  MessageWithDeliveries,
} from "../deliveryPorts.js";
import type { Row } from "../sql/deliveryRows.js";
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
  /** The last router, reused while no other connection committed (PRAGMA data_version). */
  cache?: { version: number; router: EndpointRouter };
}

const ENABLED_ENDPOINTS =
  "SELECT * FROM endpoints WHERE tenant = ? AND enabled = 1 ORDER BY created_at, id";

function routeBatch(ctx: SqliteContext, batch: BatchToWrite, routing: BatchRouting): void {
  // A prepared statement, not db.pragma (which prepares one each call): once per batch.
  const version = ctx.sql("PRAGMA data_version").pluck().get() as number;
  let router = routing.cache?.version === version ? routing.cache.router : undefined;
  if (router === undefined) {
    const endpoints = (ctx.sql(ENABLED_ENDPOINTS).all(routing.tenant) as Row[]).map(rows.endpoint);
    router = createEndpointRouter(endpoints);
    routing.cache = { version, router };
  }
  // Delivery ids carry the batch's time (from the clock that made its records).
  const time = Date.parse(batch.nowIso);
  const clock: Clock = { now: () => time };
  for (const record of batch.records) {
    const inputs = deliveryInputs(router.match(record.message.type), routing.defaultRetry);
    record.deliveries = newDeliveryRecords(record.message.id, inputs, batch.nowIso, clock);
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
    payloads.push(payloadJson(r));
    return {
      message: { ...r.message, payload: null },
      deliveries: r.deliveries,
      inboundKey: r.inboundKey,
    };
  });
  return { records, batch: { nowIso, records: bare, payloads } };
}

type BatchPlan = ReturnType<typeof planBatch>;

/**
 * Inside a transaction: routes the batch (with routing) and decides it against what is stored,
 * checking the endpoints. Reads only: when it throws, nothing of the batch was written.
 */
function decideBatch(ctx: SqliteContext, batch: BatchToWrite, routing?: BatchRouting): BatchPlan {
  const { sql } = ctx;
  const { records, nowIso } = batch;
  if (routing !== undefined) routeBatch(ctx, batch, routing);
  const plan = planBatch(records, nowIso, {
    idempotent: (tenant, key) =>
      (
        sql("SELECT id FROM messages WHERE tenant = ? AND idempotency_key = ?").get(tenant, key) as
          | { id: string }
          | undefined
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
  return plan;
}

/** Inside the transaction of `decideBatch`: writes its plan. */
function applyBatch(
  ctx: SqliteContext,
  batch: BatchToWrite,
  plan: BatchPlan,
  stored: (id: string) => MessageWithDeliveries | undefined,
  routed: boolean,
): WrittenBatch {
  const { records, payloads } = batch;
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
  if (routed) written.deliveries = records.map((r) => r.deliveries);
  return written;
}

/** Decides and writes a batch in one IMMEDIATE transaction on `ctx`'s connection. */
function writeBatch(
  ctx: SqliteContext,
  batch: BatchToWrite,
  stored: (id: string) => MessageWithDeliveries | undefined,
  routing?: BatchRouting,
): WrittenBatch {
  return ctx.immediate(() =>
    applyBatch(ctx, batch, decideBatch(ctx, batch, routing), stored, routing !== undefined),
  );
}

/** What became of one batch of `writeBatches`. */
type BatchAnswer = { written: WrittenBatch } | { error: unknown };

/** One transaction of `writeBatches` (metrics, tests). */
export interface TransactionReport {
  /** Batches committed by it (or, failed, the batches it held). */
  batches: number;
  /** Their messages. */
  messages: number;
  durationMs: number;
  /** Rolled back (or never begun): none of its batches stayed. */
  failed: boolean;
}

function writeAlone(
  ctx: SqliteContext,
  batch: BatchToWrite,
  stored: (id: string) => MessageWithDeliveries | undefined,
  routing: BatchRouting | undefined,
  reports: TransactionReport[],
): BatchAnswer {
  const started = performance.now();
  let answer: BatchAnswer;
  try {
    answer = { written: writeBatch(ctx, batch, stored, routing) };
  } catch (error) {
    answer = { error };
  }
  reports.push({
    batches: 1,
    messages: batch.records.length,
    durationMs: performance.now() - started,
    failed: "error" in answer,
  });
  return answer;
}

/**
 * Several batches in ONE IMMEDIATE transaction (one commit, one fsync), decided in order: a
 * later batch sees what the earlier ones wrote (a dedupe key taken by one is a duplicate for
 * the next), exactly as if each had committed on its own before the next began. A batch whose
 * checks fail (before it wrote anything: an unknown endpoint) fails alone and the others go
 * on. A failure once a batch started writing, or at the commit, rolls the whole transaction
 * back, and each batch is then written again in its own transaction (nothing of the first try
 * stayed, so nothing is lost or written twice; each fails or commits as it would alone).
 */
export function writeBatches(
  ctx: SqliteContext,
  batches: readonly BatchToWrite[],
  stored: (id: string) => MessageWithDeliveries | undefined,
  routing?: BatchRouting,
): { answers: BatchAnswer[]; transactions: TransactionReport[] } {
  const transactions: TransactionReport[] = [];
  if (batches.length === 1) {
    return {
      answers: [writeAlone(ctx, batches[0] as BatchToWrite, stored, routing, transactions)],
      transactions,
    };
  }
  const started = performance.now();
  const answers: BatchAnswer[] = [];
  let begun = false;
  try {
    ctx.immediate(() => {
      begun = true;
      for (const batch of batches) {
        let plan: BatchPlan;
        try {
          plan = decideBatch(ctx, batch, routing);
        } catch (error) {
          // A refused batch (HeraldError) read only; any other error (a database failure may
          // have ended the transaction) aborts the whole, and each batch runs alone.
          if (!isHeraldError(error)) throw error;
          answers.push({ error });
          continue;
        }
        answers.push({ written: applyBatch(ctx, batch, plan, stored, routing !== undefined) });
      }
    });
  } catch (error) {
    const messages = batches.reduce((n, b) => n + b.records.length, 0);
    const durationMs = performance.now() - started;
    transactions.push({ batches: batches.length, messages, durationMs, failed: true });
    // Not begun (the write lock not had within the busy timeout): nothing ran, and each batch
    // alone would wait as long again: all fail with this error.
    if (!begun) return { answers: batches.map(() => ({ error })), transactions };
    return {
      answers: batches.map((batch) => writeAlone(ctx, batch, stored, routing, transactions)),
      transactions,
    };
  }
  const durationMs = performance.now() - started;
  let committed = 0;
  let messages = 0;
  for (const [i, answer] of answers.entries()) {
    const size = (batches[i] as BatchToWrite).records.length;
    if ("written" in answer) {
      committed += 1;
      messages += size;
    } else transactions.push({ batches: 1, messages: size, durationMs: 0, failed: true });
  }
  if (committed > 0) {
    transactions.push({ batches: committed, messages, durationMs, failed: false });
  }
  return { answers, transactions };
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
