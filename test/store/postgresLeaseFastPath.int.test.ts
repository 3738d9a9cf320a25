// The PostgreSQL store's one-statement paths (claimDueDeliveries, the lease-guarded writes'
// fast path): a write computed from the row as this store last saw it must be refused when the
// row changed meanwhile, and taken by the slow path (lock, read, check) with its usual result.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createPgPool, type PgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import {
  dispatch,
  expectCode,
  failedAttempt,
  LEASE_MS,
  makeEndpoint,
  START,
} from "../contracts/deliveryStore/fixtures.js";
import { okAttempt } from "../helpers/deliveryRecords.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("postgres delivery store: one-statement claim and writes", () => {
  let schema: TestSchema;
  let otherPool: PgPool;
  let clock: ManualClock;
  let store: DeliveryStore;
  /** Another process on the same schema. */
  let other: DeliveryStore;

  beforeAll(async () => {
    schema = await createTestSchema("lease_fast_path");
    otherPool = createPgPool({ connectionString: schema.url, schema: schema.schema, max: 2 });
  });
  afterAll(async (suite) => {
    await otherPool.end();
    await schema.dropIfPassed(suite);
  });
  beforeEach(async () => {
    await schema.pool.query(
      "TRUNCATE inbound_keys, attempts, deliveries, messages, endpoints, sources, event_types CASCADE",
    );
    clock = new ManualClock(START);
    store = createPostgresDeliveryStore(schema.pool, { clock });
    other = createPostgresDeliveryStore(otherPool, { clock });
  });

  it("claims with the message and endpoint of every delivery, in due order", async () => {
    const a = await makeEndpoint(store, { headers: { "x-a": "1" } });
    const b = await makeEndpoint(store);
    for (let i = 0; i < 3; i++) {
      await dispatch(store, [a.id, b.id], { payload: { i } });
      clock.advance(10);
    }
    const claimed = await store.claimDueDeliveries({ owner: "w", limit: 10, leaseMs: LEASE_MS });
    expect(claimed).toHaveLength(6);
    for (const c of claimed) {
      expect(c.message).toEqual(
        await store.getMessage(c.delivery.messageId).then((m) => m!.message),
      );
      expect(c.endpoint).toEqual(await store.getEndpoint(c.delivery.endpointId));
      expect(c.delivery).toEqual((await store.getDelivery(c.delivery.id))!.delivery);
    }
    const due = claimed.map((c) => c.message.createdAt);
    expect(due).toEqual([...due].sort());
  });

  it("a row changed by another process since the claim is checked again, not overwritten", async () => {
    const endpoint = await makeEndpoint(store);
    await dispatch(store, [endpoint.id]);
    const [c] = await store.claimDueDeliveries({ owner: "w", limit: 1, leaseMs: LEASE_MS });
    clock.advance(1_000);
    // Same owner, another store instance (another process): the lease is still "w"'s.
    const extended = await other.extendLease({
      deliveryId: c!.delivery.id,
      owner: "w",
      leaseMs: 90_000,
    });
    clock.advance(1_000);
    const done = await store.completeDelivery({
      deliveryId: c!.delivery.id,
      owner: "w",
      attempt: okAttempt(clock.now()),
    });
    expect(done).toMatchObject({ status: "delivered", attempts: 1, leaseOwner: null });
    expect((await store.getDelivery(c!.delivery.id))!.delivery).toEqual(done);
    expect(extended.leaseExpiresAt).not.toBe(c!.delivery.leaseExpiresAt);
  });

  it("a lease taken over by another worker fails with delivery.lease_lost and writes nothing", async () => {
    const endpoint = await makeEndpoint(store);
    await dispatch(store, [endpoint.id]);
    const [c] = await store.claimDueDeliveries({ owner: "w1", limit: 1, leaseMs: 1_000 });
    clock.advance(2_000);
    const [taken] = await other.claimDueDeliveries({ owner: "w2", limit: 1, leaseMs: LEASE_MS });
    expect(taken!.delivery.id).toBe(c!.delivery.id);
    await expectCode(
      store.completeDelivery({
        deliveryId: c!.delivery.id,
        owner: "w1",
        attempt: okAttempt(clock.now()),
      }),
      "delivery.lease_lost",
    );
    expect((await store.getDelivery(c!.delivery.id))!.attempts).toEqual([]);
    const done = await other.completeDelivery({
      deliveryId: c!.delivery.id,
      owner: "w2",
      attempt: okAttempt(clock.now()),
    });
    expect(done.status).toBe("delivered");
  });

  it("numbers attempts after every earlier one, across a replay", async () => {
    const endpoint = await makeEndpoint(store);
    await dispatch(store, [endpoint.id]);
    const [c] = await store.claimDueDeliveries({ owner: "w", limit: 1, leaseMs: LEASE_MS });
    const id = c!.delivery.id;
    await store.scheduleRetry({
      deliveryId: id,
      owner: "w",
      attempt: failedAttempt({ startedAt: clock.now() }),
      nextAttemptAt: clock.now() + 1_000,
    });
    clock.advance(1_000);
    await store.claimDueDeliveries({ owner: "w", limit: 1, leaseMs: LEASE_MS });
    await store.deadLetter({ deliveryId: id, owner: "w", attempt: failedAttempt(), reason: "x" });
    await store.replayDelivery(id);
    await store.claimDueDeliveries({ owner: "w", limit: 1, leaseMs: LEASE_MS });
    const done = await store.completeDelivery({
      deliveryId: id,
      owner: "w",
      attempt: okAttempt(clock.now()),
    });
    expect(done).toMatchObject({ status: "delivered", attempts: 1 });
    const { attempts } = (await store.getDelivery(id))!;
    expect(attempts.map((a) => a.number)).toEqual([1, 2, 3]);
  });

  it("a success resets the endpoint's failure run; successes and failures in one turn keep their order", async () => {
    const endpoint = await makeEndpoint(store);
    for (let i = 0; i < 4; i++) await dispatch(store, [endpoint.id]);
    const claimed = await store.claimDueDeliveries({ owner: "w", limit: 4, leaseMs: LEASE_MS });
    const [a, b, c, d] = claimed.map((x) => x.delivery.id);
    const failed = await store.recordAttempt({
      deliveryId: a!,
      owner: "w",
      attempt: failedAttempt(),
    });
    expect(failed.endpointHealth.consecutiveFailures).toBe(1);
    // One turn: a success and a failure of the same endpoint, then a lone success.
    const [first, second] = await Promise.all([
      store.completeDelivery({ deliveryId: b!, owner: "w", attempt: okAttempt(clock.now()) }),
      store.recordAttempt({ deliveryId: c!, owner: "w", attempt: failedAttempt() }),
    ]);
    expect(first.status).toBe("delivered");
    expect(second.endpointHealth).toEqual({
      consecutiveFailures: 1,
      failingSince: expect.any(String),
    });
    expect((await store.getEndpoint(endpoint.id))!.consecutiveFailures).toBe(1);
    await store.completeDelivery({ deliveryId: d!, owner: "w", attempt: okAttempt(clock.now()) });
    const healthy = await store.getEndpoint(endpoint.id);
    expect(healthy).toMatchObject({ consecutiveFailures: 0, failingSince: null });
  });
});
