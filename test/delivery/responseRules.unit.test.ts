// What each HTTP outcome means for a delivery, Retry-After parsing and clamping, body truncation.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  classifyResponse,
  DEFAULT_MAX_RETRY_AFTER_MS,
  DEFAULT_MIN_RETRY_AFTER_MS,
  parseRetryAfter,
  truncateBody,
} from "../../packages/core/src/delivery/responseRules.js";
import { isHeraldError } from "../../packages/webhooks/src/core/errors.js";

const now = Date.parse("2024-05-01T12:00:00Z");

describe("classifyResponse", () => {
  // #region response-rules
  it.each([
    [200, { outcome: "success" }],
    [201, { outcome: "success" }],
    [204, { outcome: "success" }],
    [299, { outcome: "success" }],
    [301, { outcome: "retry", reason: "redirect" }],
    [302, { outcome: "retry", reason: "redirect" }],
    [307, { outcome: "retry", reason: "redirect" }],
    [308, { outcome: "retry", reason: "redirect" }],
    [100, { outcome: "retry", reason: "http_error" }],
    [400, { outcome: "retry", reason: "http_error" }],
    [401, { outcome: "retry", reason: "http_error" }],
    [404, { outcome: "retry", reason: "http_error" }],
    [408, { outcome: "retry", reason: "http_error" }],
    [410, { outcome: "disable_endpoint", reason: "gone" }],
    [429, { outcome: "retry", reason: "rate_limited" }],
    [500, { outcome: "retry", reason: "http_error" }],
    [502, { outcome: "retry", reason: "unavailable" }],
    [503, { outcome: "retry", reason: "unavailable" }],
    [504, { outcome: "retry", reason: "unavailable" }],
  ])("status %i → %o", (status, expected) => {
    expect(classifyResponse({ status, now })).toEqual(expected);
  });
  // #endregion response-rules

  it.each([429, 502, 503, 504])("honours Retry-After in seconds on %i", (status) => {
    expect(classifyResponse({ status, headers: { "Retry-After": "2" }, now })).toMatchObject({
      outcome: "retry",
      retryAfterMs: 2_000,
    });
  });

  it.each([500, 400, 301, 200, 410])("ignores Retry-After on %i", (status) => {
    const result = classifyResponse({ status, headers: { "retry-after": "2" }, now });
    expect(result).not.toHaveProperty("retryAfterMs");
  });

  it("honours an HTTP-date Retry-After, from fetch Headers too", () => {
    const headers = new Headers({ "retry-after": "Wed, 01 May 2024 12:00:30 GMT" });
    expect(classifyResponse({ status: 503, headers, now: new Date(now) })).toEqual({
      outcome: "retry",
      reason: "unavailable",
      retryAfterMs: 30_000,
    });
  });

  it("takes the first of repeated headers and ignores an unusable value", () => {
    expect(
      classifyResponse({ status: 429, headers: { "retry-after": ["5", "9"] }, now }),
    ).toMatchObject({
      retryAfterMs: 5_000,
    });
    expect(classifyResponse({ status: 429, headers: { "retry-after": "soon" }, now })).toEqual({
      outcome: "retry",
      reason: "rate_limited",
    });
  });

  it("clamps Retry-After into the bounds, defaults 1 s and 1 h", () => {
    const at = (value: string, bounds = {}) =>
      classifyResponse({ status: 429, headers: { "retry-after": value }, now, ...bounds });
    expect(DEFAULT_MIN_RETRY_AFTER_MS).toBe(1_000);
    expect(DEFAULT_MAX_RETRY_AFTER_MS).toBe(3_600_000);
    expect(at("0")).toMatchObject({ retryAfterMs: 1_000 });
    expect(at("Wed, 01 May 2024 11:00:00 GMT")).toMatchObject({ retryAfterMs: 1_000 }); // past
    expect(at("86400")).toMatchObject({ retryAfterMs: 3_600_000 });
    expect(at("86400", { maxRetryAfterMs: 86_400_000 })).toMatchObject({
      retryAfterMs: 86_400_000,
    });
    expect(at("0", { minRetryAfterMs: 0 })).toMatchObject({ retryAfterMs: 0 });
  });

  it("rejects bounds that are not 0 ≤ min ≤ max", () => {
    for (const bounds of [
      { minRetryAfterMs: -1 },
      { minRetryAfterMs: 10, maxRetryAfterMs: 5 },
      { maxRetryAfterMs: Number.NaN },
    ]) {
      let thrown: unknown;
      try {
        classifyResponse({ status: 429, now, ...bounds });
      } catch (error) {
        thrown = error;
      }
      expect(isHeraldError(thrown, "config.invalid")).toBe(true);
    }
  });

  it("retries network errors and timeouts, and a status wins over an error", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const headersTimeout = Object.assign(new Error("Headers Timeout"), {
      code: "UND_ERR_HEADERS_TIMEOUT",
    });
    const aborted = new Error("fetch failed", {
      cause: new DOMException("timed out", "TimeoutError"),
    });
    expect(classifyResponse({ error: refused, now })).toEqual({
      outcome: "retry",
      reason: "network_error",
    });
    expect(classifyResponse({ error: headersTimeout, now })).toEqual({
      outcome: "retry",
      reason: "timeout",
    });
    expect(classifyResponse({ error: aborted, now })).toEqual({
      outcome: "retry",
      reason: "timeout",
    });
    expect(classifyResponse({ error: "weird", now })).toEqual({
      outcome: "retry",
      reason: "network_error",
    });
    expect(classifyResponse({ status: 200, error: headersTimeout, now })).toEqual({
      outcome: "success",
    });
  });
});

describe("parseRetryAfter", () => {
  it.each([
    ["120", 120_000],
    ["  7 ", 7_000],
    ["0", 0],
    ["Wed, 01 May 2024 12:01:00 GMT", 60_000],
    ["wed, 01 may 2024 12:01:00 gmt", 60_000],
    ["Wednesday, 01-May-24 12:01:00 GMT", 60_000], // RFC 850
    ["Wed May  1 12:01:00 2024", 60_000], // asctime
    ["Tue, 30 Apr 2024 12:00:00 GMT", 0], // in the past
  ])("%j → %i ms", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([
    "",
    "-5",
    "1.5",
    "+3",
    "5s",
    "3, 4",
    "Wed, 31 Feb 2024 12:00:00 GMT",
    "2024-05-01T12:01:00Z",
    "Wed, 01 May 2024 25:00:00 GMT",
    "1",
  ])("%j is not usable except as the plain number it is", (value) => {
    const parsed = parseRetryAfter(value, now);
    if (value === "1") expect(parsed).toBe(1_000);
    else expect(parsed).toBeNull();
  });

  it("reads a two-digit RFC 850 year more than 50 years ahead as the last century", () => {
    expect(parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(0);
    expect(
      parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", Date.parse("1994-11-06T08:49:00Z")),
    ).toBe(37_000);
  });

  it("property: delta-seconds round-trip, and clamping always lands within the bounds", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000_000 }),
        (seconds, min, span) => {
          expect(parseRetryAfter(String(seconds), now)).toBe(seconds * 1000);
          const bounds = { minRetryAfterMs: min, maxRetryAfterMs: min + span };
          const result = classifyResponse({
            status: 503,
            headers: { "retry-after": `${seconds}` },
            now,
            ...bounds,
          });
          expect(result).toMatchObject({ outcome: "retry" });
          const ms = (result as { retryAfterMs: number }).retryAfterMs;
          expect(ms).toBeGreaterThanOrEqual(min);
          expect(ms).toBeLessThanOrEqual(min + span);
          expect(ms).toBe(Math.min(Math.max(seconds * 1000, min), min + span));
        },
      ),
    );
  });

  it("property: an IMF-fixdate in the future gives exactly its distance from now", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400 }), (seconds) => {
        const at = new Date(now + seconds * 1000).toUTCString(); // IMF-fixdate
        expect(parseRetryAfter(at, now)).toBe(seconds * 1000);
      }),
    );
  });

  it("property: arbitrary strings never throw and never give a negative wait", () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const parsed = parseRetryAfter(value, now);
        expect(parsed === null || parsed >= 0).toBe(true);
      }),
    );
  });
});

describe("truncateBody", () => {
  it("keeps bodies within the limit whole (default 20 KiB)", () => {
    const body = "x".repeat(20 * 1024);
    expect(truncateBody(body)).toEqual({ text: body, truncated: false, totalBytes: 20_480 });
    expect(truncateBody(`${body}y`)).toEqual({ text: body, truncated: true, totalBytes: 20_481 });
  });

  it("cuts before a multi-byte character that would not fit whole", () => {
    // "é" is 2 bytes, "€" 3, "😀" 4.
    expect(truncateBody("aé", 2)).toEqual({ text: "a", truncated: true, totalBytes: 3 });
    expect(truncateBody("ab€", 4)).toEqual({ text: "ab", truncated: true, totalBytes: 5 });
    expect(truncateBody("😀😀", 7)).toEqual({ text: "😀", truncated: true, totalBytes: 8 });
    const bytes = new TextEncoder().encode("ab😀c");
    expect(truncateBody(bytes, 5)).toEqual({ text: "ab", truncated: true, totalBytes: 7 });
    expect(truncateBody(bytes, 6)).toEqual({ text: "ab😀", truncated: true, totalBytes: 7 });
    expect(truncateBody(bytes, 0)).toEqual({ text: "", truncated: true, totalBytes: 7 });
  });

  it("property: bytes and string give the same valid prefix within the limit", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 40 }),
        fc.integer({ min: 0, max: 100 }),
        (text, limit) => {
          const fromString = truncateBody(text, limit);
          const fromBytes = truncateBody(new TextEncoder().encode(text), limit);
          expect(fromBytes).toEqual(fromString);
          expect(text.startsWith(fromString.text)).toBe(true);
          const kept = Buffer.byteLength(fromString.text);
          expect(kept).toBeLessThanOrEqual(limit);
          // A cut drops at most the one code point (≤ 4 bytes) that would not fit.
          if (fromString.truncated) expect(kept).toBeGreaterThanOrEqual(limit - 3);
          expect(fromString.truncated).toBe(Buffer.byteLength(text) > limit);
        },
      ),
    );
  });

  it("rejects a negative or fractional limit", () => {
    expect(() => truncateBody("x", -1)).toThrow(
      expect.objectContaining({ code: "config.invalid" }),
    );
    expect(() => truncateBody("x", 1.5)).toThrow(
      expect.objectContaining({ code: "config.invalid" }),
    );
  });
});
