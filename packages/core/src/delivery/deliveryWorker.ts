// The delivery worker: claims due deliveries under a lease, sends them through their endpoint's
// transport, and records the outcome (delivered, retry scheduled, dead-lettered, endpoint disabled).
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import {
  coerceError,
  HeraldError,
  isHeraldError,
} from "@heraldjs/webhooks/internal/core/errors.js";
import { newId } from "../core/ids.js";
import { isoTime } from "../core/isoTime.js";
import { DEFAULT_RETRY_POLICY, nextRetryDelayMs, type RetryPolicy } from "../core/retryPolicy.js";
import type { ClaimedDelivery } from "../model/deliveryOperations.js";
import type { AttemptInput, EndpointRecord, EndpointTransport } from "../model/deliveryRecords.js";
import type { DeliveryStore, WakeUp } from "../store/deliveryPorts.js";
import { type AutoDisableOptions, createAutoDisableCheck } from "./autoDisable.js";
import { createConcurrencyGate } from "./concurrencyGate.js";
import {
  createDeliveryEventEmitter,
  type DeliveryEventBase,
  type DeliveryEventListener,
  type DeliveryListenerOptions,
  type DeliveryWorkerEvent,
  type DeliveryWorkerEventName,
} from "./deliveryEvents.js";
import { createEndpointLimiter, type EndpointLimiter } from "./endpointLimiter.js";
import { withNamedSecret } from "./namedSecrets.js";
import { type AttemptTimer, failedAttempt, startAttempt } from "./transports/attemptResult.js";
import type { Transport, TransportResult } from "./transports/types.js";

export interface DeliveryWorkerOptions {
  store: DeliveryStore;
  /** By `endpoint.transport`; a delivery whose transport is missing is dead-lettered. */
  transports: Partial<Record<EndpointTransport, Transport>>;
  /** Lease owner name; default `worker_<ULID>`, unique per worker. */
  owner?: string;
  /** Most sends at once across all claimed deliveries. Default 10. */
  concurrency?: number;
  /** Lease length; must outlast the longest endpoint timeout plus bookkeeping. Default 60 s. */
  leaseMs?: number;
  /** Wall-clock wait between claims when nothing was due (`start()` only). Default 1000. */
  pollIntervalMs?: number;
  /** Most deliveries per claim. Default `concurrency`. */
  batchSize?: number;
  /** Due times, retry times and store `now`; use the store's clock. Default the system clock. */
  clock?: Clock;
  /** Retry jitter source, [0, 1). Default Math.random. */
  random?: () => number;
  /** Per-endpoint rate and in-flight limits; default a fresh limiter on `clock`. */
  limiter?: EndpointLimiter;
  /** Policy of endpoints without their own. Default DEFAULT_RETRY_POLICY. */
  defaultRetry?: RetryPolicy;
  /**
   * Disable an endpoint whose attempts all failed for `afterFailingMs` (default 5 days) or
   * `afterConsecutiveFailures` times in a row (default off); `false` turns both off.
   */
  autoDisable?: AutoDisableOptions | false;
  /** Sees every event (after the `on` listeners); throwing does nothing. */
  onEvent?: (event: DeliveryWorkerEvent) => void;
}

export interface DeliveryWorker {
  readonly owner: string;
  /** Claims due deliveries once and processes them to completion; returns how many were claimed. */
  runOnce(): Promise<number>;
  /** Starts claiming in the background until `stop()`. */
  start(): void;
  /**
   * Graceful: stops claiming, lets sends in progress finish and be recorded, and gives back the
   * leases of claimed deliveries not yet sent. Safe to call more than once.
   */
  stop(): Promise<void>;
  /** `options.enabled`: whether the listener wants events now (see DeliveryListenerOptions). */
  on<K extends DeliveryWorkerEventName>(
    name: K,
    listener: DeliveryEventListener<K>,
    options?: DeliveryListenerOptions,
  ): () => void;
}

/** `lastError` of a delivery dead-lettered because its endpoint answered 410. */
const GONE_REASON = "410 Gone";

function positiveInteger(key: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new HeraldError(
      "config.invalid",
      `Invalid delivery worker: ${key} must be an integer ≥ 1`,
      {
        details: { key, value },
      },
    );
  }
  return value;
}

function iso(ms: number): string {
  return isoTime(ms);
}

/** What a failed attempt's last result was, for the dead-letter reason. */
function describeFailure(result: TransportResult): string {
  const { attempt } = result;
  if (attempt.error !== null) return attempt.error;
  return attempt.statusCode === null ? "failed" : `HTTP ${attempt.statusCode}`;
}

// The worker's defaults, which herald.yaml's `worker:` section states too.

/**
 * Sends in flight per worker. Each holds its slot until its outcome is committed, so with 10 one
 * PostgreSQL worker delivered 612-650/s against 1,000/s offered (docs/benchmarks.md#e2e-latency);
 * 50 keeps up, and leaves room for receivers slower than the benchmark's.
 */
export const DEFAULT_WORKER_CONCURRENCY = 50;
export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
/**
 * With deliveries known to be due but fewer than half the slots free, the loop waits at most
 * this long after its last claim for more slots before claiming into the ones free.
 */
const CLAIM_GATHER_MS = 50;
/**
 * A `backup` wake-up (another worker's turn to claim) claims after this long unless this worker
 * started a claim meanwhile: long enough that at a steady rate this worker's own claims cover
 * the others' turns, short enough that a busy or departed worker's deliveries do not wait for
 * the poll.
 */
export const BACKUP_CLAIM_MS = 100;

export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { store, transports, random = Math.random, defaultRetry = DEFAULT_RETRY_POLICY } = options;
  const clock = options.clock ?? systemClock;
  const owner = options.owner ?? newId("worker", { clock: systemClock });
  const concurrency = positiveInteger(
    "concurrency",
    options.concurrency ?? DEFAULT_WORKER_CONCURRENCY,
  );
  const leaseMs = positiveInteger("leaseMs", options.leaseMs ?? DEFAULT_LEASE_MS);
  const batchSize = positiveInteger("batchSize", options.batchSize ?? concurrency);
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const limiter = options.limiter ?? createEndpointLimiter({ clock });
  const events = createDeliveryEventEmitter(options.onEvent);
  const gate = createConcurrencyGate(concurrency);
  const autoDisable = createAutoDisableCheck(options.autoDisable, store, clock);

  let stopping = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  /** Set by a store wake-up (LISTEN/NOTIFY) that came while the loop was busy claiming. */
  let notified = false;
  /** True while the loop waits for send slots to free (each finishing send wakes it then). */
  let waitingForSlots = false;
  let wakeUps: Promise<(() => Promise<void>) | null> | null = null;
  /** Armed by a `backup` wake-up, cleared when the loop starts a claim. */
  let backup: NodeJS.Timeout | null = null;
  const tasks = new Set<Promise<void>>();

  function fail(error: unknown, deliveryId: string | null): void {
    events.emit("worker:error", { error: coerceError(error), deliveryId });
  }

  /** Runs a lease-guarded store write; false when the lease was lost (already reported). */
  async function guarded(base: DeliveryEventBase, write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (isHeraldError(error, "delivery.lease_lost")) {
        events.emit("delivery:lease_lost", { ...base, owner });
      } else {
        fail(error, base.deliveryId);
      }
      return false;
    }
  }

  async function deadLetter(
    base: DeliveryEventBase,
    reason: string,
    attempt?: AttemptInput,
  ): Promise<boolean> {
    const ok = await guarded(base, () =>
      store.deadLetter({ deliveryId: base.deliveryId, owner, now: clock.now(), attempt, reason }),
    );
    if (ok) events.emit("delivery:dead_lettered", { ...base, reason });
    return ok;
  }

  async function release(
    base: DeliveryEventBase,
    reason: "rate_limited" | "max_in_flight" | "shutdown",
    nextAttemptAt: number,
  ): Promise<void> {
    const ok = await guarded(base, () =>
      store.releaseLease({ deliveryId: base.deliveryId, owner, now: clock.now(), nextAttemptAt }),
    );
    if (ok)
      events.emit("delivery:released", { ...base, reason, nextAttemptAt: iso(nextAttemptAt) });
  }

  /** After a failed attempt was stored: the endpoint's failure run may now disable it. */
  async function checkAutoDisable(base: DeliveryEventBase, endpointId: string): Promise<void> {
    if (autoDisable === null) return;
    try {
      const reason = await autoDisable(endpointId);
      if (reason !== null) events.emit("endpoint:disabled", { ...base, reason });
    } catch (error) {
      fail(error, base.deliveryId);
    }
  }

  /**
   * The endpoint with its named secret, read at every attempt so that a rotation applies to
   * pending retries; a secret that is gone (or cannot be read) fails the attempt, which is
   * retried like any other: `secret.not_found: …` in the attempt log.
   */
  async function withSecretOrFailure(
    endpoint: EndpointRecord,
    timer: AttemptTimer,
  ): Promise<EndpointRecord | TransportResult> {
    try {
      return await withNamedSecret(store, endpoint);
    } catch (error) {
      const herald = coerceError(error);
      return failedAttempt(timer, `${herald.code}: ${herald.message}`, "network_error");
    }
  }

  /**
   * Sends one claimed delivery and records the outcome. Resolves to true when the delivery was
   * delivered and its endpoint is unordered: nothing became due by it (an ordered endpoint's
   * next delivery becomes due when this one settles; a retry, release or dead letter may make
   * work due at once).
   */
  async function send(claimed: ClaimedDelivery, base: DeliveryEventBase): Promise<boolean> {
    const { delivery, message, endpoint } = claimed;
    const transport = transports[endpoint.transport];
    if (transport === undefined) {
      await deadLetter(
        base,
        `transport.unavailable: this worker has no "${endpoint.transport}" transport`,
      );
      return false;
    }
    const permit = limiter.tryAcquire(endpoint);
    if (!permit.ok) {
      await release(base, permit.reason, clock.now() + permit.retryInMs);
      return false;
    }
    const attemptNumber = delivery.attempts + 1;
    const attemptBase: DeliveryEventBase = {
      deliveryId: base.deliveryId,
      endpointId: base.endpointId,
      messageId: base.messageId,
      attempt: attemptNumber,
    };
    let result: TransportResult;
    const timer = startAttempt(clock);
    try {
      const signing =
        endpoint.secretName === null ? endpoint : await withSecretOrFailure(endpoint, timer);
      result =
        "attempt" in signing
          ? signing
          : await transport.send({ delivery, message, endpoint: signing, attemptNumber });
    } catch (error) {
      // A transport that threw (a bug: failures should be results) still costs an attempt.
      result = failedAttempt(
        timer,
        `transport.failed: ${coerceError(error).message}`,
        "network_error",
      );
    } finally {
      permit.release();
    }
    const { attempt, classification } = result;
    if (events.has("delivery:attempt")) {
      events.emit("delivery:attempt", {
        ...attemptBase,
        succeeded: attempt.succeeded,
        statusCode: attempt.statusCode,
        durationMs: attempt.durationMs,
        error: attempt.error,
        outcome: classification.outcome,
      });
    }
    // The transport's attempt already has AttemptInput's fields (the stores read them one by
    // one), so it is passed on as it is rather than copied.
    const attemptInput: AttemptInput = attempt;
    const now = clock.now();
    const ref = { deliveryId: delivery.id, owner, now, attempt: attemptInput };

    if (classification.outcome === "success") {
      if (
        (await guarded(attemptBase, () => store.completeDelivery(ref))) &&
        events.has("delivery:succeeded")
      ) {
        events.emit("delivery:succeeded", {
          ...attemptBase,
          statusCode: attempt.statusCode,
          durationMs: attempt.durationMs,
        });
      }
      return !endpoint.ordered;
    }

    if (classification.outcome === "disable_endpoint") {
      await deadLetter(attemptBase, GONE_REASON, attemptInput);
      // The 410 is the receiver's word whatever became of this lease: disable all the same.
      try {
        await store.setEndpointEnabled(endpoint.id, false, GONE_REASON);
        events.emit("endpoint:disabled", { ...attemptBase, reason: GONE_REASON });
      } catch (error) {
        fail(error, delivery.id);
      }
      return false;
    }

    if (classification.outcome === "reject") {
      // The listener's final word: no retry would change it.
      await deadLetter(attemptBase, `rejected: ${describeFailure(result)}`, attemptInput);
      return false;
    }

    const policy = endpoint.retry ?? defaultRetry;
    const delay =
      attemptNumber >= delivery.maxAttempts
        ? null
        : nextRetryDelayMs(policy, attemptNumber, random);
    if (delay === null) {
      const reason = `max attempts (${attemptNumber}) reached: ${describeFailure(result)}`;
      if (await deadLetter(attemptBase, reason, attemptInput)) {
        await checkAutoDisable(attemptBase, endpoint.id);
      }
      return false;
    }
    const delayMs = Math.max(delay, classification.retryAfterMs ?? 0);
    const nextAttemptAt = now + delayMs;
    if (await guarded(attemptBase, () => store.scheduleRetry({ ...ref, nextAttemptAt }))) {
      if (events.has("delivery:retry_scheduled")) {
        events.emit("delivery:retry_scheduled", {
          ...attemptBase,
          reason: classification.reason,
          delayMs,
          nextAttemptAt: iso(nextAttemptAt),
        });
      }
      await checkAutoDisable(attemptBase, endpoint.id);
    }
    return false;
  }

  /** Waits for a send slot; a delivery still waiting when `stop()` begins is given back. */
  async function process(claimed: ClaimedDelivery, claimedAt: number): Promise<void> {
    const { delivery } = claimed;
    const base: DeliveryEventBase = {
      deliveryId: delivery.id,
      endpointId: delivery.endpointId,
      messageId: delivery.messageId,
      attempt: delivery.attempts,
    };
    const releaseSlot = await gate.acquire();
    let quiet = false;
    try {
      if (stopping) {
        await release(base, "shutdown", clock.now());
        return;
      }
      // A delivery that waited for a slot may be near its lease end: renew before sending, so
      // the send never runs on a lease another worker could already have taken.
      if (clock.now() - claimedAt >= leaseMs / 2) {
        const renewed = await guarded(base, () =>
          store.extendLease({ deliveryId: delivery.id, owner, leaseMs, now: clock.now() }),
        );
        if (!renewed) return;
      }
      quiet = await send(claimed, base);
    } catch (error) {
      fail(error, delivery.id);
    } finally {
      releaseSlot();
      // The loop waits for this slot, or the send may have made work due: look again. A plain
      // success leaves the loop idle until a wake-up or its poll (at low rates that saves one
      // empty claim per delivery).
      if (waitingForSlots || !quiet) wake?.();
    }
  }

  function track(task: Promise<void>): Promise<void> {
    tasks.add(task);
    void task.finally(() => tasks.delete(task));
    return task;
  }

  async function claim(limit: number): Promise<Promise<void>[]> {
    const claimedAt = clock.now();
    const claimed = await store.claimDueDeliveries({ owner, limit, leaseMs, now: claimedAt });
    return claimed.map((c) => track(process(c, claimedAt)));
  }

  async function runOnce(): Promise<number> {
    if (stopping) return 0;
    const started = await claim(batchSize);
    await Promise.all(started);
    return started.length;
  }

  async function pauseForSlots(ms: number): Promise<void> {
    waitingForSlots = true;
    try {
      await pause(ms);
    } finally {
      waitingForSlots = false;
    }
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }

  /**
   * A store wake-up: claim now instead of at the next poll; bursts collapse into one claim. A
   * backup claims only if no claim starts within BACKUP_CLAIM_MS: a claim that starts after the
   * notice sees what it announced, whichever wake-up or poll started it.
   */
  function notify(wakeUp: WakeUp): void {
    if (stopping) return;
    if (wakeUp === "claim") {
      notified = true;
      wake?.();
      return;
    }
    if (backup !== null) return;
    backup = setTimeout(() => {
      backup = null;
      notify("claim");
    }, BACKUP_CLAIM_MS);
    backup.unref();
  }

  function clearBackup(): void {
    if (backup !== null) clearTimeout(backup);
    backup = null;
  }

  /**
   * Claims come in batches: a claim is a write transaction (SQLite: the writer lock and a
   * commit; PostgreSQL: a round trip per statement), and claiming each slot as it frees costs one claim
   * per delivery or two. The loop claims when at least `claimThreshold` slots are free (half
   * the concurrency, at most `batchSize`), when nothing is in flight, or with a slot free once
   * it has waited long enough since the last claim: CLAIM_GATHER_MS when deliveries are known
   * to be due (a wake-up came, or the last claim was full), else `pollIntervalMs`. So under
   * load claims stay batched, yet a due delivery never waits a poll interval for slots that
   * slow sends hold.
   */
  const claimThreshold = Math.max(1, Math.min(batchSize, Math.ceil(concurrency / 2)));
  let lastClaimAt = Number.NEGATIVE_INFINITY;
  let lastClaimFull = false;

  async function run(): Promise<void> {
    // Listen before the first claim, so a delivery created in between is not missed.
    await wakeUps;
    while (!stopping) {
      // With a synchronous store (SQLite) a claim whose deliveries are all given back (rate
      // limited) never leaves the microtask queue, and the loop would claim again and again
      // without letting I/O run: sends started meanwhile reach the wire in one burst, and
      // replies wait. Yield to I/O before each claim.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (stopping) break;
      const free = concurrency - gate.load;
      if (free <= 0) {
        await pauseForSlots(60_000); // a finishing send wakes the loop
        continue;
      }
      const sinceClaim = performance.now() - lastClaimAt;
      if (free < claimThreshold && gate.load > 0) {
        // Wait for more slots (each finishing send wakes the loop), at most this long.
        const waitMs = (notified || lastClaimFull ? CLAIM_GATHER_MS : pollIntervalMs) - sinceClaim;
        if (waitMs > 0) {
          await pauseForSlots(waitMs);
          continue;
        }
      }
      notified = false;
      clearBackup();
      lastClaimAt = performance.now();
      let claimedAll = false;
      try {
        const limit = Math.min(batchSize, free);
        const started = await claim(limit);
        claimedAll = started.length === limit;
      } catch (error) {
        fail(error, null);
      }
      lastClaimFull = claimedAll;
      if (stopping) break;
      // A full claim means more may be due: go again as soon as enough slots free up.
      if (claimedAll || (notified && concurrency - gate.load > 0)) continue;
      await pause(pollIntervalMs);
    }
  }

  return {
    owner,
    runOnce,
    start() {
      if (stopping || loop !== null) return;
      // Optional capability (PostgreSQL LISTEN/NOTIFY); polling stays the fallback.
      wakeUps =
        store.wakeUps?.(notify).catch((error: unknown) => {
          fail(error, null);
          return null;
        }) ?? null;
      loop = run();
    },
    async stop() {
      stopping = true;
      clearBackup();
      wake?.();
      await loop;
      const unlisten = await wakeUps;
      wakeUps = null;
      await unlisten?.().catch((error: unknown) => fail(error, null));
      while (tasks.size > 0) await Promise.all([...tasks]);
    },
    on: events.on,
  };
}
