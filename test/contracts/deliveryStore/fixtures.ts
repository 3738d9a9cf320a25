// Shared set-up of the DeliveryStore contract: the per-test context, fixtures and assertions.
import { expect } from "vitest";
import type {
  AttemptInput,
  AttemptRecord,
  ClaimedDelivery,
  CreateMessageResult,
  DeliveryRecord,
  DeliveryStore,
  EndpointInput,
  EndpointRecord,
  InboundDedupe,
  MessageInput,
} from "../../../packages/core/src/store/ports.js";
import type { ManualClock } from "../../../packages/webhooks/src/core/clock.js";

/** 2025-01-01T00:00:00.000Z: every test starts here on a ManualClock. */
export const START = Date.UTC(2025, 0, 1);
export const LEASE_MS = 30_000;
/** How long the dedupe keys of `dedupe()` live. */
export const DEDUPE_TTL = 60_000;

/** An inbound dedupe key of source `shop`, live until START + DEDUPE_TTL unless overridden. */
export const dedupe = (key: string, overrides: Partial<InboundDedupe> = {}): InboundDedupe => ({
  source: "shop",
  key,
  expiresAt: START + DEDUPE_TTL,
  ...overrides,
});

/** What a backend gives the contract for one test. */
export interface DeliveryStoreHarness {
  store: DeliveryStore;
  /**
   * Another store over the same data through its own connection(s), as a second process would
   * have (memory: the same store). Closed by `close`.
   */
  connect(): Promise<DeliveryStore>;
  close(): Promise<void>;
}

export type DeliveryStoreFactory = (clock: ManualClock) => Promise<DeliveryStoreHarness>;

/** Filled in by beforeEach; read by the tests of every section. */
export interface ContractContext {
  store: DeliveryStore;
  clock: ManualClock;
  connect(): Promise<DeliveryStore>;
}

/** A failed HTTP attempt, as a worker reports it. */
export const failedAttempt = (overrides: Partial<AttemptInput> = {}): AttemptInput => ({
  startedAt: START,
  durationMs: 12,
  succeeded: false,
  statusCode: 500,
  responseHeaders: { "Content-Type": "text/plain" },
  responseBody: "boom",
  error: "HTTP 500",
  ...overrides,
});

export async function makeEndpoint(
  store: DeliveryStore,
  overrides: Partial<EndpointInput> = {},
): Promise<EndpointRecord> {
  return store.createEndpoint({
    target: "https://receiver.example/hooks",
    eventTypes: ["order.*"],
    ...overrides,
  });
}

export async function dispatch(
  store: DeliveryStore,
  endpointIds: readonly string[],
  message: Partial<MessageInput> = {},
  maxAttempts = 3,
): Promise<CreateMessageResult> {
  return store.createMessage({
    message: { type: "order.created.v1", payload: { orderId: 1 }, ...message },
    deliveries: endpointIds.map((endpointId) => ({ endpointId, maxAttempts })),
  });
}

export async function claimAll(
  store: DeliveryStore,
  owner: string,
  limit = 100,
  leaseMs = LEASE_MS,
): Promise<ClaimedDelivery[]> {
  return store.claimDueDeliveries({ owner, limit, leaseMs });
}

/** Claims exactly one delivery for `owner` and returns its id. */
export async function claimOne(store: DeliveryStore, owner: string): Promise<string> {
  const claimed = await claimAll(store, owner, 1);
  expect(claimed).toHaveLength(1);
  return claimed[0]!.delivery.id;
}

export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: "HeraldError", code });
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** The fields of a delivery no worker holds. */
export const UNLEASED = { leaseOwner: null, leaseExpiresAt: null } as const;
/** The fields of a delivery after one `failedAttempt()` at START. */
export const FAILED_ONCE = {
  attempts: 1,
  lastAttemptAt: iso(START),
  lastError: "HTTP 500",
  lastStatusCode: 500,
} as const;
/** The attempt log entry of that attempt. */
export const LOGGED_FAILURE = { number: 1, statusCode: 500, error: "HTTP 500" } as const;

/** Every delivery of the store (all pages), oldest first. */
export async function allDeliveryIds(store: DeliveryStore): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listDeliveries({ order: "oldest", limit: 1000, cursor });
    ids.push(...page.data.map((d) => d.id));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return ids;
}

/** What a write should have left in the store: the fields it changed, by record. */
export type StoredState =
  | {
      /** The delivery's id and fields, read back by getDelivery and through getMessage. */
      delivery: Partial<DeliveryRecord> & { id: string };
      /** The delivery's whole attempt log, by number: one entry (its fields) per attempt. */
      attempts?: readonly Partial<AttemptRecord>[];
      /** The endpoint's id and fields (its failure run after an attempt). */
      endpoint?: Partial<EndpointRecord> & { id: string };
    }
  | { endpoint: Partial<EndpointRecord> & { id: string } };

/**
 * Re-reads every record a write changed and checks the given fields as stored: a write that
 * answers the right record but leaves a column unsaved fails here.
 */
export async function expectStored(store: DeliveryStore, expected: StoredState): Promise<void> {
  if ("delivery" in expected) {
    const { id } = expected.delivery;
    const stored = await store.getDelivery(id);
    expect(stored?.delivery).toMatchObject(expected.delivery);
    if (expected.attempts !== undefined) {
      expect(stored?.attempts).toMatchObject(expected.attempts);
    }
    const message = await store.getMessage(stored!.delivery.messageId);
    expect(message?.deliveries.find((d) => d.id === id)).toEqual(stored!.delivery);
  }
  if (expected.endpoint !== undefined) {
    expect(await store.getEndpoint(expected.endpoint.id)).toMatchObject(expected.endpoint);
  }
}
