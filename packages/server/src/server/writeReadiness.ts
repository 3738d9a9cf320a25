// Readiness for writes: can a write to the store succeed now? `/ready` asks (DeliveryStore.ready),
// so that a load balancer stops sending while writes fail and sends again once they succeed.
//
// Judged from two kinds of evidence, without a write on every call:
// - the outcomes of real message writes (ingestion, dispatch): one that stored something vouches
//   for the store for `freshMs` (a ping still checks it answers: a frozen database leaves the
//   writes after that one hanging, none failed yet); a `store.unavailable` failure makes it not
//   ready at once;
// - the store's write probe (probeWrite), run only when nothing vouched lately, and while writes
//   fail at most once per `retryMs`, and not sooner than that after the latest failure (the
//   freshest evidence). One probe at a time: concurrent calls share it, and while
//   one is still running (stuck on a lock, say) no other starts, so probes never pile up.
// Once not ready, only a passed probe makes it ready again, never a real write that happened to
// succeed: on a full disk SQLite can now and then commit into WAL pages it already has while most
// writes fail, and counting those would make /ready flap. The probe is meant to need what real
// writes need (SQLite's has the filesystem take a headroom write too). Where it passes while real
// writes still fail (a cause it cannot see), readiness relapses at the next failure; a relapse
// within `freshMs` of a recovery doubles the wait before the next probe (up to `maxRetryMs`), so
// /ready then flaps ever more slowly instead of every second.

import type {
  CreateMessageResult,
  DeliveryStore,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import {
  coerceError,
  HeraldError,
  isHeraldError,
} from "@heraldjs/webhooks/internal/core/errors.js";

interface WriteReadinessSettings {
  /** How long a write that stored something, or a passed probe, vouches for the store. */
  freshMs: number;
  /** Least time between two probes while writes fail. */
  retryMs: number;
  /** The most that relapses stretch `retryMs` to. */
  maxRetryMs: number;
}

export const WRITE_READINESS_DEFAULTS: WriteReadinessSettings = {
  freshMs: 5_000,
  retryMs: 1_000,
  maxRetryMs: 30_000,
};

export interface WriteReadinessOptions extends Partial<WriteReadinessSettings> {
  /** Measures the intervals above (elapsed time, not the records' times); default system. */
  clock?: Clock;
  /**
   * Called when readiness changes: with the failure that made the store not ready, or with
   * null once a probe passed again (logging). Errors it throws are ignored.
   */
  onChange?: (failure: HeraldError | null) => void;
}

interface WriteReadiness {
  /** The store, with its message writes observed and `ready()` answering from them and probes. */
  readonly store: DeliveryStore;
}

function asUnavailable(error: unknown): HeraldError {
  if (isHeraldError(error, "store.unavailable")) return error;
  return new HeraldError(
    "store.unavailable",
    `The write probe failed: ${coerceError(error).message}`,
    { cause: error },
  );
}

export function withWriteReadiness(
  store: DeliveryStore,
  options: WriteReadinessOptions = {},
): WriteReadiness {
  const clock = options.clock ?? systemClock;
  const freshMs = options.freshMs ?? WRITE_READINESS_DEFAULTS.freshMs;
  const retryMs = options.retryMs ?? WRITE_READINESS_DEFAULTS.retryMs;
  const maxRetryMs = options.maxRetryMs ?? WRITE_READINESS_DEFAULTS.maxRetryMs;
  /** Why writes fail, until a probe passes; null while ready. */
  let failure: HeraldError | null = null;
  /** Failures seen so far (real writes and probes): a probe outweighed by one is not believed. */
  let failures = 0;
  let vouchedAt = Number.NEGATIVE_INFINITY;
  /** Not before this time does a probe run while writes fail. */
  let nextProbeAt = Number.NEGATIVE_INFINITY;
  let recoveredAt = Number.NEGATIVE_INFINITY;
  let wait = retryMs;
  let probing: Promise<void> | undefined;

  const notify = (change: HeraldError | null) => {
    try {
      options.onChange?.(change);
    } catch {
      // Observing must not change the answer.
    }
  };

  function failed(error: HeraldError): HeraldError {
    failures += 1;
    const now = clock.now();
    if (failure === null) {
      const relapse = now - recoveredAt < freshMs;
      wait = relapse ? Math.min(wait * 2, maxRetryMs) : retryMs;
      notify(error);
    }
    failure = error;
    nextProbeAt = now + wait;
    return error;
  }

  async function probe(): Promise<void> {
    const seen = failures;
    nextProbeAt = clock.now() + wait;
    try {
      await store.probeWrite();
    } catch (error) {
      throw failed(asUnavailable(error));
    }
    // A real write that failed while the probe ran outweighs it.
    if (failure !== null && failures !== seen) throw failure;
    const now = clock.now();
    if (failure !== null) {
      failure = null;
      recoveredAt = now;
      notify(null);
    }
    vouchedAt = now;
  }

  function ready(): Promise<void> {
    if (failure === null) {
      // A recent write vouches that writes get through, not that the store still answers (a
      // frozen database leaves the writes after it hanging, none failed yet): ping it.
      if (clock.now() - vouchedAt < freshMs) return store.ping();
    } else if (probing !== undefined || clock.now() < nextProbeAt) {
      return Promise.reject(failure);
    }
    probing ??= probe().finally(() => {
      probing = undefined;
    });
    return probing;
  }

  async function observed(
    write: () => Promise<CreateMessageResult[]>,
  ): Promise<CreateMessageResult[]> {
    let results: CreateMessageResult[];
    try {
      results = await write();
    } catch (error) {
      if (isHeraldError(error, "store.unavailable")) failed(error);
      throw error;
    }
    // Duplicates only commit nothing: no evidence that a write would get through.
    if (failure === null && results.some((r) => r.created)) vouchedAt = clock.now();
    return results;
  }

  return {
    store: {
      ...store,
      createMessages: (inputs, options) => observed(() => store.createMessages(inputs, options)),
      createMessage: async (input) =>
        (await observed(async () => [await store.createMessage(input)]))[0]!,
      ready,
    },
  };
}
