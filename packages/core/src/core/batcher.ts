// Group commit, once for every writer: items submitted while a batch is being written wait and
// go together into the next one, so N concurrent writes cost one transaction (one commit, one
// fsync) instead of N. A batch starts at the end of the event-loop turn that queued its first
// item (every item submitted in that turn joins it): batching never adds a timer's delay unless
// `maxWaitMs` asks for it.

/** One item's outcome in a written batch. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions<I, R> {
  /**
   * Writes one batch and answers one outcome per item, in order (a failed item fails alone).
   * A throw fails every item of the batch.
   */
  write(items: readonly I[]): Promise<readonly Settled<R>[]> | readonly Settled<R>[];
  /** Most items per batch. Default 256. */
  maxBatch?: number;
  /** Batches written at once (1 for a single writer). Default 1. */
  maxConcurrent?: number;
  /**
   * With `maxConcurrent` above 1: a batch starts while others are being written only when at
   * least this many items wait; fewer wait for a batch in flight to finish and go together into
   * the next one. So a steady flow is written in few, full batches, and batches overlap only
   * for a backlog. Default 1: whenever any wait.
   */
  overlapFrom?: number;
  /** Extra wait before writing a batch that is not full, to gather more. Default 0. */
  maxWaitMs?: number;
  /**
   * Items with the same key never share a batch: a later one waits for the next batch (so a
   * batch touches each row once). Default: no key.
   */
  key?: (item: I) => string;
  /**
   * `turn` (default): a batch starts at the end of the turn. `eager`: a lone item after a quiet
   * turn is written at once (after the current callback), with what the same callback queues
   * next to it; the items that follow in that turn, and every item while batches come in bursts
   * (the last held more than one), wait for the turn's end.
   */
  start?: "turn" | "eager";
  /**
   * When a batch of several items throws an error this accepts, each item (but those whose
   * submitter gave up) is written again in a batch of its own, so one bad item fails alone.
   */
  retryAlone?: (error: unknown) => boolean;
  /**
   * A submitter stops waiting after `afterMs`: its promise rejects with `error()`. An item still
   * queued is then dropped, never written; one whose batch is being written may still be.
   */
  giveUp?: { afterMs: number; error: () => unknown };
  /** Called once per written batch (metrics). */
  onBatch?: (size: number, durationMs: number, failed: boolean) => void;
}

export interface Batcher<I, R> {
  /** Resolves with the item's outcome once its batch is written; rejects as the write did. */
  submit(item: I): Promise<R>;
  /** Waits for every submitted item to be settled. */
  drain(): Promise<void>;
  /** Items queued plus batches being written. */
  readonly pending: number;
}

interface Waiter<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
  /** With giveUp: one timer per waiter (an AbortSignal per item costs ~15 µs). */
  timer: NodeJS.Timeout | undefined;
  gaveUp: boolean;
}

export function createBatcher<I, R>(options: BatcherOptions<I, R>): Batcher<I, R> {
  const maxBatch = options.maxBatch ?? 256;
  const maxConcurrent = options.maxConcurrent ?? 1;
  const maxWaitMs = options.maxWaitMs ?? 0;
  const overlapFrom = Math.max(1, options.overlapFrom ?? 1);
  const { key, giveUp, retryAlone } = options;
  const queue: Waiter<I, R>[] = [];
  let running = 0;
  let scheduled = false;
  /** eager: a batch already started at once in this turn; the last batch held several items. */
  let startedThisTurn = false;
  let bursting = false;
  const idle: Array<() => void> = [];

  const settleIdle = () => {
    if (queue.length === 0 && running === 0) for (const done of idle.splice(0)) done();
  };

  const settle = (waiter: Waiter<I, R>, outcome: Settled<R>) => {
    clearTimeout(waiter.timer);
    if (outcome.ok) waiter.resolve(outcome.value);
    else waiter.reject(outcome.error);
  };

  async function write(batch: Waiter<I, R>[]): Promise<void> {
    const started = performance.now();
    let failed = false;
    try {
      const outcomes = await options.write(batch.map((w) => w.item));
      for (const [i, waiter] of batch.entries()) settle(waiter, outcomes[i]!);
    } catch (error) {
      failed = true;
      if (batch.length > 1 && retryAlone?.(error) === true) {
        // Not those whose submitter gave up meanwhile: they were answered.
        for (const waiter of batch) if (!waiter.gaveUp) await write([waiter]);
        return;
      }
      for (const waiter of batch) settle(waiter, { ok: false, error });
    } finally {
      options.onBatch?.(batch.length, performance.now() - started, failed);
    }
  }

  /**
   * The next batch, in queue order; with `key`, an item whose key it already holds stays
   * queued, and what stays queued waits for the next turn (`heldBack`).
   */
  function take(): { batch: Waiter<I, R>[]; heldBack: boolean } {
    if (key === undefined) return { batch: queue.splice(0, maxBatch), heldBack: false };
    const batch: Waiter<I, R>[] = [];
    const keys = new Set<string>();
    let kept = 0;
    for (const waiter of queue) {
      const k = key(waiter.item);
      if (batch.length < maxBatch && !keys.has(k)) {
        keys.add(k);
        batch.push(waiter);
      } else queue[kept++] = waiter;
    }
    queue.length = kept;
    return { batch, heldBack: kept > 0 };
  }

  /** Whether a batch may start now: none is being written, or enough items wait to overlap. */
  const mayStart = () =>
    queue.length > 0 && (running === 0 || (running < maxConcurrent && queue.length >= overlapFrom));

  function pump(): void {
    while (mayStart()) {
      const { batch, heldBack } = take();
      bursting = batch.length > 1;
      running += 1;
      void write(batch).finally(() => {
        running -= 1;
        if (queue.length > 0) schedule();
        else settleIdle();
      });
      if (heldBack) {
        schedule();
        return;
      }
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    const run = () => {
      scheduled = false;
      pump();
    };
    if (options.start === "eager" && !bursting && !startedThisTurn) {
      startedThisTurn = true;
      queueMicrotask(run);
      setImmediate(() => {
        startedThisTurn = false;
      });
    } else if (maxWaitMs > 0 && queue.length < maxBatch) setTimeout(run, maxWaitMs);
    // setImmediate lets every item submitted in this turn (e.g. requests whose body already
    // arrived) join the batch.
    else setImmediate(run);
  }

  function abandon(waiter: Waiter<I, R>): void {
    waiter.gaveUp = true;
    const queued = queue.indexOf(waiter);
    if (queued >= 0) queue.splice(queued, 1);
    settleIdle();
    waiter.reject(giveUp!.error());
  }

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        const waiter: Waiter<I, R> = { item, resolve, reject, timer: undefined, gaveUp: false };
        if (giveUp !== undefined) waiter.timer = setTimeout(abandon, giveUp.afterMs, waiter);
        queue.push(waiter);
        // Otherwise the batch in flight schedules the next one when it is written.
        if (mayStart()) schedule();
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
