// The SQLite writer thread's own side (run by writerThread.ts in a node:worker_threads Worker):
// its own connection to the database file, opened like the main one, on which it writes the
// batches it is sent (createMessages' transaction, createMessages.ts) and runs the WAL
// checkpoints. better-sqlite3 is synchronous: here, a COMMIT and its fsync block this thread
// only, not the event loop that serves HTTP.
//
// Pipelined: the main thread posts batches without waiting for the previous ones' answers, so
// while one transaction commits the next batches queue on the port. When a batch arrives, every
// other batch already queued is taken too (receiveMessageOnPort) and all are written in ONE
// transaction (writeBatches: one fsync for all), up to `maxTransactionMessages`; their answers
// go back in one message. A lone batch is written at once: nothing waits for company.
import { statSync } from "node:fs";
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { isHeraldError } from "../../core/errors.js";
import {
  type BatchRouting,
  type BatchToWrite,
  type TransactionReport,
  writeBatches,
} from "./createMessages.js";
import { openSqlite, type SqliteDatabase } from "./database.js";
import { messageWithDeliveries } from "./deliveryQueries.js";
import { sqliteContext } from "./deliverySql.js";
import type { WriterOptions } from "./writerThread.js";

/**
 * Main → thread. A batch crosses as two strings (structured clone copies a string at once, but
 * walks an object graph field by field): `meta`, the JSON of the batch without its payloads,
 * and `payloads`, the payloads' JSON texts one after another (their lengths are in `meta`).
 */
export type WriterRequest = BatchRequest | { close: true };

/** A batch to write; `count` is its number of messages. */
export interface BatchRequest {
  id: number;
  count: number;
  meta: string;
  payloads: string;
}

interface BatchMeta {
  nowIso: string;
  records: BatchToWrite["records"];
  lengths: number[];
}

export function encodeBatch(batch: BatchToWrite): { meta: string; payloads: string } {
  const meta: BatchMeta = {
    nowIso: batch.nowIso,
    records: batch.records,
    lengths: batch.payloads.map((p) => p.length),
  };
  return { meta: JSON.stringify(meta), payloads: batch.payloads.join("") };
}

export function decodeBatch(meta: string, payloads: string): BatchToWrite {
  const { nowIso, records, lengths } = JSON.parse(meta) as BatchMeta;
  let at = 0;
  const texts = lengths.map((length) => {
    const text = payloads.slice(at, at + length);
    at += length;
    return text;
  });
  return { nowIso, records, payloads: texts };
}

/** An error as it crosses the thread boundary. */
export type WriterError =
  | { kind: "herald"; code: string; message: string; details?: Record<string, unknown> }
  | { kind: "sqlite"; code: string; message: string }
  | { kind: "other"; name: string; message: string };

/** What became of one batch: the JSON of its WrittenBatch, or its error. */
export type BatchReply = { id: number; written: string } | { id: number; error: WriterError };

/** Thread → main. */
export type WriterReply =
  | { ready: true }
  | { ready: false; error: WriterError }
  /** The batches taken together, once their transaction(s) ended, and those transactions. */
  | { answers: BatchReply[]; transactions: TransactionReport[] }
  | { closed: true };

export function toWriterError(error: unknown): WriterError {
  if (isHeraldError(error)) {
    return error.details === undefined
      ? { kind: "herald", code: error.code, message: error.message }
      : { kind: "herald", code: error.code, message: error.message, details: error.details };
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === "string" && code.startsWith("SQLITE_")) {
    return { kind: "sqlite", code, message };
  }
  return { kind: "other", name: error instanceof Error ? error.name : "Error", message };
}

function run(port: NonNullable<typeof parentPort>, options: WriterOptions): void {
  let db: SqliteDatabase;
  try {
    db = openSqlite(options.path, {
      durability: options.durability,
      busyTimeoutMs: options.busyTimeoutMs,
    });
  } catch (error) {
    port.postMessage({ ready: false, error: toWriterError(error) } satisfies WriterReply);
    return;
  }
  const ctx = sqliteContext(db);
  const routing: BatchRouting | undefined =
    options.routing === undefined ? undefined : { ...options.routing };
  const stored = (id: string) => messageWithDeliveries(ctx, id);
  const walPath = `${options.path}-wal`;
  let lastWrite = 0;
  let closed = false;
  const maxMessages = options.maxTransactionMessages;

  // SQLite's automatic checkpoint (every `wal_autocheckpoint` pages) stays on for this
  // connection: it runs after this thread's commits, off the event loop. The serving
  // connection has it off (startService). Writes made there while no webhook comes in (API)
  // are checkpointed by this timer once the writer has been idle a while; a WAL grown past
  // the limit is truncated when readers allow, idle or not.
  const checkpoint = () => {
    if (closed) return;
    try {
      let size = 0;
      try {
        size = statSync(walPath).size;
      } catch {
        return; // no WAL file (yet)
      }
      if (size > options.walTruncateBytes) {
        // Grown (checkpoints kept from completing, e.g. by long reads): even under load, copy
        // it back and empty it once readers allow (this waits in the busy handler, here only).
        db.pragma("wal_checkpoint(TRUNCATE)");
      } else if (size > 0 && Date.now() - lastWrite >= options.checkpointIdleMs) {
        db.pragma("wal_checkpoint(PASSIVE)");
      }
    } catch {
      // Busy (another process checkpoints or writes): the next tick tries again.
    }
  };
  const timer = setInterval(checkpoint, options.checkpointIntervalMs);

  const close = () => {
    closed = true;
    clearInterval(timer);
    try {
      db.close();
    } finally {
      port.postMessage({ closed: true } satisfies WriterReply);
      port.close();
    }
  };

  /** Writes the batches taken together and answers them in one message. */
  const write = (requests: readonly BatchRequest[]) => {
    const answers: BatchReply[] = [];
    const batches: BatchToWrite[] = [];
    const ids: number[] = [];
    for (const request of requests) {
      try {
        batches.push(decodeBatch(request.meta, request.payloads));
        ids.push(request.id);
      } catch (error) {
        answers.push({ id: request.id, error: toWriterError(error) });
      }
    }
    let transactions: TransactionReport[] = [];
    if (batches.length > 0) {
      const done = writeBatches(ctx, batches, stored, routing);
      transactions = done.transactions;
      for (const [i, answer] of done.answers.entries()) {
        const id = ids[i] as number;
        answers.push(
          "written" in answer
            ? { id, written: JSON.stringify(answer.written) }
            : { id, error: toWriterError(answer.error) },
        );
      }
    }
    lastWrite = Date.now();
    port.postMessage({ answers, transactions } satisfies WriterReply);
  };

  port.on("message", (first: WriterRequest) => {
    let next: WriterRequest | undefined = first;
    while (next !== undefined) {
      if ("close" in next) {
        close();
        return;
      }
      // This batch and every one queued behind it, up to the cap (a batch past it starts the
      // next transaction); a close request ends the taking (the batches before it are written).
      const group: BatchRequest[] = [next];
      let messages = next.count;
      let closing = false;
      next = undefined;
      for (;;) {
        const queued = receiveMessageOnPort(port)?.message as WriterRequest | undefined;
        if (queued === undefined) break;
        if ("close" in queued) {
          closing = true;
          break;
        }
        if (messages + queued.count > maxMessages) {
          next = queued;
          break;
        }
        group.push(queued);
        messages += queued.count;
      }
      write(group);
      if (closing) {
        close();
        return;
      }
    }
  });
  port.postMessage({ ready: true } satisfies WriterReply);
}

if (parentPort !== null) run(parentPort, workerData as WriterOptions);
