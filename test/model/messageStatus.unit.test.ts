// A message's status and figures from its deliveries: every rule of MESSAGE_STATUSES, in its
// order of precedence, and how attempts, last_error, next_retry_at and updated_at are summed up.
import { describe, expect, it } from "vitest";
import type {
  DeliveryRecord,
  DeliveryStatus,
} from "../../packages/core/src/model/deliveryRecords.js";
import {
  MESSAGE_STATUSES,
  messageProgress,
  messageStatus,
} from "../../packages/core/src/model/messageStatus.js";

const T0 = "2025-03-01T10:00:00.000Z";
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const message = { createdAt: T0 };

let counter = 0;
function delivery(status: DeliveryStatus, extra: Partial<DeliveryRecord> = {}): DeliveryRecord {
  counter += 1;
  const attempted = status !== "pending";
  return {
    id: `dlv_${counter}`,
    messageId: "msg_1",
    endpointId: `ep_${counter}`,
    status,
    attempts: attempted ? 1 : 0,
    maxAttempts: 5,
    nextAttemptAt: status === "pending" || status === "retrying" ? at(10) : null,
    leaseOwner: null,
    leaseExpiresAt: null,
    lastAttemptAt: attempted ? at(1) : null,
    lastError: null,
    lastStatusCode: status === "delivered" ? 200 : attempted ? 500 : null,
    createdAt: T0,
    updatedAt: at(1),
    ...extra,
  };
}

describe("messageStatus", () => {
  it.each([
    [[], "no_endpoints"],
    [["pending"], "queued"],
    [["delivering"], "processing"],
    [["retrying"], "retrying"],
    [["delivered"], "delivered"],
    [["dead_lettered"], "dead_lettered"],
    [["cancelled"], "cancelled"],
    // Open deliveries come first: processing, then retrying, then queued.
    [["retrying", "delivering", "pending"], "processing"],
    [["pending", "retrying", "delivered"], "retrying"],
    [["pending", "dead_lettered"], "queued"],
    [["delivering", "dead_lettered"], "processing"],
    // Settled: a dead letter outweighs a delivery, a delivery outweighs cancellations.
    [["delivered", "dead_lettered"], "dead_lettered"],
    [["cancelled", "dead_lettered"], "dead_lettered"],
    [["delivered", "cancelled"], "delivered"],
    [["cancelled", "cancelled"], "cancelled"],
  ] as const)("%j → %s", (statuses, expected) => {
    expect(messageStatus(statuses.map((status) => ({ status })))).toBe(expected);
  });

  it("answers only statuses of the documented vocabulary", () => {
    expect(MESSAGE_STATUSES).toEqual([
      "queued",
      "processing",
      "retrying",
      "delivered",
      "dead_lettered",
      "no_endpoints",
      "cancelled",
    ]);
  });
});

describe("messageProgress", () => {
  it("without deliveries: no_endpoints, zero attempts, the message's own time", () => {
    expect(messageProgress(message, [])).toEqual({
      status: "no_endpoints",
      description: expect.stringContaining("No enabled endpoint matched"),
      attempts: 0,
      maxAttempts: 0,
      lastError: null,
      nextRetryAt: null,
      updatedAt: T0,
    });
  });

  it("with one delivery: its attempts, max attempts, due time and error", () => {
    const retrying = delivery("retrying", { attempts: 2, lastError: "connect ECONNREFUSED" });
    expect(messageProgress(message, [retrying])).toEqual({
      status: "retrying",
      description: `Retrying: 2 attempts of 5 failed; the next is due ${at(10)}.`,
      attempts: 2,
      maxAttempts: 5,
      lastError: "connect ECONNREFUSED",
      nextRetryAt: at(10),
      updatedAt: at(1),
    });
    const queued = messageProgress(message, [delivery("pending")]);
    expect(queued).toMatchObject({ status: "queued", attempts: 0, nextRetryAt: at(10) });
    expect(queued.description).toBe(`Queued: waiting for a worker to attempt it (due ${at(10)}).`);
    const delivered = messageProgress(message, [delivery("delivered", { attempts: 3 })]);
    expect(delivered).toMatchObject({ status: "delivered", attempts: 3, lastError: null });
    expect(delivered.description).toBe("Delivered after 3 attempts.");
    const dead = messageProgress(message, [
      delivery("dead_lettered", { attempts: 5, lastError: "max attempts (5) reached: HTTP 500" }),
    ]);
    expect(dead).toMatchObject({
      status: "dead_lettered",
      attempts: 5,
      maxAttempts: 5,
      lastError: "max attempts (5) reached: HTTP 500",
      nextRetryAt: null,
    });
    expect(dead.description).toMatch(/^Dead-lettered after 5 attempts: /);
    expect(messageProgress(message, [delivery("delivering")]).description).toBe(
      "Processing: a worker is attempting it now.",
    );
    expect(messageProgress(message, [delivery("cancelled")]).description).toBe(
      "Cancelled: it will not be attempted.",
    );
  });

  it("a failed attempt known by its status code only is `HTTP <code>`; a success leaves none", () => {
    expect(messageProgress(message, [delivery("retrying")]).lastError).toBe("HTTP 500");
    // A delivery that failed and then succeeded: its last attempt succeeded.
    expect(messageProgress(message, [delivery("delivered")]).lastError).toBeNull();
    // Replayed (attempts reset) or never attempted: nothing failed since.
    expect(messageProgress(message, [delivery("pending")]).lastError).toBeNull();
    // Failed without any answer (a network error is an error text, not a code).
    const noCode = delivery("retrying", { lastStatusCode: null });
    expect(messageProgress(message, [noCode]).lastError).toBeNull();
  });

  it("with several deliveries: maxima, the earliest due time, the latest error and change", () => {
    const deliveries = [
      delivery("delivered", { attempts: 1, maxAttempts: 3, updatedAt: at(2) }),
      delivery("retrying", {
        attempts: 4,
        maxAttempts: 8,
        nextAttemptAt: at(30),
        lastAttemptAt: at(3),
        lastError: "older",
        updatedAt: at(3),
      }),
      delivery("retrying", {
        attempts: 2,
        maxAttempts: 5,
        nextAttemptAt: at(20),
        lastAttemptAt: at(4),
        lastError: "newer",
        updatedAt: at(4),
      }),
      delivery("dead_lettered", { attempts: 1, lastAttemptAt: null, updatedAt: at(0) }),
    ];
    const progress = messageProgress(message, deliveries);
    expect(progress).toEqual({
      status: "retrying",
      description: `Retrying: an attempt failed; the next is due ${at(20)}. Deliveries: 1 delivered, 2 retrying, 1 dead_lettered.`,
      attempts: 4,
      maxAttempts: 8,
      lastError: "newer",
      nextRetryAt: at(20),
      updatedAt: at(4),
    });
    // A delivery's time is its last attempt's, else its last change (a dead letter without one).
    const deadLater = delivery("dead_lettered", {
      lastAttemptAt: null,
      lastError: "endpoint deleted",
      updatedAt: at(9),
    });
    expect(messageProgress(message, [...deliveries, deadLater]).lastError).toBe("endpoint deleted");
    const settled = messageProgress(message, [delivery("delivered"), delivery("cancelled")]);
    expect(settled.description).toBe("Delivered. Deliveries: 1 delivered, 1 cancelled.");
    const dead = messageProgress(message, [delivery("delivered"), delivery("dead_lettered")]);
    expect(dead.description).toMatch(
      /^Dead-lettered: .* Deliveries: 1 delivered, 1 dead_lettered\.$/,
    );
  });
});
