// The NATS transport against a real JetStream: the PubAck is success, re-sends of a delivery are
// stored once, an unreachable server is a retry.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import type {
  DeliveryRecord,
  EndpointRecord,
  MessageRecord,
} from "../../packages/core/src/model/deliveryRecords.js";
import { createNatsPublisher } from "../../packages/nats/src/bus/nats/publisher.js";
import { createNatsTransport } from "../../packages/nats/src/delivery/transports/nats.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { createTestStream, type TestStream } from "../bus/natsTestStream.js";
import { testEndpoint } from "../helpers/deliveryRecords.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("nats");
const iso = (ms: number) => new Date(ms).toISOString();

const secret = generateSecret("standard");

function endpoint(overrides: Partial<EndpointRecord> = {}): EndpointRecord {
  return testEndpoint("unset", [{ secret, expiresAt: null, createdAt: iso(0) }], {
    id: "ep_nats",
    transport: "nats",
    headers: { "X-Team": "billing", "x-herald-event-type": "spoofed" },
    timeoutMs: 3000,
    createdAt: iso(0),
    updatedAt: iso(0),
    ...overrides,
  });
}

let counter = 0;
function message(): MessageRecord {
  counter += 1;
  return {
    id: `msg_nats_${Date.now()}_${counter}`,
    tenant: "acme",
    type: "order.created.v1",
    source: null,
    payload: { orderId: counter, note: "grüße" },
    idempotencyKey: null,
    inboundIdempotencyKey: null,
    createdAt: iso(0),
  };
}

function delivery(msg: MessageRecord, id = `dlv_${msg.id}`): DeliveryRecord {
  return {
    id,
    messageId: msg.id,
    endpointId: "ep_nats",
    status: "delivering",
    attempts: 0,
    maxAttempts: 9,
    nextAttemptAt: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    lastAttemptAt: null,
    lastError: null,
    lastStatusCode: null,
    createdAt: iso(0),
    updatedAt: iso(0),
  };
}

describe.skipIf(!available)("NATS transport (JetStream)", () => {
  let t: TestStream;
  let transport: Transport;

  beforeAll(async () => {
    t = await createTestStream("natstransport");
    transport = createNatsTransport({
      nats: { servers: serviceUrl("nats"), stream: t.stream, subjects: t.subjects },
    });
  });

  afterAll(async () => {
    await transport?.close();
    await t?.delete();
  });

  it("publishes the payload to the endpoint's subject; the PubAck is success", async () => {
    const msg = message();
    const dlv = delivery(msg);
    const subject = `${t.prefix}.orders`;
    const result = await transport.send({
      delivery: dlv,
      message: msg,
      endpoint: endpoint({ target: subject }),
      attemptNumber: 1,
    });
    expect(result.classification).toEqual({ outcome: "success" });
    expect(result.attempt).toMatchObject({ succeeded: true, statusCode: null, error: null });
    const ack = JSON.parse(result.attempt.responseBody ?? "null") as {
      stream: string;
      subject: string;
      sequence: number;
      duplicate: boolean;
    };
    expect(ack).toMatchObject({ stream: t.stream, subject, duplicate: false });

    const stored = await t.jsm.streams.getMessage(t.stream, { seq: ack.sequence });
    expect(stored?.subject).toBe(subject);
    expect(stored?.header.get("Nats-Msg-Id")).toBe(dlv.id);
    expect(stored?.header.get("x-herald-message-id")).toBe(msg.id);
    expect(stored?.header.get("x-herald-delivery-id")).toBe(dlv.id);
    expect(stored?.header.get("x-herald-event-type")).toBe("order.created.v1"); // not the spoof
    expect(stored?.header.get("x-herald-tenant")).toBe("acme");
    expect(stored?.header.get("x-team")).toBe("billing");
    expect(stored?.header.get("content-type")).toBe("application/json");
    expect(stored?.json()).toEqual(msg.payload);
    // Signed like a webhook: a consumer verifies the stored message with the endpoint's secret.
    const headers: Record<string, string> = {};
    for (const [name, values] of stored?.header ?? []) headers[name.toLowerCase()] = values.join();
    expect(headers["webhook-id"]).toBe(msg.id);
    expect(
      verifyWebhook({
        scheme: "standard",
        secrets: secret,
        headers,
        body: stored?.data ?? new Uint8Array(),
      }),
    ).toMatchObject({ ok: true, id: msg.id });
  });

  it("an endpoint without an active secret is a `signing:` failure, nothing published", async () => {
    const msg = message();
    const subject = `${t.prefix}.unsigned`;
    const before = await t.count();
    const result = await transport.send({
      delivery: delivery(msg),
      message: msg,
      endpoint: endpoint({ target: subject, secrets: [] }),
      attemptNumber: 1,
    });
    expect(result.attempt.succeeded).toBe(false);
    expect(result.attempt.error).toMatch(/^signing: secret\.missing /);
    expect(await t.count()).toBe(before);
  });

  it("re-sending a delivery stores it once; another endpoint's delivery of the message is its own", async () => {
    const msg = message();
    const dlv = delivery(msg);
    const ep = endpoint({ target: `${t.prefix}.dedupe` });
    const before = await t.count();
    const first = await transport.send({
      delivery: dlv,
      message: msg,
      endpoint: ep,
      attemptNumber: 1,
    });
    const again = await transport.send({
      delivery: dlv,
      message: msg,
      endpoint: ep,
      attemptNumber: 2,
    });
    expect(first.classification.outcome).toBe("success");
    expect(again.classification.outcome).toBe("success");
    expect(JSON.parse(again.attempt.responseBody ?? "{}")).toMatchObject({ duplicate: true });
    expect(await t.count()).toBe(before + 1);

    const other = await transport.send({
      delivery: delivery(msg, `dlv_other_${msg.id}`),
      message: msg,
      endpoint: endpoint({ id: "ep_other", target: `${t.prefix}.other` }),
      attemptNumber: 1,
    });
    expect(JSON.parse(other.attempt.responseBody ?? "{}")).toMatchObject({ duplicate: false });
    expect(await t.count()).toBe(before + 2);
  });

  it("a borrowed publisher is used and left open by close()", async () => {
    const publisher = await createNatsPublisher({
      connection: t.connection,
      stream: t.stream,
      subjects: t.subjects,
    });
    const borrowing = createNatsTransport({ publisher });
    const msg = message();
    const result = await borrowing.send({
      delivery: delivery(msg),
      message: msg,
      endpoint: endpoint({ target: `${t.prefix}.borrowed` }),
      attemptNumber: 1,
    });
    expect(result.classification.outcome).toBe("success");
    await borrowing.close();
    expect(t.connection.isClosed()).toBe(false);
    await publisher.close();
  });

  it("a subject no stream captures is a retry with a `nats:` error", async () => {
    const msg = message();
    const result = await transport.send({
      delivery: delivery(msg),
      message: msg,
      endpoint: endpoint({ target: `uncaptured${Date.now()}.x`, timeoutMs: 3000 }),
      attemptNumber: 1,
    });
    expect(result.classification).toMatchObject({ outcome: "retry" });
    expect(result.attempt.error).toMatch(/^(nats|timeout): /);
  });
});

describe.skipIf(!available)("NATS transport, server unreachable", () => {
  it("is a retry with a `nats:` or `timeout:` error, within the endpoint's timeout", async () => {
    const transport = createNatsTransport({
      nats: { servers: "nats://127.0.0.1:4299", stream: "HERALD_T_UNREACHABLE" },
    });
    const msg = message();
    const started = Date.now();
    const result = await transport.send({
      delivery: delivery(msg),
      message: msg,
      endpoint: endpoint({ target: "herald.unreachable", timeoutMs: 1500 }),
      attemptNumber: 1,
    });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(result.classification).toMatchObject({ outcome: "retry" });
    expect(result.attempt.succeeded).toBe(false);
    expect(result.attempt.error).toMatch(/^(nats|timeout): /);
    await transport.close();
  });
});
