// The framework-agnostic receiver: what a sender sees for each outcome, and what the handler
// and the dedupe store see.
import { createHash } from "node:crypto";
import { createReceiver, signWebhook, type WebhookScheme } from "@heraldjs/webhooks";
import { describe, expect, it } from "vitest";
import {
  otherSecret,
  parse,
  secret,
  receiverSetup as setup,
  signedHeaders,
  T,
} from "./fixtures.js";

const body = '{"type":"order.created","n":1}';

const headers = (over: Record<string, string> = {}, options = {}) => ({
  ...signedHeaders(body, { timestamp: T, ...options }),
  ...over,
});

describe("receiver: verification failures", () => {
  const cases: [
    string,
    () => Parameters<ReturnType<typeof setup>["receiver"]["handle"]>[0],
    number,
    string,
  ][] = [
    [
      "missing signature",
      () => ({ headers: headers({ "webhook-signature": "" }), body }),
      401,
      "signature.missing",
    ],
    [
      "wrong secret",
      () => ({ headers: signedHeaders(body, { timestamp: T, key: otherSecret }), body }),
      401,
      "signature.invalid",
    ],
    [
      "tampered body",
      () => ({ headers: headers(), body: body.replace("1", "2") }),
      401,
      "signature.invalid",
    ],
    [
      "garbled signature",
      () => ({ headers: headers({ "webhook-signature": "v1,abc" }), body }),
      401,
      "signature.malformed",
    ],
    ["missing id", () => ({ headers: headers({ "webhook-id": "" }), body }), 401, "id.missing"],
    [
      "stale timestamp",
      () => ({ headers: headers({}, { timestamp: T - 301 }), body }),
      400,
      "timestamp.stale",
    ],
    [
      "future timestamp",
      () => ({ headers: headers({}, { timestamp: T + 301 }), body }),
      400,
      "timestamp.future",
    ],
    [
      "non-numeric timestamp",
      () => ({ headers: headers({ "webhook-timestamp": "soon" }), body }),
      400,
      "timestamp.invalid",
    ],
  ];

  for (const [name, request, status, code] of cases) {
    it(`${name} → ${status} ${code}, without touching the dedupe store or the handler`, async () => {
      const { receiver, store, seen } = setup();
      const response = await receiver.handle(request());
      expect(response.status).toBe(status);
      expect(response.headers["content-type"]).toMatch(/^application\/json/);
      expect(parse(response.body)).toEqual({ error: { code, message: expect.any(String) } });
      expect(store.calls.claim).toBe(0);
      expect(seen).toHaveLength(0);
    });
  }

  it("a custom scheme's unknown failure code fails closed as 401", async () => {
    const scheme: WebhookScheme = {
      name: "custom",
      timestamped: false,
      multipleSignatures: false,
      sign: () => ({}),
      verify: () => ({ ok: false, code: "signature.weird" as "signature.invalid", message: "no" }),
      deliveryId: () => undefined,
      generateSecret: () => "s",
    };
    const { receiver } = setup({ scheme });
    expect((await receiver.handle({ headers: {}, body })).status).toBe(401);
  });

  it("twilio's body.mismatch is 401", async () => {
    const hash = createHash("sha256").update(body).digest("hex");
    const url = `https://example.com/hooks?bodySHA256=${hash}`;
    const signed = signWebhook({ scheme: "twilio", secret: "token", body, url });
    const { receiver } = setup({ scheme: "twilio", secrets: ["token"] });
    expect((await receiver.handle({ headers: signed, body, url })).status).toBe(200);
    const response = await receiver.handle({ headers: signed, body: `${body} `, url });
    expect(response.status).toBe(401);
    expect(parse(response.body)).toMatchObject({ error: { code: "body.mismatch" } });
  });
});

describe("receiver: server misconfiguration → 500", () => {
  it.each([
    ["an invalid secret", { secrets: ["whsec_not base64!"] }, "secret.invalid"],
    ["no secret", { secrets: [] }, "secret.missing"],
    ["no url for twilio", { scheme: "twilio" as const, secrets: ["token"] }, "url.missing"],
  ])("%s → 500 %s, reported to onError", async (_name, options, code) => {
    const { receiver, onError, store } = setup(options);
    const response = await receiver.handle({ headers: headers(), body });
    expect(response.status).toBe(500);
    const parsed = parse(response.body) as { error: { code: string; message: string } };
    expect(parsed.error.code).toBe(code);
    expect(parsed.error.message).toMatch(/misconfiguration/i);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code }), { stage: "config" });
    expect(store.calls.claim).toBe(0);
  });

  it("a parsed body → 500 body.not_raw, with the raw-body hint for the operator", async () => {
    const { receiver, onError } = setup();
    const response = await receiver.handle({ headers: headers(), body: JSON.parse(body) });
    expect(response.status).toBe(500);
    expect(parse(response.body)).toMatchObject({ error: { code: "body.not_raw" } });
    expect(onError.mock.calls[0]?.[0].message).toMatch(/express\.raw/);
  });

  it("refuses unknown schemes and bad limits when created", () => {
    const handler = () => {};
    expect(() =>
      createReceiver({ scheme: "nope" as "standard", secrets: [secret], handler }),
    ).toThrow(expect.objectContaining({ code: "scheme.unknown" }));
    expect(() =>
      createReceiver({ scheme: "standard", secrets: [secret], handler, toleranceSeconds: -1 }),
    ).toThrow(expect.objectContaining({ code: "config.invalid" }));
    expect(() =>
      createReceiver({ scheme: "standard", secrets: [secret], handler, maxBodyBytes: 0 }),
    ).toThrow(expect.objectContaining({ code: "config.invalid" }));
  });
});

describe("receiver: bodies over maxBodyBytes", () => {
  it("→ 413 body.too_large before verification", async () => {
    const { receiver, store } = setup({ maxBodyBytes: 16 });
    const response = await receiver.handle({ headers: headers(), body });
    expect(response.status).toBe(413);
    expect(parse(response.body)).toMatchObject({ error: { code: "body.too_large" } });
    expect(store.calls.claim).toBe(0);
    expect(receiver.maxBodyBytes).toBe(16);
  });
});

describe("receiver: the handler", () => {
  it("gets the verified bytes, id, dedupe key, headers, timestamp and receive time", async () => {
    const { receiver, seen } = setup();
    const response = await receiver.handle({ headers: headers({ "X-Extra": "yes" }), body });
    expect(response.status).toBe(200);
    expect(parse(response.body)).toEqual({ status: "processed", id: "msg_1" });
    const webhook = seen[0]!;
    expect(webhook.id).toBe("msg_1");
    expect(webhook.dedupeKey).toBe("standard:id:msg_1");
    expect(Buffer.from(webhook.rawBody).toString()).toBe(body);
    expect(webhook.text()).toBe(body);
    expect(webhook.json()).toEqual({ type: "order.created", n: 1 });
    expect(webhook.headers("x-extra")).toBe("yes");
    expect(webhook.timestamp).toBe(T);
    expect(webhook.receivedAt).toEqual(new Date(T * 1000));
  });

  it("verifies against receivedAt (a queued request) and passes it on", async () => {
    const { receiver, seen, clock } = setup();
    clock.advance(3_600_000);
    const late = await receiver.handle({ headers: headers(), body });
    expect(late.status).toBe(400);
    const queued = await receiver.handle({ headers: headers(), body, receivedAt: T * 1000 + 5 });
    expect(queued.status).toBe(200);
    expect(seen[0]?.receivedAt).toEqual(new Date(T * 1000 + 5));
  });

  it("passes the handler's status, JSON body and headers through", async () => {
    const { receiver } = setup({
      handler: () => ({ status: 202, body: { queued: true }, headers: { "X-Queue": "q1" } }),
    });
    const response = await receiver.handle({ headers: headers(), body });
    expect(response).toEqual({
      status: 202,
      headers: { "content-type": "application/json; charset=utf-8", "x-queue": "q1" },
      body: '{"queued":true}',
    });
  });

  it("sends a string body as text, and a status alone with the default body", async () => {
    const text = setup({ handler: async () => ({ body: "thanks" }) });
    const response = await text.receiver.handle({ headers: headers(), body });
    expect(response.status).toBe(200);
    expect(response.body).toBe("thanks");
    expect(response.headers["content-type"]).toMatch(/^text\/plain/);
    const status = setup({ handler: () => ({ status: 204 }) });
    const accepted = await status.receiver.handle({ headers: headers(), body });
    expect(accepted.status).toBe(204);
  });

  it("a non-2xx handler answer is passed on and the next retry is processed", async () => {
    let calls = 0;
    const { receiver } = setup({
      handler: () => (++calls === 1 ? { status: 422, body: { retry: "please" } } : undefined),
    });
    const first = await receiver.handle({ headers: headers(), body });
    expect(first.status).toBe(422);
    expect(parse(first.body)).toEqual({ retry: "please" });
    const retry = await receiver.handle({ headers: headers(), body });
    expect(parse(retry.body)).toEqual({ status: "processed", id: "msg_1" });
    expect(calls).toBe(2);
  });

  it("a throwing handler → 500 handler.failed, onError, and the next retry is processed", async () => {
    let calls = 0;
    const failure = new Error("database down");
    const { receiver, onError } = setup({
      handler: async () => {
        if (++calls === 1) throw failure;
      },
    });
    const first = await receiver.handle({ headers: headers(), body });
    expect(first.status).toBe(500);
    expect(parse(first.body)).toEqual({
      error: { code: "handler.failed", message: expect.stringMatching(/retry/) },
    });
    expect(first.body).not.toContain("database down");
    expect(onError).toHaveBeenCalledWith(
      expect.objectContaining({ code: "handler.failed", cause: failure }),
      { stage: "handler", id: "msg_1", dedupeKey: "standard:id:msg_1" },
    );
    const retry = await receiver.handle({ headers: headers(), body });
    expect(retry.status).toBe(200);
    expect(parse(retry.body)).toEqual({ status: "processed", id: "msg_1" });
    const again = await receiver.handle({ headers: headers(), body });
    expect(parse(again.body)).toEqual({ status: "duplicate", id: "msg_1" });
    expect(calls).toBe(2);
  });

  it("a body that is not JSON → 400 body.invalid_json from webhook.json(), key released", async () => {
    const notJson = "not json";
    const { receiver, store } = setup({ handler: (webhook) => void webhook.json() });
    const response = await receiver.handle({
      headers: signedHeaders(notJson, { timestamp: T }),
      body: notJson,
    });
    expect(response.status).toBe(400);
    expect(parse(response.body)).toMatchObject({ error: { code: "body.invalid_json" } });
    expect(store.calls.release).toBe(1);
  });

  it("JSON nested deeper than 64 levels → 400 body.too_deep from webhook.json(), key released", async () => {
    const parsed: unknown[] = [];
    const { receiver, store } = setup({ handler: (webhook) => void parsed.push(webhook.json()) });
    const send = (levels: number) => {
      const deep = `{"x":${"[".repeat(levels - 1)}${"]".repeat(levels - 1)}}`;
      return receiver.handle({
        headers: signedHeaders(deep, { id: `msg_${levels}`, timestamp: T }),
        body: deep,
      });
    };
    expect((await send(64)).status).toBe(200);
    expect(parsed).toHaveLength(1);
    for (const levels of [65, 5000]) {
      const response = await send(levels);
      expect(response.status).toBe(400);
      expect(parse(response.body)).toMatchObject({
        error: { code: "body.too_deep", message: expect.stringContaining("deeper than 64 levels") },
      });
    }
    expect(parsed).toHaveLength(1);
    expect(store.calls.release).toBe(2);
  });

  it("an invalid status from the handler is a handler failure", async () => {
    const { receiver } = setup({ handler: () => ({ status: 42 }) });
    expect((await receiver.handle({ headers: headers(), body })).status).toBe(500);
  });

  it("an onError that throws does not change the answer", async () => {
    const { receiver } = setup({
      handler: () => {
        throw new Error("boom");
      },
      onError: () => {
        throw new Error("logger broke");
      },
    });
    expect((await receiver.handle({ headers: headers(), body })).status).toBe(500);
  });
});
