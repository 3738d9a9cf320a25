// The limits derived from the request deadline: the default answers before providers give up,
// each limit sits where its role needs it, and a deadline out of range is a config error.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_REQUEST_DEADLINE_MS,
  MAX_REQUEST_DEADLINE_MS,
  MIN_REQUEST_DEADLINE_MS,
  storeDeadlines,
} from "../../packages/core/src/store/storeDeadlines.js";
import { coerceError } from "../../packages/webhooks/src/core/errors.js";

describe("storeDeadlines", () => {
  it("defaults to 8 s, under the 10 s providers wait", () => {
    expect(DEFAULT_REQUEST_DEADLINE_MS).toBeLessThanOrEqual(10_000);
    expect(storeDeadlines()).toEqual({
      requestMs: 8_000,
      storeWaitMs: 7_200,
      retryAfterS: 8,
      pg: {
        statementTimeoutMs: 8_000,
        idleInTransactionMs: 8_000,
        queryTimeoutMs: 9_000,
        connectTimeoutMs: 8_000,
      },
    });
  });

  it.each([MIN_REQUEST_DEADLINE_MS, 2_000, 8_000, MAX_REQUEST_DEADLINE_MS])(
    "orders the limits for %i ms: store waits end before the deadline, the server's own timeout before the client's",
    (ms) => {
      const d = storeDeadlines(ms);
      expect(d.storeWaitMs).toBeLessThan(d.requestMs);
      expect(d.pg.connectTimeoutMs).toBeLessThanOrEqual(d.requestMs);
      expect(d.pg.statementTimeoutMs).toBeLessThan(d.pg.queryTimeoutMs);
      expect(d.retryAfterS).toBeGreaterThanOrEqual(1);
    },
  );

  it.each([0, 499, 60_001, 1500.5, Number.NaN])("refuses %s ms as config.invalid", (ms) => {
    let error: unknown;
    try {
      storeDeadlines(ms);
    } catch (caught) {
      error = caught;
    }
    expect(coerceError(error).code).toBe("config.invalid");
  });
});
