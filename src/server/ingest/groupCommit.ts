// Group commit for ingestion: requests that arrive while a transaction is being written wait
// and go together into the next one, so N concurrent webhooks cost one commit (one fsync on
// SQLite) instead of N. A lone request is written at once: batching never adds a timer's delay
// unless `maxWaitMs` asks for it.
import { coerceError, HeraldError, isHeraldError } from "../../core/errors.js";
import type {
  CreateMessageInput,
  CreateMessageResult,
  DeliveryStore,
} from "../../store/deliveryPorts.js";

export interface GroupCommitOptions {
  store: Pick<DeliveryStore, "createMessages">;
  /** Most messages per transaction. Default 256. */
  maxBatch?: number;
  /** Transactions written at once (1 for SQLite's single writer). Default 1. */
  maxConcurrent?: number;
  /** Extra wait before writing a batch that is not full, to gather more. Default 0. */
  maxWaitMs?: number;
  /** Called once per written batch (metrics). */
  onBatch?: (size: number, durationMs: number, failed: boolean) => void;
  /**
   * Turns a batch into store inputs just before it is written (e.g. the deliveries of each
   * message from one read of the endpoints). Default: the inputs as submitted.
   */
  prepare?: (inputs: readonly CreateMessageInput[]) => Promise<CreateMessageInput[]>;
  /**
   * A submitter stops waiting after this long (the request deadline): its promise rejects with
   * store.unavailable. A message still queued is then dropped, never written; one whose batch is
   * being written may still be committed — its dedupe key with it, so a retry is answered as a
   * duplicate. Default: wait as long as the store takes.
   */
  giveUpAfterMs?: number;
}

export interface GroupCommitter {
  /** Resolves once the message is committed (or found to be a duplicate); rejects as the store did. */
  submit(input: CreateMessageInput): Promise<CreateMessageResult>;
  /** Waits for every submitted message to be settled. */
  drain(): Promise<void>;
  readonly pending: number;
}

const PREPARE_ROUNDS = 3;

interface Waiter {
  input: CreateMessageInput;
  resolve: (result: CreateMessageResult) => void;
  reject: (error: unknown) => void;
  /** With giveUpAfterMs: one timer per waiter (an AbortSignal per request costs ~15 µs). */
  timer: NodeJS.Timeout | undefined;
  gaveUp: boolean;
}

export function createGroupCommitter(options: GroupCommitOptions): GroupCommitter {
  const { store } = options;
  const maxBatch = options.maxBatch ?? 256;
  const maxConcurrent = options.maxConcurrent ?? 1;
  const maxWaitMs = options.maxWaitMs ?? 0;
  const prepare = options.prepare ?? (async (inputs) => [...inputs]);
  const { giveUpAfterMs } = options;
  const queue: Waiter[] = [];
  let running = 0;
  let scheduled = false;
  const idle: Array<() => void> = [];

  async function write(batch: Waiter[]): Promise<void> {
    const started = performance.now();
    let failed = false;
    try {
      // An endpoint deleted between `prepare` and the write makes the store refuse the batch
      // (nothing stored); preparing again sees the catalogue without it.
      let results: CreateMessageResult[] | undefined;
      for (let round = 1; results === undefined; round++) {
        try {
          results = await store.createMessages(await prepare(batch.map((w) => w.input)));
        } catch (error) {
          if (round >= PREPARE_ROUNDS || !isHeraldError(error, "endpoint.not_found")) throw error;
        }
      }
      for (const [i, waiter] of batch.entries()) {
        clearTimeout(waiter.timer);
        waiter.resolve(results[i] as CreateMessageResult);
      }
    } catch (error) {
      failed = true;
      if (batch.length > 1 && !isHeraldError(error, "store.unavailable")) {
        // One bad input must not fail the others: write each on its own (not those whose
        // submitter gave up meanwhile: they were answered, and nothing of theirs was stored).
        for (const waiter of batch) if (!waiter.gaveUp) await write([waiter]);
        return;
      }
      for (const waiter of batch) {
        clearTimeout(waiter.timer);
        waiter.reject(coerceError(error));
      }
    } finally {
      options.onBatch?.(batch.length, performance.now() - started, failed);
    }
  }

  function giveUp(waiter: Waiter): void {
    waiter.gaveUp = true;
    const queued = queue.indexOf(waiter);
    if (queued >= 0) queue.splice(queued, 1);
    if (queue.length === 0 && running === 0) for (const done of idle.splice(0)) done();
    waiter.reject(
      new HeraldError(
        "store.unavailable",
        `The store did not commit within ${giveUpAfterMs} ms; try again later`,
      ),
    );
  }

  function pump(): void {
    while (running < maxConcurrent && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      running += 1;
      void write(batch).finally(() => {
        running -= 1;
        if (queue.length > 0) schedule();
        else if (running === 0) for (const done of idle.splice(0)) done();
      });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    const run = () => {
      scheduled = false;
      pump();
    };
    // setImmediate lets every request whose body already arrived join this batch.
    if (maxWaitMs > 0 && queue.length < maxBatch) setTimeout(run, maxWaitMs);
    else setImmediate(run);
  }

  return {
    submit(input) {
      return new Promise<CreateMessageResult>((resolve, reject) => {
        const waiter: Waiter = { input, resolve, reject, timer: undefined, gaveUp: false };
        if (giveUpAfterMs !== undefined) waiter.timer = setTimeout(giveUp, giveUpAfterMs, waiter);
        queue.push(waiter);
        if (running < maxConcurrent) schedule();
      });
    },
    drain() {
      if (queue.length === 0 && running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
    get pending() {
      return queue.length + running;
    },
  };
}
