// DeliveryStore contract, catalogue: event types, sources and endpoints.
import { describe, expect, it } from "vitest";
import {
  type ContractContext,
  dispatch,
  expectCode,
  expectStored,
  failedAttempt,
  iso,
  makeEndpoint,
  START,
} from "./fixtures.js";

/** An enabled endpoint with no failure run. */
const ENABLED_AND_HEALTHY = {
  enabled: true,
  disabledReason: null,
  consecutiveFailures: 0,
  failingSince: null,
} as const;

export function catalogContract(t: ContractContext): void {
  describe("event types", () => {
    it("upserts with defaults, gets, and answers undefined for an unknown name", async () => {
      const created = await t.store.upsertEventType({ name: "order.created.v1" });
      expect(created).toEqual({
        name: "order.created.v1",
        description: "",
        schema: null,
        deprecated: false,
        auto: false,
        firstSeenAt: null,
        lastSeenAt: null,
        count: 0,
        createdAt: iso(START),
        updatedAt: iso(START),
      });
      expect(await t.store.getEventType("order.created.v1")).toEqual(created);
      expect(await t.store.getEventType("order.deleted.v1")).toBeUndefined();
    });

    it("replaces on upsert, keeping createdAt", async () => {
      await t.store.upsertEventType({ name: "order.created.v1", description: "old" });
      t.clock.advance(5_000);
      const schema = { type: "object", required: ["id"], properties: { id: { type: "string" } } };
      const updated = await t.store.upsertEventType({
        name: "order.created.v1",
        description: "An order was placed",
        schema,
        deprecated: true,
      });
      expect(updated).toMatchObject({
        description: "An order was placed",
        schema,
        deprecated: true,
        createdAt: iso(START),
        updatedAt: iso(START + 5_000),
      });
      expect(await t.store.getEventType("order.created.v1")).toEqual(updated);
    });

    it("lists by name and deletes", async () => {
      for (const name of ["b.created.v1", "a.created.v1", "c.created.v1"]) {
        await t.store.upsertEventType({ name });
      }
      expect((await t.store.listEventTypes()).map((e) => e.name)).toEqual([
        "a.created.v1",
        "b.created.v1",
        "c.created.v1",
      ]);
      expect(await t.store.deleteEventType("b.created.v1")).toBe(true);
      expect(await t.store.deleteEventType("b.created.v1")).toBe(false);
      expect((await t.store.listEventTypes()).map((e) => e.name)).toEqual([
        "a.created.v1",
        "c.created.v1",
      ]);
    });

    it("refuses a bad name or schema with event_type.invalid", async () => {
      await expectCode(t.store.upsertEventType({ name: "order created" }), "event_type.invalid");
      await expectCode(t.store.upsertEventType({ name: "order.*" }), "event_type.invalid");
      await expectCode(
        t.store.upsertEventType({ name: "a.b.v1", schema: [] as never }),
        "event_type.invalid",
      );
      expect(await t.store.listEventTypes()).toEqual([]);
    });
  });

  describe("sources", () => {
    it("upserts with defaults and round-trips every field", async () => {
      const minimal = await t.store.upsertSource({ name: "stripe", scheme: "stripe" });
      expect(minimal).toEqual({
        name: "stripe",
        scheme: "stripe",
        schemeOptions: null,
        secrets: [],
        toleranceS: 300,
        idempotencyHeader: null,
        idempotencyRequired: false,
        dedupeTtlS: 259_200,
        typeFrom: { fixed: "received" },
        allowFrom: [],
        createdAt: iso(START),
        updatedAt: iso(START),
      });
      const full = await t.store.upsertSource({
        name: "partner",
        scheme: "hmac",
        schemeOptions: { algorithm: "sha512", signatureHeader: "X-Signature" },
        secrets: ["one", "two"],
        toleranceS: 60,
        idempotencyHeader: "X-Event-Id",
        idempotencyRequired: true,
        dedupeTtlS: 3_600,
        typeFrom: { header: "X-Event-Type" },
        allowFrom: ["10.0.0.0/8", "2001:db8::/32"],
      });
      expect(await t.store.getSource("partner")).toEqual(full);
      expect(full.allowFrom).toEqual(["10.0.0.0/8", "2001:db8::/32"]);
      const token = await t.store.upsertSource({
        name: "token",
        scheme: "token",
        schemeOptions: { header: "X-Hook-Token" },
        secrets: ["tok_0123456789abcdef"],
      });
      expect(await t.store.getSource("token")).toEqual(token);
      expect(full.typeFrom).toEqual({ header: "X-Event-Type" });
      expect(full.secrets).toEqual(["one", "two"]);
      expect(await t.store.getSource("nobody")).toBeUndefined();
    });

    it("keeps createdAt on upsert, lists by name and deletes", async () => {
      await t.store.upsertSource({ name: "github", scheme: "github" });
      t.clock.advance(1_000);
      const updated = await t.store.upsertSource({
        name: "github",
        scheme: "github",
        typeFrom: { body: "action" },
      });
      expect(updated).toMatchObject({ createdAt: iso(START), updatedAt: iso(START + 1_000) });
      await t.store.upsertSource({ name: "acme", scheme: "standard" });
      expect((await t.store.listSources()).map((s) => s.name)).toEqual(["acme", "github"]);
      expect(await t.store.deleteSource("acme")).toBe(true);
      expect(await t.store.deleteSource("acme")).toBe(false);
      expect(await t.store.getSource("acme")).toBeUndefined();
    });

    it("refuses bad input with source.invalid", async () => {
      await expectCode(t.store.upsertSource({ name: "a/b", scheme: "stripe" }), "source.invalid");
      await expectCode(
        t.store.upsertSource({
          name: "x",
          scheme: "stripe",
          typeFrom: { body: "type", header: "X" } as never,
        }),
        "source.invalid",
      );
      await expectCode(
        t.store.upsertSource({ name: "x", scheme: "stripe", dedupeTtlS: 0 }),
        "source.invalid",
      );
      expect(await t.store.listSources()).toEqual([]);
    });
  });

  describe("endpoints", () => {
    it("creates with defaults", async () => {
      const endpoint = await makeEndpoint(t.store);
      expect(endpoint).toEqual({
        id: expect.stringMatching(/^ep_[0-9A-Z]{26}$/),
        tenant: "default",
        description: "",
        transport: "http",
        target: "https://receiver.example/hooks",
        eventTypes: ["order.*"],
        filter: null,
        scheme: "standard",
        schemeOptions: null,
        secrets: [],
        secretName: null,
        adhoc: false,
        headers: {},
        timeoutMs: 15_000,
        retry: null,
        rateLimitPerS: null,
        maxInFlight: null,
        ordered: false,
        enabled: true,
        disabledReason: null,
        consecutiveFailures: 0,
        failingSince: null,
        createdAt: iso(START),
        updatedAt: iso(START),
      });
      expect(await t.store.getEndpoint(endpoint.id)).toEqual(endpoint);
      expect(await t.store.getEndpoint("ep_missing")).toBeUndefined();
    });

    it("round-trips every field; secret times from ms, Date or ISO come back as ISO", async () => {
      const endpoint = await t.store.createEndpoint({
        id: "ep_orders",
        tenant: "acme",
        description: "Orders to NATS",
        transport: "nats",
        target: "orders.created",
        eventTypes: ["order.*", "invoice.paid.v1"],
        scheme: "hmac",
        schemeOptions: { algorithm: "sha256", encoding: "hex" },
        secrets: [
          { secret: "whsec_new" },
          { secret: "whsec_old", expiresAt: START + 86_400_000, createdAt: new Date(START - 1) },
          { secret: "whsec_older", expiresAt: "2025-01-01T01:00:00+01:00" },
        ],
        headers: { "X-Team": "billing" },
        timeoutMs: 5_000,
        retry: { schedule_s: [1, 2.5] },
        rateLimitPerS: 12.5,
        maxInFlight: 4,
        ordered: true,
        enabled: false,
      });
      expect(endpoint.secrets).toEqual([
        { secret: "whsec_new", expiresAt: null, createdAt: iso(START) },
        { secret: "whsec_old", expiresAt: iso(START + 86_400_000), createdAt: iso(START - 1) },
        { secret: "whsec_older", expiresAt: iso(START), createdAt: iso(START) },
      ]);
      expect(endpoint).toMatchObject({
        id: "ep_orders",
        tenant: "acme",
        transport: "nats",
        retry: { schedule_s: [1, 2.5] },
        rateLimitPerS: 12.5,
        maxInFlight: 4,
        ordered: true,
        enabled: false,
        headers: { "X-Team": "billing" },
      });
      expect(await t.store.getEndpoint("ep_orders")).toEqual(endpoint);
    });

    it("refuses a taken id with endpoint.already_exists", async () => {
      await makeEndpoint(t.store, { id: "ep_same" });
      await expectCode(makeEndpoint(t.store, { id: "ep_same" }), "endpoint.already_exists");
    });

    it("refuses bad input with stable codes and stores nothing", async () => {
      await expectCode(makeEndpoint(t.store, { eventTypes: ["order*"] }), "type_pattern.invalid");
      await expectCode(
        makeEndpoint(t.store, { retry: { schedule_s: [-1] } }),
        "retry.invalid_policy",
      );
      await expectCode(makeEndpoint(t.store, { transport: "smtp" as never }), "endpoint.invalid");
      await expectCode(makeEndpoint(t.store, { target: "ftp://x" }), "endpoint.invalid");
      await expectCode(makeEndpoint(t.store, { timeoutMs: 0 }), "endpoint.invalid");
      await expectCode(makeEndpoint(t.store, { eventTypes: [] }), "endpoint.invalid");
      await expectCode(
        makeEndpoint(t.store, { headers: { "X-A": "1\r\nX-B: 2" } }),
        "endpoint.invalid",
      );
      await expectCode(makeEndpoint(t.store, { id: "ep with space" }), "endpoint.invalid");
      expect((await t.store.listEndpoints()).data).toEqual([]);
    });

    it("updates the given fields only and re-validates", async () => {
      const endpoint = await makeEndpoint(t.store, { retry: { schedule_s: [5] }, maxInFlight: 2 });
      t.clock.advance(1_000);
      const updated = await t.store.updateEndpoint(endpoint.id, {
        target: "https://other.example/in",
        retry: null,
        headers: { "X-New": "yes" },
      });
      expect(updated).toEqual({
        ...endpoint,
        target: "https://other.example/in",
        retry: null,
        headers: { "X-New": "yes" },
        updatedAt: iso(START + 1_000),
      });
      expect(await t.store.getEndpoint(endpoint.id)).toEqual(updated);
      await expectStored(t.store, {
        endpoint: {
          id: endpoint.id,
          target: "https://other.example/in",
          retry: null,
          headers: { "X-New": "yes" },
          maxInFlight: 2,
          updatedAt: iso(START + 1_000),
        },
      });
      await expectCode(t.store.updateEndpoint(endpoint.id, { timeoutMs: -1 }), "endpoint.invalid");
      await expectCode(
        t.store.updateEndpoint(endpoint.id, { id: "ep_x" } as never),
        "endpoint.invalid",
      );
      await expectCode(
        t.store.updateEndpoint("ep_missing", { ordered: true }),
        "endpoint.not_found",
      );
      expect(await t.store.getEndpoint(endpoint.id)).toEqual(updated);
    });

    it("disables with a reason; enabling clears the reason and the failure run", async () => {
      const endpoint = await makeEndpoint(t.store);
      const disabled = await t.store.setEndpointEnabled(endpoint.id, false, "HTTP 410 Gone");
      expect(disabled).toMatchObject({ enabled: false, disabledReason: "HTTP 410 Gone" });
      expect(await t.store.getEndpoint(endpoint.id)).toEqual(disabled);
      await expectStored(t.store, {
        endpoint: {
          id: endpoint.id,
          enabled: false,
          disabledReason: "HTTP 410 Gone",
          updatedAt: iso(START),
        },
      });
      const enabled = await t.store.setEndpointEnabled(endpoint.id, true);
      expect(enabled).toMatchObject({
        enabled: true,
        disabledReason: null,
        consecutiveFailures: 0,
        failingSince: null,
      });
      await expectStored(t.store, {
        endpoint: {
          id: endpoint.id,
          ...ENABLED_AND_HEALTHY,
          updatedAt: iso(START),
        },
      });
      await expectCode(t.store.setEndpointEnabled("ep_missing", false), "endpoint.not_found");
    });

    it("stores the failure run an attempt leaves, and clears it on enabling", async () => {
      const endpoint = await makeEndpoint(t.store);
      await dispatch(t.store, [endpoint.id]);
      const [claimed] = await t.store.claimDueDeliveries({ owner: "w", limit: 1, leaseMs: 1_000 });
      await t.store.deadLetter({
        deliveryId: claimed!.delivery.id,
        owner: "w",
        attempt: failedAttempt(),
      });
      await expectStored(t.store, {
        endpoint: { id: endpoint.id, consecutiveFailures: 1, failingSince: iso(START) },
      });
      t.clock.advance(1_000);
      await t.store.setEndpointEnabled(endpoint.id, false, "failing");
      await expectStored(t.store, {
        endpoint: {
          id: endpoint.id,
          enabled: false,
          disabledReason: "failing",
          consecutiveFailures: 1,
          failingSince: iso(START),
          updatedAt: iso(START + 1_000),
        },
      });
      t.clock.advance(1_000);
      await t.store.setEndpointEnabled(endpoint.id, true);
      await expectStored(t.store, {
        endpoint: {
          id: endpoint.id,
          ...ENABLED_AND_HEALTHY,
          updatedAt: iso(START + 2_000),
        },
      });
    });

    it("lists by tenant and enabled, oldest first, page by page", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await makeEndpoint(t.store, { tenant: "acme" })).id);
        t.clock.advance(i % 2); // some share a creation time: the id breaks the tie
      }
      const other = await makeEndpoint(t.store, { tenant: "globex", enabled: false });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await t.store.listEndpoints({ tenant: "acme", limit: 2, cursor });
        seen.push(...page.data.map((e) => e.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null);
      expect(seen).toEqual(ids);
      expect(pages).toBe(3);
      const disabled = await t.store.listEndpoints({ enabled: false });
      expect(disabled.data.map((e) => e.id)).toEqual([other.id]);
      expect((await t.store.listEndpoints()).data).toHaveLength(6);
      await expectCode(t.store.listEndpoints({ cursor: "nonsense" }), "cursor.invalid");
      await expectCode(t.store.listEndpoints({ limit: 0 }), "query.invalid");
    });

    it("deletes an endpoint with its deliveries and their attempts", async () => {
      const gone = await makeEndpoint(t.store);
      const kept = await makeEndpoint(t.store);
      const { message } = await dispatch(t.store, [gone.id, kept.id]);
      const claimed = await t.store.claimDueDeliveries({ owner: "w", limit: 10, leaseMs: 1_000 });
      for (const c of claimed) {
        await t.store.recordAttempt({
          deliveryId: c.delivery.id,
          owner: "w",
          attempt: failedAttempt({ durationMs: 3 }),
        });
      }
      const goneDelivery = claimed.find((c) => c.endpoint.id === gone.id)!.delivery.id;
      expect(await t.store.deleteEndpoint(gone.id)).toBe(true);
      expect(await t.store.deleteEndpoint(gone.id)).toBe(false);
      expect(await t.store.getEndpoint(gone.id)).toBeUndefined();
      expect(await t.store.getDelivery(goneDelivery)).toBeUndefined();
      const left = await t.store.getMessage(message.id);
      expect(left?.deliveries.map((d) => d.endpointId)).toEqual([kept.id]);
    });
  });
}
