// One delivery, start to finish, for every bus driver: run the handler, then ack, nak with a
// delay, or terminate and dead-letter — so memory and NATS consumers behave identically.
import { coerceError, HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type {
  BusMessage,
  DeadLetter,
  DeliveryContext,
  MessageDisposition,
  RetryDelayOptions,
  SubscribeOptions,
} from "./port.js";

export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_NAK_DELAY_MS = 5000;

/** Delay before redelivering after delivery `deliveryCount` (≥ 1) failed. */
export function retryDelayMs(deliveryCount: number, options: RetryDelayOptions = {}): number {
  const { backoff, nakDelayMs = DEFAULT_NAK_DELAY_MS } = options;
  if (backoff !== undefined && backoff.length > 0) {
    return backoff[Math.min(Math.max(deliveryCount, 1), backoff.length) - 1]!;
  }
  return nakDelayMs;
}

/** Rejects option values a bus would misread (a zero maxDeliver, negative delays). */
export function checkSubscribeOptions(options: SubscribeOptions): void {
  const { maxDeliver, nakDelayMs, backoff } = options;
  const fail = (message: string): never => {
    throw new HeraldError("config.invalid", message);
  };
  if (options.durable === "" || /[\s.*>]/.test(options.durable)) {
    fail(`Invalid durable name ${JSON.stringify(options.durable)}: no whitespace, ".", "*" or ">"`);
  }
  if (maxDeliver !== undefined && (!Number.isSafeInteger(maxDeliver) || maxDeliver < 1)) {
    fail(`maxDeliver must be a positive integer, got ${maxDeliver}`);
  }
  for (const delay of [nakDelayMs, ...(backoff ?? [])]) {
    if (delay !== undefined && (!Number.isFinite(delay) || delay < 0)) {
      fail(`Retry delays must be non-negative numbers of milliseconds, got ${delay}`);
    }
  }
}

/** The three things a driver can do with a delivery. */
export interface DeliveryActions {
  ack(): void | Promise<void>;
  nak(delayMs: number): void | Promise<void>;
  term(reason: string): void | Promise<void>;
}

export type Settlement =
  | { action: "ack" }
  | { action: "nak"; delayMs: number; error?: HeraldError }
  | { action: "term"; reason: string; error?: HeraldError };

function decide(
  outcome: MessageDisposition | undefined,
  error: HeraldError | undefined,
  context: DeliveryContext,
  options: RetryDelayOptions,
): Settlement {
  if (error === undefined && (outcome === undefined || outcome.action === "ack")) {
    return { action: "ack" };
  }
  if (outcome?.action === "term") return { action: "term", reason: outcome.reason, error };
  const reason = error?.message ?? (outcome?.action === "nak" ? outcome.reason : undefined);
  if (context.deliveryCount >= context.maxDeliver) {
    const why = reason ?? "handler asked for a retry";
    return {
      action: "term",
      reason: `gave up after ${context.deliveryCount} deliveries: ${why}`,
      error,
    };
  }
  const delayMs =
    (outcome?.action === "nak" ? outcome.delayMs : undefined) ??
    retryDelayMs(context.deliveryCount, options);
  return { action: "nak", delayMs, error };
}

/**
 * Runs `options.handler` for one delivery and settles it through `actions`. Never throws:
 * handler errors become naks (then a dead letter at `maxDeliver`), hook errors go to `onError`.
 */
export async function settleDelivery(
  message: BusMessage,
  context: DeliveryContext,
  options: Pick<
    SubscribeOptions,
    "handler" | "onDeadLetter" | "onError" | "nakDelayMs" | "backoff"
  >,
  actions: DeliveryActions,
): Promise<Settlement> {
  let outcome: MessageDisposition | undefined;
  let error: HeraldError | undefined;
  try {
    outcome = (await options.handler(message, context)) ?? undefined;
  } catch (thrown) {
    error = coerceError(thrown, "handler.failed");
  }
  const settlement = decide(outcome, error, context, options);
  try {
    if (settlement.action === "ack") await actions.ack();
    else if (settlement.action === "nak") await actions.nak(settlement.delayMs);
    else await actions.term(settlement.reason);
  } catch (thrown) {
    // The bus will redeliver after its ack timeout; nothing is lost, so only report it.
    report(options.onError, coerceError(thrown, "bus.unavailable"));
  }
  if (settlement.action === "term" && options.onDeadLetter !== undefined) {
    const deadLetter: DeadLetter = {
      message,
      deliveryCount: context.deliveryCount,
      reason: settlement.reason,
      ...(settlement.error === undefined ? {} : { error: settlement.error }),
    };
    try {
      await options.onDeadLetter(deadLetter);
    } catch (thrown) {
      report(options.onError, coerceError(thrown));
    }
  }
  return settlement;
}

/** Calls an onError hook; a hook that throws must not take the consumer down. */
export function report(onError: ((error: HeraldError) => void) | undefined, error: HeraldError) {
  if (onError === undefined) return;
  try {
    onError(error);
  } catch {
    // Reporting is best effort by contract.
  }
}
