// The RabbitMQ transport against a real broker: what a consumer receives (properties, headers,
// exact body) verifies like a webhook, retries keep the message id, an unroutable message or a
// missing exchange is a retry that leaves the shared channel working, the SSRF guard refuses
// before connecting, a broken connection is reopened (with backoff after failed connects), and
// no password reaches an attempt record.
import { randomUUID } from "node:crypto";
import type { ConsumeMessage } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import { createRabbitMqTransport } from "../../packages/rabbitmq/src/delivery/transports/rabbitmq.js";
import { verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { freePort } from "../helpers/freePort.js";
import { serviceAvailable } from "../helpers/services.js";
import {
  expectReconnectAndBackOff,
  expectSsrfRefusal,
  expectTlsServerName,
  queueTransportRecords,
} from "./queueTransportChecks.js";
import { createRabbitMqTestBroker, type RabbitMqTestBroker } from "./rabbitmqTestBroker.js";
import { waitUntil } from "./workerProcesses.js";

const available = await serviceAvailable("rabbitmq");
const { secret, endpoint, message, delivery, ...records } = queueTransportRecords("rabbitmq");

// Skipped only when RabbitMQ is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
describe.skipIf(!available)("RabbitMQ transport", () => {
  let broker: RabbitMqTestBroker;
  let transport: Transport;

  beforeAll(async () => {
    broker = await createRabbitMqTestBroker("transport");
    transport = createRabbitMqTransport({ ssrfAllow: ["127.0.0.0/8"] });
  });

  afterAll(async () => {
    await transport?.close();
    await broker?.dispose();
  });

  const send = (target: string, msg = message(), attempts = 0, t = transport) =>
    records.send(t, target, msg, attempts);

  /** The next message a consumer of the test queue gets (acked), as the broker delivers it. */
  async function consumeOne(): Promise<ConsumeMessage> {
    return new Promise((resolve, reject) => {
      let done = false;
      broker.channel
        .consume(broker.queue, (got) => {
          if (got === null) return;
          // Anything past the first goes back to the queue for the other tests' basic.get.
          if (done) return broker.channel.nack(got, false, true);
          done = true;
          broker.channel.ack(got);
          void broker.channel.cancel(got.fields.consumerTag).then(() => resolve(got), reject);
        })
        .catch(reject);
    });
  }

  it("a consumer gets the exact signed body, the signed headers as AMQP headers and the message id; it verifies like a webhook", async () => {
    const msg = message();
    const result = await send(broker.target(), msg);
    expect(result.attempt.error).toBeNull();
    expect(result.classification).toEqual({ outcome: "success" });
    expect(JSON.parse(result.attempt.responseBody ?? "null")).toEqual({
      exchange: broker.exchange,
      routing_key: broker.routingKey,
      confirmed: true,
    });
    const got = await consumeOne();
    expect(got.content.toString("utf8")).toBe(JSON.stringify(msg.payload));
    expect(got.properties.messageId).toBe(msg.id);
    expect(got.properties.contentType).toBe("application/json");
    expect(got.properties.deliveryMode).toBe(2);
    expect(got.properties.type).toBe(msg.type);
    const headers = got.properties.headers as Record<string, unknown>;
    expect(headers).toMatchObject({
      "x-team": "billing",
      "x-herald-message-id": msg.id,
      "x-herald-delivery-id": delivery(msg).id,
      // Herald's own header wins over the endpoint's attempt to set it.
      "x-herald-event-type": msg.type,
      "webhook-id": msg.id,
    });
    const verdict = verifyWebhook({
      scheme: "standard",
      secrets: secret,
      headers: headers as Record<string, string>,
      body: got.content,
    });
    expect(verdict).toMatchObject({ ok: true, id: msg.id });
    const tampered = verifyWebhook({
      scheme: "standard",
      secrets: secret,
      headers: headers as Record<string, string>,
      body: Buffer.from(got.content.toString("utf8").replace("7", "8")),
    });
    expect(tampered.ok).toBe(false);
  });

  it("the consumer of docs/queues.md handles a signed message once and dead-letters a forged one", async () => {
    const { channel, queue } = broker;
    await broker.received(); // empty the queue
    const msg = message();
    expect((await send(broker.target(), msg)).attempt.succeeded).toBe(true);
    channel.publish(broker.exchange, broker.routingKey, Buffer.from('{"orderId":1}'), {
      messageId: "msg_forged",
      headers: {
        "webhook-id": "msg_forged",
        "webhook-timestamp": "1",
        "webhook-signature": "v1,AAAA",
      },
    });
    const handled: string[] = [];
    const handle = (_payload: unknown, id: string) => void handled.push(id);
    const refused: string[] = [];
    const nack = channel.nack.bind(channel);
    channel.nack = (m, allUpTo, requeue) => {
      refused.push(String(m.properties.messageId));
      nack(m, allUpTo, requeue);
    };
    // #region rabbitmq-consumer
    const { consumerTag } = await channel.consume(queue, (msg) => {
      if (msg === null) return;
      // The signed headers are AMQP headers; the signature covers the content bytes as sent.
      const verdict = verifyWebhook({
        scheme: "standard",
        secrets: [secret],
        headers: msg.properties.headers as Record<string, string>,
        body: msg.content,
      });
      if (!verdict.ok) return channel.nack(msg, false, false); // forged or stale: dead-letter it
      // At least once: a retry carries the same message id, so handle idempotently by it.
      handle(JSON.parse(msg.content.toString("utf8")), msg.properties.messageId);
      channel.ack(msg);
    });
    // #endregion rabbitmq-consumer
    try {
      await waitUntil(() => handled.length + refused.length >= 2, {
        timeoutMs: 5000,
        intervalMs: 10,
        what: "the consumer taking both messages",
      });
    } finally {
      await channel.cancel(consumerTag);
      channel.nack = nack;
    }
    expect(handled).toEqual([msg.id]);
    expect(refused).toEqual(["msg_forged"]);
  });

  it("every retry of a delivery carries the same AMQP message-id and webhook-id", async () => {
    const msg = message();
    await broker.received();
    const before = (await broker.received()).length;
    for (const attempts of [0, 1, 2]) {
      const result = await send(broker.target(), msg, attempts);
      expect(result.attempt.succeeded).toBe(true);
    }
    const fresh = (await broker.received()).slice(before);
    expect(fresh.map((seen) => seen.id)).toEqual([msg.id, msg.id, msg.id]);
    expect(fresh.map((seen) => seen.headers["webhook-id"])).toEqual([msg.id, msg.id, msg.id]);
  });

  it("an unroutable message (no queue bound to the key) is a retry, and nothing is queued", async () => {
    const before = (await broker.received()).length;
    const result = await send(broker.target("nobody-listens"));
    expect(result.attempt.succeeded).toBe(false);
    expect(result.attempt.error).toMatch(
      /^rabbitmq: unroutable: exchange "herald\.test\..*" routed routing key "nobody-listens" to no queue \(312 NO_ROUTE\)$/,
    );
    expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect((await broker.received()).length).toBe(before);
  });

  it("a missing exchange is a retry naming it, and publishes in flight on the shared connection still succeed", async () => {
    const missing = `herald.test.missing.${randomUUID().slice(0, 8)}`;
    const target = `${broker.base}/?exchange=${missing}&routing_key=k`;
    const [bad, good] = await Promise.all([send(target), send(broker.target())]);
    expect(bad.attempt.error).toMatch(
      new RegExp(`^rabbitmq: exchange "${missing.replaceAll(".", "\\.")}": .*NOT_FOUND`),
    );
    expect(bad.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect(good.attempt.succeeded).toBe(true);
    const after = await send(broker.target());
    expect(after.attempt.succeeded).toBe(true);
  });

  it("the default exchange routes to the queue named by routing_key", async () => {
    const msg = message();
    const before = (await broker.received()).length;
    const result = await send(
      `${broker.base}?routing_key=${encodeURIComponent(broker.queue)}`,
      msg,
    );
    expect(result.attempt.error).toBeNull();
    const fresh = (await broker.received()).slice(before);
    expect(fresh.map((seen) => seen.id)).toEqual([msg.id]);
  });

  it("without the allowlist a loopback broker is refused (`ssrf.blocked:`) before any connection", async () => {
    const proxy = await broker.proxy();
    const guarded = createRabbitMqTransport();
    try {
      const target = broker.target(broker.routingKey, broker.via(proxy));
      await expectSsrfRefusal(proxy, () => send(target, message(), 0, guarded));
    } finally {
      await guarded.close();
    }
  });

  it("a wrong password or an unreachable broker fails the attempt without the password in it", async () => {
    const password = "wrong-pass-Zq81x";
    const url = new URL(broker.base);
    const refused = await send(
      `amqp://${url.username}:${password}@${url.host}/?exchange=${broker.exchange}&routing_key=k`,
    );
    expect(refused.attempt.error).toMatch(/^rabbitmq: .*ACCESS.REFUSED/);
    // Nothing listens on a port that was free a moment ago.
    const down = await send(
      `amqp://guest:${password}@127.0.0.1:${await freePort()}/?routing_key=q`,
    );
    expect(down.attempt.error).toMatch(/^network: .*ECONNREFUSED/);
    // Sends that wait on the same failing connect report it the same way.
    const port = await freePort();
    const together = await Promise.all(
      [1, 2, 3].map(() => send(`amqp://guest:${password}@127.0.0.1:${port}/?routing_key=q`)),
    );
    for (const result of together) expect(result.attempt.error).toMatch(/^network: .*ECONNREFUSED/);
    for (const result of [refused, down]) {
      expect(result.attempt.succeeded).toBe(false);
      expect(result.classification.outcome).toBe("retry");
      expect(JSON.stringify(result)).not.toContain(password);
    }
  });

  it("amqps:// connects to the guarded address and asks TLS for the target's host name", async () => {
    await expectTlsServerName((port) => send(`amqps://localhost:${port}/?routing_key=q`));
  });

  it("a connection cut between sends is reopened by the next send; failed connects back off", async () => {
    const proxy = await broker.proxy();
    const target = broker.target(broker.routingKey, broker.via(proxy));
    await expectReconnectAndBackOff(proxy, () => send(target));
  });
});
