// The receiver's dedupe behaviour: which key identifies a delivery, how long it is remembered,
// and what happens when the store fails.
import { createHash } from "node:crypto";
import {
  createMemoryDedupeStore,
  createReceiver,
  type ReceiverOptions,
  signWebhook,
  type WebhookContext,
  type WebhookScheme,
} from "@heraldjs/webhooks";
import { describe, expect, it, vi } from "vitest";
import { parse, receiverSetup as setup, signedHeaders, T } from "./fixtures.js";

/** A scheme that accepts everything, with the ids a test wants. */
function openScheme(ids: { verified?: string; delivery?: string } = {}): WebhookScheme {
  return {
    name: "open",
    timestamped: false,
    multipleSignatures: false,
    sign: () => ({}),
    verify: () => (ids.verified === undefined ? { ok: true } : { ok: true, id: ids.verified }),
    deliveryId: () => ids.delivery,
    generateSecret: () => "s",
  };
}

const sha256 = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
describe("receiver: dedupe keys", () => {
  it("the scheme's id: same webhook-id, different bytes → duplicate", async () => {
    const { receiver, seen } = setup();
    const a = '{"v":1}';
    const b = '{"v":2}';
    await receiver.handle({ headers: signedHeaders(a, { id: "msg_9", timestamp: T }), body: a });
    const second = await receiver.handle({
      headers: signedHeaders(b, { id: "msg_9", timestamp: T }),
      body: b,
    });
    expect(parse(second.body)).toEqual({ status: "duplicate", id: "msg_9" });
    expect(seen).toHaveLength(1);
  });

  it("the verified id wins over deliveryId, which wins over the idempotency header", async () => {
    const both = setup({
      scheme: openScheme({ verified: "from-verify", delivery: "from-header-id" }),
      idempotencyHeader: "Idempotency-Key",
    });
    await both.receiver.handle({ headers: { "idempotency-key": "k1" }, body: "x" });
    expect(both.seen[0]).toMatchObject({ id: "from-verify", dedupeKey: "open:id:from-verify" });

    const delivery = setup({
      scheme: openScheme({ delivery: "evt_1" }),
      idempotencyHeader: "Idempotency-Key",
    });
    await delivery.receiver.handle({ headers: { "Idempotency-Key": "k1" }, body: "x" });
    expect(delivery.seen[0]).toMatchObject({ id: "evt_1", dedupeKey: "open:id:evt_1" });
  });

  it("a replay with a rewritten idempotency header is still the signed id's delivery", async () => {
    const { receiver, seen } = setup({ idempotencyHeader: "Idempotency-Key" });
    const body = '{"v":1}';
    const signed = signedHeaders(body, { id: "msg_7", timestamp: T });
    await receiver.handle({ headers: { ...signed, "idempotency-key": "first" }, body });
    const replay = await receiver.handle({
      headers: { ...signed, "idempotency-key": "rewritten" },
      body,
    });
    expect(parse(replay.body)).toEqual({ status: "duplicate", id: "msg_7" });
    expect(seen.map((webhook) => webhook.dedupeKey)).toEqual(["standard:id:msg_7"]);
  });

  it("an id over 200 characters is keyed by its SHA-256", async () => {
    const long = "k".repeat(201);
    const { receiver, seen } = setup({
      scheme: openScheme(),
      idempotencyHeader: "Idempotency-Key",
    });
    await receiver.handle({ headers: { "idempotency-key": long }, body: "x" });
    await receiver.handle({ headers: { "idempotency-key": "k".repeat(200) }, body: "x" });
    expect(seen.map((webhook) => [webhook.id, webhook.dedupeKey])).toEqual([
      [long, `open:header:${sha256(long)}`],
      ["k".repeat(200), `open:header:${"k".repeat(200)}`],
    ]);
  });

  it("the idempotency header when the scheme has no id (any letter case)", async () => {
    const { receiver, seen } = setup({
      scheme: openScheme(),
      idempotencyHeader: "Idempotency-Key",
    });
    await receiver.handle({ headers: { "Idempotency-Key": "key-1" }, body: "one" });
    const dup = await receiver.handle({ headers: { "idempotency-key": "key-1" }, body: "two" });
    expect(parse(dup.body)).toEqual({ status: "duplicate", id: "key-1" });
    expect(seen[0]?.dedupeKey).toBe("open:header:key-1");
  });

  it("the body's sha256 when there is neither", async () => {
    const { receiver, seen } = setup({
      scheme: openScheme(),
      idempotencyHeader: "Idempotency-Key",
    });
    await receiver.handle({ headers: {}, body: "same" });
    const dup = await receiver.handle({ headers: {}, body: "same" });
    await receiver.handle({ headers: {}, body: "different" });
    expect(parse(dup.body)).toEqual({ status: "duplicate", id: sha256("same") });
    expect(seen.map((webhook) => webhook.id)).toEqual([sha256("same"), sha256("different")]);
    expect(seen[0]?.dedupeKey).toBe(`open:${sha256("same")}`);
  });

  it("built-in schemes give their provider's id: Stripe's event id, X-GitHub-Delivery", async () => {
    const stripeBody = '{"id":"evt_123","type":"charge.succeeded"}';
    const stripe = setup({ scheme: "stripe", secrets: ["whsec_test"] });
    const stripeHeaders = signWebhook({
      scheme: "stripe",
      secret: "whsec_test",
      body: stripeBody,
      timestamp: T,
    });
    await stripe.receiver.handle({ headers: stripeHeaders, body: stripeBody });
    expect(stripe.seen[0]?.dedupeKey).toBe("stripe:id:evt_123");

    const github = setup({ scheme: "github", secrets: ["gh-secret"] });
    const githubHeaders = {
      ...signWebhook({ scheme: "github", secret: "gh-secret", body: "{}" }),
      "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    };
    await github.receiver.handle({ headers: githubHeaders, body: "{}" });
    expect(github.seen[0]?.id).toBe("72d3162e-cc78-11e3-81ab-4c9367dc0958");
  });

  it("keys are namespaced by scheme, so a shared store keeps sources apart", async () => {
    const shared = createMemoryDedupeStore();
    const seen: string[] = [];
    const handler = (webhook: WebhookContext) => void seen.push(webhook.dedupeKey);
    const a = createReceiver({
      scheme: openScheme({ verified: "1" }),
      secrets: ["s"],
      dedupe: shared,
      handler,
    });
    const b = createReceiver({
      scheme: openScheme({ verified: "1" }),
      secrets: ["s"],
      dedupe: shared,
      dedupeNamespace: "other-source",
      handler,
    });
    expect(parse((await a.handle({ headers: {}, body: "x" })).body)).toMatchObject({
      status: "processed",
    });
    expect(parse((await b.handle({ headers: {}, body: "x" })).body)).toMatchObject({
      status: "processed",
    });
    expect(seen).toEqual(["open:id:1", "other-source:id:1"]);
  });
});

describe("receiver: dedupe lifetimes", () => {
  it("remembers a processed delivery for dedupeTtlSeconds", async () => {
    const { receiver, seen, clock } = setup({ dedupeTtlSeconds: 60, toleranceSeconds: 1e6 });
    const headers = signedHeaders("{}", { timestamp: T });
    await receiver.handle({ headers, body: "{}" });
    clock.advance(59_999);
    expect(parse((await receiver.handle({ headers, body: "{}" })).body)).toMatchObject({
      status: "duplicate",
    });
    clock.advance(1);
    expect(parse((await receiver.handle({ headers, body: "{}" })).body)).toMatchObject({
      status: "processed",
    });
    expect(seen).toHaveLength(2);
  });

  it("a delivery still processing is a duplicate until processingTimeoutSeconds lapse", async () => {
    let finish: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let calls = 0;
    const { receiver, clock, onError } = setup({
      processingTimeoutSeconds: 10,
      handler: async () => {
        if (++calls === 1) await gate;
      },
    });
    const headers = signedHeaders("{}", { timestamp: T });
    const slow = receiver.handle({ headers, body: "{}" });
    await vi.waitFor(() => expect(calls).toBe(1));
    expect(parse((await receiver.handle({ headers, body: "{}" })).body)).toMatchObject({
      status: "duplicate",
    });
    clock.advance(10_000);
    expect(parse((await receiver.handle({ headers, body: "{}" })).body)).toMatchObject({
      status: "processed",
    });
    finish();
    expect((await slow).status).toBe(200);
    // The slow handler lost its lease; the lost claim is reported, not hidden.
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: "dedupe.lease_lost" }), {
      stage: "complete",
      id: "msg_1",
      dedupeKey: "standard:id:msg_1",
    });
  });
});

describe("receiver: a failing dedupe store", () => {
  it("claim fails → 503 store.unavailable and the handler never runs", async () => {
    const { receiver, store, seen, onError } = setup();
    store.failing.claim = new Error("ECONNREFUSED");
    const response = await receiver.handle({
      headers: signedHeaders("{}", { timestamp: T }),
      body: "{}",
    });
    expect(response.status).toBe(503);
    expect(parse(response.body)).toEqual({
      error: { code: "store.unavailable", message: expect.any(String) },
    });
    expect(seen).toHaveLength(0);
    expect(onError).toHaveBeenCalledWith(
      expect.objectContaining({ code: "store.unavailable" }),
      expect.objectContaining({ stage: "store" }),
    );
  });

  it("complete fails after the handler ran → the handler's answer stands, onError is told", async () => {
    const { receiver, store, onError } = setup();
    store.failing.complete = new Error("timeout");
    const response = await receiver.handle({
      headers: signedHeaders("{}", { timestamp: T }),
      body: "{}",
    });
    expect(response.status).toBe(200);
    expect(onError).toHaveBeenCalledWith(
      expect.anything(),
      expect.objectContaining({ stage: "complete" }),
    );
  });

  it("release fails after a handler failure → still 500 handler.failed", async () => {
    const { receiver, store, onError } = setup({
      handler: () => {
        throw new Error("nope");
      },
    });
    store.failing.release = new Error("timeout");
    const response = await receiver.handle({
      headers: signedHeaders("{}", { timestamp: T }),
      body: "{}",
    });
    expect(parse(response.body)).toMatchObject({ error: { code: "handler.failed" } });
    expect(onError).toHaveBeenCalledWith(
      expect.anything(),
      expect.objectContaining({ stage: "release" }),
    );
  });
});

describe("whileProcessing", () => {
  it('"retry" answers 409 with Retry-After while the first copy runs, then duplicate once done', async () => {
    let finish: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const { receiver } = setup({ whileProcessing: "retry", handler: () => gate });
    const body = '{"n":1}';
    const request = { headers: signedHeaders(body, { timestamp: T }), body };
    const first = receiver.handle(request);
    const copy = await receiver.handle(request);
    expect(copy.status).toBe(409);
    expect(parse(copy.body)).toMatchObject({ error: { code: "delivery.in_progress" } });
    expect(Number(copy.headers["retry-after"])).toBe(30);
    finish();
    expect((await first).status).toBe(200);
    const later = await receiver.handle(request);
    expect(later.status).toBe(200);
    expect(parse(later.body)).toMatchObject({ status: "duplicate" });
  });

  it('"retry" lets the sender\'s next copy run the handler when the first attempt failed', async () => {
    let calls = 0;
    let fail: (error: Error) => void = () => {};
    const gate = new Promise<void>((_resolve, reject) => {
      fail = reject;
    });
    const { receiver } = setup({
      whileProcessing: "retry",
      handler: () => {
        calls += 1;
        return calls === 1 ? gate : undefined;
      },
    });
    const body = '{"n":2}';
    const request = { headers: signedHeaders(body, { timestamp: T }), body };
    const first = receiver.handle(request);
    expect((await receiver.handle(request)).status).toBe(409);
    fail(new Error("downstream down"));
    expect((await first).status).toBe(500);
    const retry = await receiver.handle(request);
    expect(retry.status).toBe(200);
    expect(parse(retry.body)).toMatchObject({ status: "processed" });
    expect(calls).toBe(2);
  });

  it("refuses an unknown whileProcessing value", () => {
    expect(() =>
      setup({ whileProcessing: "wait" as unknown as ReceiverOptions["whileProcessing"] }),
    ).toThrowError(/whileProcessing/);
  });
});
