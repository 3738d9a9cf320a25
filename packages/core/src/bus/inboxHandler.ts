// Exactly-once handling on an at-least-once bus: decode the envelope, claim the inbox key
// (consumer + event id) in a DedupeStore, run the handler only for the claim's owner.

import {
  coerceError,
  HeraldError,
  isHeraldError,
} from "@heraldjs/webhooks/internal/core/errors.js";
import type { EventEnvelope } from "../core/envelope.js";
import type { DedupeStore } from "../store/ports.js";
import { messageToEnvelope } from "./envelopeCodec.js";
import { inboxKey } from "./inbox.js";
import type { BusMessage, DeliveryContext, MessageHandler } from "./port.js";
import { report } from "./settle.js";

export interface EnvelopeContext extends DeliveryContext {
  message: BusMessage;
}

export type EnvelopeHandler = (
  envelope: EventEnvelope,
  context: EnvelopeContext,
) => Promise<void> | void;

export interface InboxOptions {
  /** Names this consumer in the inbox: two consumers each handle every event once. */
  consumer: string;
  dedupe: DedupeStore;
  /**
   * How long a claim protects a running handler; default 60 s. After it, a crashed
   * consumer's event can be claimed again — keep it above the slowest handler run.
   */
  leaseMs?: number;
  /**
   * How long a handled event id is remembered; default 7 days. A copy arriving later runs
   * the handler again, so keep it above the longest time a copy can be in flight (bus
   * redeliveries, a forwarder that was down).
   */
  ttlMs?: number;
  /** Redelivery delay for a copy that arrives while another holder processes it; default 1 s. */
  busyDelayMs?: number;
  /** Inbox problems that do not fail the delivery (a lost lease, a failed release). */
  onError?: (error: HeraldError) => void;
}

export const DEFAULT_INBOX_LEASE_MS = 60_000;
export const DEFAULT_INBOX_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_INBOX_BUSY_DELAY_MS = 1000;

/**
 * Wraps an envelope handler into a bus MessageHandler that runs it once per event id:
 * - a body that is not a v1 envelope is terminated (redelivery cannot fix it);
 * - an id already handled is acked without running the handler;
 * - an id being handled elsewhere is nak'ed with `busyDelayMs`, so it is checked again later;
 * - otherwise the handler runs: success marks the id done (then ack), failure releases the
 *   claim and rethrows (then nak with the retry delay, and a dead letter at maxDeliver).
 * A DedupeStore that fails makes the delivery fail too: the handler never runs unrecorded.
 */
export function inboxHandler(handler: EnvelopeHandler, options: InboxOptions): MessageHandler {
  const {
    consumer,
    dedupe,
    leaseMs = DEFAULT_INBOX_LEASE_MS,
    ttlMs = DEFAULT_INBOX_TTL_MS,
    busyDelayMs = DEFAULT_INBOX_BUSY_DELAY_MS,
    onError,
  } = options;
  inboxKey(consumer, "-"); // a bad consumer name fails here, not on every delivery

  return async (message, context) => {
    let envelope: EventEnvelope;
    try {
      envelope = messageToEnvelope(message);
    } catch (error) {
      if (isHeraldError(error, "envelope.invalid"))
        return { action: "term", reason: error.message };
      throw error;
    }
    const key = inboxKey(consumer, envelope.id);
    let claim: Awaited<ReturnType<DedupeStore["claim"]>>;
    try {
      claim = await dedupe.claim(key, leaseMs);
    } catch (error) {
      throw new HeraldError("store.unavailable", "The inbox could not record the event", {
        cause: error,
        details: { consumer, eventId: envelope.id },
      });
    }
    if (!claim.claimed) {
      if (claim.state === "done") return { action: "ack" };
      return { action: "nak", delayMs: busyDelayMs, reason: "being processed elsewhere" };
    }
    try {
      await handler(envelope, { ...context, message });
    } catch (error) {
      await dedupe.release(key, claim.token).catch((releaseError: unknown) => {
        // The lease expires on its own; until then copies are nak'ed as "processing".
        report(onError, coerceError(releaseError, "store.unavailable"));
      });
      throw error;
    }
    let recorded: boolean;
    try {
      recorded = await dedupe.complete(key, claim.token, ttlMs);
    } catch (error) {
      // The handler's effects happened: acking is right. Only a copy arriving after the lease
      // expires would run it again, which is the at-least-once floor we cannot go below.
      report(onError, coerceError(error, "store.unavailable"));
      return { action: "ack" };
    }
    if (!recorded) {
      report(
        onError,
        new HeraldError(
          "dedupe.lease_lost",
          `The handler for event ${envelope.id} outlived its ${leaseMs} ms inbox lease; another copy may have run it too`,
          { details: { consumer, eventId: envelope.id, leaseMs } },
        ),
      );
    }
    return { action: "ack" };
  };
}
