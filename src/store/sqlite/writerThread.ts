// createMessages on a writer thread: the batch is checked and its records built here (ids from
// this side's clock, so they stay ordered with the rest of the process), then decided and
// written in an IMMEDIATE transaction by a node:worker_threads thread with its own connection
// to the same file (writerWorker.ts). The promise settles once that transaction committed
// (fsynced with synchronous=FULL), so a caller answering after it answers for a durable write;
// meanwhile this event loop keeps serving. Dedupe is decided inside the thread's transaction
// under SQLite's write lock, as on any connection; errors come back as the same HeraldErrors.
//
// A batch is posted at once, even while earlier ones are still being written: the thread takes
// every batch queued when it is free into one transaction (up to `maxTransactionMessages`), so
// it never waits for this event loop between commits.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type Clock, systemClock } from "../../core/clock.js";
import { HeraldError, type HeraldErrorCode } from "../../core/errors.js";
import type { RetryPolicy } from "../../core/retryPolicy.js";
import type { DeliveryStore } from "../deliveryPorts.js";
import type { TransactionReport, WrittenBatch } from "./createMessages.js";
import { batchOutcomeResults, batchToWrite } from "./createMessages.js";
import type { SqliteDurability } from "./database.js";
import { call } from "./deliverySql.js";
import {
  encodeBatch,
  type WriterError,
  type WriterReply,
  type WriterRequest,
} from "./writerWorker.js";

export interface WriterOptions {
  /** The database file (migrated already). */
  path: string;
  durability: SqliteDurability;
  busyTimeoutMs: number;
  /** How often the thread looks at the WAL while no batch comes in. */
  checkpointIntervalMs: number;
  /** A checkpoint runs when the thread wrote nothing for this long. */
  checkpointIdleMs: number;
  /** A WAL file larger than this is checkpointed with TRUNCATE (when readers allow). */
  walTruncateBytes: number;
  /**
   * Most messages the thread writes in one transaction when it takes several queued batches
   * together (a batch larger than this is still written whole, alone).
   */
  maxTransactionMessages: number;
  /**
   * When set, each message's deliveries are planned in the thread's transaction, from the
   * tenant's enabled endpoints (createMessages.ts, BatchRouting); inputs carry none.
   */
  routing?: { tenant: string; defaultRetry: RetryPolicy };
}

export interface SqliteWriter {
  /** DeliveryStore.createMessages, written by the thread. */
  createMessages: DeliveryStore["createMessages"];
  /** Waits for the batches sent, then closes the thread's connection and ends the thread. */
  close(): Promise<void>;
  /**
   * Calls `listener` for each transaction the thread ended (committed or rolled back): how many
   * batches and messages it held, how long it took. For metrics and tests.
   */
  observeTransactions(listener: (transaction: TransactionReport) => void): void;
  /**
   * Ends the running thread at once, as a crash would (its batches fail with
   * store.unavailable; the next batch starts a new thread). For tests.
   */
  killThread(): Promise<void>;
}

const workerUrl = new URL("./writerWorker.js", import.meta.url);

/**
 * True when the thread's compiled script exists next to this module (a build: dist/). Running
 * from TypeScript sources (vitest), it does not, and callers write on their own connection.
 */
export function sqliteWriterAvailable(): boolean {
  return workerUrl.protocol === "file:" && existsSync(fileURLToPath(workerUrl));
}

function fromWriterError(error: WriterError): unknown {
  switch (error.kind) {
    case "herald":
      return new HeraldError(
        error.code as HeraldErrorCode,
        error.message,
        error.details === undefined ? {} : { details: error.details },
      );
    case "sqlite":
      return Object.assign(new Error(error.message), { code: error.code });
    default:
      return Object.assign(new Error(error.message), { name: error.name });
  }
}

function stoppedError(reason: string): HeraldError {
  return new HeraldError("store.unavailable", `The SQLite writer thread stopped: ${reason}`);
}

export async function startSqliteWriter(
  options: Partial<WriterOptions> & { path: string; clock?: Clock },
): Promise<SqliteWriter> {
  const clock = options.clock ?? systemClock;
  const settings: WriterOptions = {
    path: options.path,
    durability: options.durability ?? "full",
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    checkpointIntervalMs: options.checkpointIntervalMs ?? 1000,
    checkpointIdleMs: options.checkpointIdleMs ?? 500,
    walTruncateBytes: options.walTruncateBytes ?? 64 * 1024 * 1024,
    maxTransactionMessages: options.maxTransactionMessages ?? 512,
    ...(options.routing === undefined ? {} : { routing: options.routing }),
  };
  const pending = new Map<
    number,
    { resolve: (w: WrittenBatch) => void; reject: (e: unknown) => void }
  >();
  let nextId = 1;
  const observers: Array<(transaction: TransactionReport) => void> = [];
  /** Set once closed: no batch is taken any more. */
  let stopped: HeraldError | undefined;
  let onClosed: (() => void) | undefined;
  /** The running thread; a thread that died is replaced at the next batch. */
  let thread: Promise<Worker> | undefined;
  let live: Worker | undefined;

  const failPending = (error: HeraldError) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };

  const spawn = async (): Promise<Worker> => {
    const worker = new Worker(workerUrl, { workerData: settings });
    await new Promise<void>((resolve, reject) => {
      const early = (error: unknown) => reject(error);
      worker.once("error", early);
      worker.once("exit", (code) => reject(stoppedError(`exited with code ${code} on start`)));
      worker.once("message", (reply: WriterReply) => {
        worker.off("error", early);
        worker.removeAllListeners("exit");
        if ("ready" in reply && reply.ready) resolve();
        else if ("error" in reply) reject(fromWriterError(reply.error));
        else reject(stoppedError("unexpected first message"));
      });
    }).catch(async (error: unknown) => {
      await worker.terminate().catch(() => {});
      // Opening failed: the same translation as the main connection's open (store.unavailable).
      await call(() => {
        throw error;
      });
    });
    worker.on("message", (reply: WriterReply) => {
      if ("closed" in reply) {
        onClosed?.();
        return;
      }
      if (!("answers" in reply)) return;
      for (const answer of reply.answers) {
        const waiter = pending.get(answer.id);
        if (waiter === undefined) continue;
        pending.delete(answer.id);
        if ("written" in answer) waiter.resolve(JSON.parse(answer.written) as WrittenBatch);
        else waiter.reject(fromWriterError(answer.error));
      }
      for (const transaction of reply.transactions) {
        for (const observe of observers) observe(transaction);
      }
    });
    // A thread that dies (a crash, an uncaught error) fails the batches it held — each was
    // committed or not, never half: a caller told store.unavailable may retry, and dedupe
    // answers for one that was in fact committed — and the next batch starts a new thread.
    let died: HeraldError | undefined;
    worker.on("error", (error) => {
      died ??= stoppedError(error.message);
    });
    worker.on("exit", (code) => {
      if (live === worker) {
        live = undefined;
        thread = undefined;
      }
      failPending(died ?? stoppedError(`exited with code ${code}`));
      onClosed?.();
    });
    live = worker;
    return worker;
  };

  thread = spawn();
  // Start-up errors reach the caller of startSqliteWriter.
  await thread;

  let closing: Promise<void> | undefined;
  return {
    async createMessages(inputs) {
      const { records, batch } = batchToWrite(inputs, clock);
      if (records.length === 0) return [];
      if (stopped !== undefined) throw stopped;
      thread ??= spawn();
      const starting = thread;
      const worker = await starting.catch((error: unknown) => {
        if (thread === starting) thread = undefined;
        throw error;
      });
      // It may have died while starting; a batch posted to it now would never be answered.
      if (live !== worker) throw stoppedError("exited");
      const id = nextId++;
      const written = await new Promise<WrittenBatch>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({
          id,
          count: records.length,
          ...encodeBatch(batch),
        } satisfies WriterRequest);
      }).catch((error: unknown) =>
        // SQLITE_BUSY after the busy timeout and the like: store.unavailable, as on any connection.
        call<WrittenBatch>(() => {
          throw error;
        }),
      );
      return batchOutcomeResults(records, written);
    },
    observeTransactions(listener) {
      observers.push(listener);
    },
    async killThread() {
      const worker = await thread?.catch(() => undefined);
      await worker?.terminate();
    },
    close() {
      closing ??= (async () => {
        stopped = stoppedError("closed");
        const worker = await thread?.catch(() => undefined);
        if (worker === undefined || live !== worker) return;
        const done = new Promise<void>((resolve) => {
          onClosed = resolve;
        });
        // Messages are handled in order: every batch sent before this is written first.
        worker.postMessage({ close: true } satisfies WriterRequest);
        await done;
        failPending(stopped);
        await worker.terminate().catch(() => {});
      })();
      return closing;
    },
  };
}
