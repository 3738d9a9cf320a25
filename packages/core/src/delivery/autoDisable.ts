// Auto-disable: an endpoint whose every attempt has failed for a span (5 days by default, as
// Svix does) or N times in a row is disabled, so a dead receiver stops costing retries.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { EndpointRecord } from "../model/deliveryRecords.js";
import type { DeliveryStore } from "../store/deliveryPorts.js";

export interface AutoDisableOptions {
  /** Disable once every attempt since this long ago has failed; null turns it off. Default 5 days. */
  afterFailingMs?: number | null;
  /** Disable after this many failed attempts in a row; null (the default) turns it off. */
  afterConsecutiveFailures?: number | null;
}

export const DEFAULT_AUTO_DISABLE_AFTER_FAILING_MS = 5 * 24 * 60 * 60 * 1000;

/** The endpoint's failure run, as the store keeps it (`AttemptOutcome.endpointHealth`). */
type EndpointHealth = Pick<EndpointRecord, "consecutiveFailures" | "failingSince">;

interface AutoDisableSettings {
  afterFailingMs: number | null;
  afterConsecutiveFailures: number | null;
}

function checked(key: string, value: number | null | undefined, fallback: number | null) {
  if (value === undefined) return fallback;
  if (value === null) return null;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new HeraldError(
      "config.invalid",
      `Invalid delivery worker: autoDisable.${key} must be an integer ≥ 1 or null`,
      { details: { key: `autoDisable.${key}`, value } },
    );
  }
  return value;
}

export function autoDisableSettings(options: AutoDisableOptions = {}): AutoDisableSettings {
  return {
    afterFailingMs: checked(
      "afterFailingMs",
      options.afterFailingMs,
      DEFAULT_AUTO_DISABLE_AFTER_FAILING_MS,
    ),
    afterConsecutiveFailures: checked(
      "afterConsecutiveFailures",
      options.afterConsecutiveFailures,
      null,
    ),
  };
}

function formatSpan(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [60_000, "minute"],
    [1_000, "second"],
  ];
  for (const [size, name] of units) {
    if (ms % size === 0) return `${ms / size} ${name}${ms === size ? "" : "s"}`;
  }
  return `${ms} ms`;
}

/** Why the endpoint should be disabled now, or null while it may keep trying. Pure. */
export function autoDisableReason(
  health: EndpointHealth,
  settings: AutoDisableSettings,
  now: number,
): string | null {
  const { afterConsecutiveFailures, afterFailingMs } = settings;
  if (afterConsecutiveFailures !== null && health.consecutiveFailures >= afterConsecutiveFailures) {
    return `auto-disabled: ${health.consecutiveFailures} consecutive failed attempts`;
  }
  if (afterFailingMs !== null && health.failingSince !== null) {
    if (now - Date.parse(health.failingSince) >= afterFailingMs) {
      return `auto-disabled: every attempt failed for ${formatSpan(afterFailingMs)} (since ${health.failingSince})`;
    }
  }
  return null;
}

/**
 * Called after a failed attempt was stored: reads the endpoint's failure run and disables it
 * when a threshold is reached. Returns the reason it was disabled with, or null.
 *
 * The worker logs each attempt in the same store call as the delivery's new state (one
 * transaction), so the run is read back from the endpoint rather than from `recordAttempt`.
 */
export function createAutoDisableCheck(
  options: AutoDisableOptions | false | undefined,
  store: DeliveryStore,
  clock: Clock,
): ((endpointId: string) => Promise<string | null>) | null {
  if (options === false) return null;
  const settings = autoDisableSettings(options);
  if (settings.afterFailingMs === null && settings.afterConsecutiveFailures === null) return null;
  return async (endpointId) => {
    const endpoint = await store.getEndpoint(endpointId);
    // Already disabled (410, an operator, another worker): keep the first reason.
    if (endpoint === undefined || !endpoint.enabled) return null;
    const reason = autoDisableReason(endpoint, settings, clock.now());
    if (reason === null) return null;
    await store.setEndpointEnabled(endpointId, false, reason);
    return reason;
  };
}
