// Signed-timestamp checks shared by the timestamped schemes: a strict integer parse and a
// symmetric tolerance window around the reference time (now, or when the request was received).
import type { VerifyFailure } from "./types.js";

const INTEGER = /^\d{1,15}$/;

type TimestampCheck = { ok: true; seconds: number } | VerifyFailure;

export function fail(code: VerifyFailure["code"], message: string): VerifyFailure {
  return { ok: false, code, message };
}

/** Parses Unix seconds written as a plain non-negative integer. */
export function parseUnixSeconds(text: string): number | undefined {
  // Fast path for the usual bare digits; anything else goes through the strict pattern.
  const length = text.length;
  if (length > 0 && length <= 15) {
    let value = 0;
    for (let i = 0; i < length; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return parseStrict(text);
      value = value * 10 + digit;
    }
    return value;
  }
  return parseStrict(text);
}

function parseStrict(text: string): number | undefined {
  const trimmed = text.trim();
  return INTEGER.test(trimmed) ? Number(trimmed) : undefined;
}

export function checkTimestamp(
  seconds: number | undefined,
  raw: string,
  referenceMs: number,
  toleranceSeconds: number,
): TimestampCheck {
  return (
    timestampFailure(seconds, raw, referenceMs, toleranceSeconds) ?? {
      ok: true,
      seconds: seconds as number,
    }
  );
}

/** Why a parsed timestamp is refused (not Unix seconds, outside the window), or `undefined`. */
export function timestampFailure(
  seconds: number | undefined,
  raw: string,
  referenceMs: number,
  toleranceSeconds: number,
): VerifyFailure | undefined {
  if (seconds === undefined || !Number.isFinite(seconds)) {
    return fail("timestamp.invalid", `Timestamp ${JSON.stringify(raw)} is not Unix seconds`);
  }
  const skew = seconds - referenceMs / 1000;
  if (skew < -toleranceSeconds) {
    return fail(
      "timestamp.stale",
      `Timestamp is ${Math.round(-skew)} s old, beyond the ${toleranceSeconds} s tolerance`,
    );
  }
  if (skew > toleranceSeconds) {
    return fail(
      "timestamp.future",
      `Timestamp is ${Math.round(skew)} s in the future, beyond the ${toleranceSeconds} s tolerance`,
    );
  }
  return undefined;
}

/** Parses a Unix-seconds header value and checks it against the verification window. */
export function checkUnixTimestamp(
  raw: string,
  window: { referenceMs: number; toleranceSeconds: number },
): TimestampCheck {
  return checkTimestamp(parseUnixSeconds(raw), raw, window.referenceMs, window.toleranceSeconds);
}
