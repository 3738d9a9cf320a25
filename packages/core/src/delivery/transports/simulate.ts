// The built-in `simulate` delivery function: an endpoint that succeeds, fails now and then, fails
// always or answers slowly, as the message's payload asks, for trying Herald and for tests.
import type { MessageRecord } from "../../model/deliveryRecords.js";
import type { FunctionDeliveryContext } from "./function.js";

/** The name the service registers it under (an endpoint's `url` with `transport: function`). */
export const SIMULATE_FUNCTION_NAME = "simulate";

/** Attempts `simulate_transient` fails before the one that succeeds. */
export const SIMULATE_TRANSIENT_FAILURES = 2;

/** The longest `simulate_delay_ms` accepted (5 min); a larger value fails the attempt. */
export const MAX_SIMULATE_DELAY_MS = 300_000;

/** What a successful simulated attempt returns (kept as the attempt's `responseBody`). */
export interface SimulateResult {
  simulated: true;
  /** `context.attempt`: 1, 2, … since the delivery was created or last replayed. */
  attempt: number;
  /** How long the attempt waited (`simulate_delay_ms`, else 0). */
  delayed_ms: number;
}

interface SimulateSettings {
  transient: boolean;
  failure: boolean;
  delayMs: number;
}

function settingsOf(payload: MessageRecord["payload"]): SimulateSettings {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    return { transient: false, failure: false, delayMs: 0 };
  }
  // Own properties only: a payload cannot switch a flag on through Object.prototype.
  const own = (key: string) => (Object.hasOwn(payload, key) ? payload[key] : undefined);
  const delay = own("simulate_delay_ms");
  let delayMs = 0;
  if (delay !== undefined && delay !== null) {
    if (
      typeof delay !== "number" ||
      !Number.isInteger(delay) ||
      delay < 0 ||
      delay > MAX_SIMULATE_DELAY_MS
    ) {
      throw new Error(
        `simulate_delay_ms must be an integer from 0 to ${MAX_SIMULATE_DELAY_MS} (milliseconds)`,
      );
    }
    delayMs = delay;
  }
  return {
    transient: own("simulate_transient") === true,
    failure: own("simulate_failure") === true,
    delayMs,
  };
}

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  if (ms === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Driven by the message's payload (a JSON object; anything else is delivered at once):
 * `simulate_delay_ms: N` waits N ms first (0–300000; the endpoint's `timeout_ms` still applies,
 * so a longer delay is a timeout), then `simulate_failure: true` fails every attempt (the
 * delivery is dead-lettered at its `max_attempts`), `simulate_transient: true` fails attempts 1
 * and 2 and succeeds on the 3rd (counted since creation or the last replay). Otherwise the
 * attempt succeeds. Only the value `true` switches a flag on.
 */
export async function simulateDelivery(
  message: Readonly<MessageRecord>,
  context: FunctionDeliveryContext,
): Promise<SimulateResult> {
  const settings = settingsOf(message.payload);
  await wait(settings.delayMs, context.signal);
  if (settings.failure) {
    throw new Error(`simulate_failure: attempt ${context.attempt} fails, as every attempt does`);
  }
  if (settings.transient && context.attempt <= SIMULATE_TRANSIENT_FAILURES) {
    throw new Error(
      `simulate_transient: attempt ${context.attempt} fails; attempt ${SIMULATE_TRANSIENT_FAILURES + 1} will succeed`,
    );
  }
  return { simulated: true, attempt: context.attempt, delayed_ms: settings.delayMs };
}
