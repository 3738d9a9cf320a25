// The SQS transport against moto's SQS: deliveries through the worker arrive with the exact
// signed body and the signed headers as message attributes, and verify like a webhook; a FIFO
// queue deduplicates a replay by the message id and orders by the endpoint's (or the target's)
// group; a target on another origin is refused and never contacted; an oversize message is
// dead-lettered at once; a missing queue is retried and delivered once the queue exists.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import { createSqsTransport } from "../../packages/aws/src/delivery/transports/sqs.js";
import { createDeliveryWorker } from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";

const available = motoAvailable("SQS transport tests");

// Skips only when moto_server is not installed; under CI=true motoAvailable throws instead.
describe.skipIf(!available)("SQS transport on moto", () => {
  let moto: MotoServer;
  let sqs: SQSClient;
  let transport: Transport;
  let standardUrl: string;
  let fifoUrl: string;
  const secret = generateSecret("standard");
  const secrets = [{ secret, expiresAt: null, createdAt: new Date(0).toISOString() }];

  beforeAll(async () => {
    moto = await startMoto();
    sqs = new SQSClient({ ...awsClientConfig(moto.aws), useQueueUrlAsEndpoint: false });
    transport = createSqsTransport({ aws: moto.aws });
    standardUrl = await createQueue("orders");
    fifoUrl = await createQueue("orders.fifo", { FifoQueue: "true" });
  }, 60_000);

  afterAll(async () => {
    await transport?.close();
    sqs?.destroy();
    await moto?.stop();
  });

  async function createQueue(name: string, Attributes?: Record<string, string>): Promise<string> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }));
    if (QueueUrl === undefined) throw new Error("no queue URL");
    return QueueUrl;
  }

  /** Everything waiting in the queue (deleted from view by its visibility timeout). */
  async function receiveAll(queueUrl: string): Promise<Message[]> {
    const all: Message[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["MessageGroupId", "MessageDeduplicationId"],
          VisibilityTimeout: 600,
        }),
      );
      if (Messages.length === 0) return all;
      all.push(...Messages);
    }
  }

  /** The attributes of a received message as the headers verifyWebhook takes. */
  function headersOf(message: Message): Record<string, string> {
    return Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        value.StringValue ?? "",
      ]),
    );
  }

  function records(target: string, payload: unknown = { orderId: 7, note: "grüße" }) {
    const message = { ...testMessage(payload), id: `msg_${randomUUID().replaceAll("-", "")}` };
    const delivery = { ...testDelivery(`dlv_${message.id.slice(4)}`), messageId: message.id };
    const endpoint = testEndpoint(target, secrets, { id: "ep_orders", timeoutMs: 10_000 });
    return { message, delivery, endpoint, attemptNumber: 1 };
  }

  it("a delivery through the worker arrives with the exact signed body and verifies like a webhook from its attributes", async () => {
    const store = createMemoryDeliveryStore();
    await store.createEndpoint({
      transport: "sqs",
      target: standardUrl,
      eventTypes: ["order.*"],
      secrets: [{ secret }],
      headers: { "X-Team": "billing" },
    });
    await createDispatcher({ store }).dispatch({
      type: "order.created.v1",
      payload: { id: "o_1", total: 12.5, note: "grüße" },
    });
    await createDeliveryWorker({ store, transports: { sqs: transport } }).runOnce();
    const [delivery] = (await store.listDeliveries()).data;
    expect(delivery?.status).toBe("delivered");
    const [got, ...more] = await receiveAll(standardUrl);
    expect(more).toEqual([]);
    expect(got?.Body).toBe(JSON.stringify({ id: "o_1", total: 12.5, note: "grüße" }));
    const headers = headersOf(got as Message);
    expect(headers).toMatchObject({
      "webhook-id": delivery?.messageId,
      "x-herald-message-id": delivery?.messageId,
      "x-herald-delivery-id": delivery?.id,
      "x-herald-event-type": "order.created.v1",
      "content-type": "application/json",
      "x-team": "billing",
    });
    for (const value of Object.values(got?.MessageAttributes ?? {})) {
      expect(value.DataType).toBe("String");
    }
    const verdict = verifyWebhook({
      scheme: "standard",
      secrets: [secret],
      headers,
      body: got?.Body ?? "",
    });
    expect(verdict).toMatchObject({ ok: true, id: delivery?.messageId });
    const forged = verifyWebhook({
      scheme: "standard",
      secrets: [secret],
      headers,
      body: (got?.Body ?? "").replace("12.5", "1250"),
    });
    expect(forged.ok).toBe(false);
    // The attempt records the MessageId SQS gave.
    const attempts = (await store.getDelivery(delivery?.id ?? ""))?.attempts ?? [];
    expect(attempts).toHaveLength(1);
    expect(JSON.parse(attempts[0]?.responseBody ?? "null")).toEqual({
      queue: "orders",
      message_id: got?.MessageId,
    });
  });

  it("over 10 headers: the signature ones are kept first, the rest are listed as dropped", async () => {
    const input = records(standardUrl);
    const extras = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [`x-extra-${i}`, `v${i}`]),
    );
    const result = await transport.send({
      ...input,
      endpoint: { ...input.endpoint, headers: { ...extras, "aws.trace": "refused name" } },
    });
    expect(result.attempt.error).toBeNull();
    const [got] = await receiveAll(standardUrl);
    const headers = headersOf(got as Message);
    expect(Object.keys(headers).sort()).toEqual(
      [
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "x-herald-message-id",
        "x-herald-delivery-id",
        "x-herald-event-type",
        "x-herald-tenant",
        "x-extra-0",
        "x-extra-1",
      ].sort(),
    );
    expect(JSON.parse(result.attempt.responseBody ?? "null").dropped_headers).toEqual([
      "x-extra-2",
      "x-extra-3",
      "x-extra-4",
      "x-extra-5",
      "aws.trace",
    ]);
    expect(
      verifyWebhook({ scheme: "standard", secrets: [secret], headers, body: got?.Body ?? "" }).ok,
    ).toBe(true);
  });

  it("FIFO: the endpoint id is the group, the message id deduplicates a replay, the SequenceNumber is recorded", async () => {
    const input = records(fifoUrl);
    const first = await transport.send(input);
    expect(first.attempt.error).toBeNull();
    const recorded = JSON.parse(first.attempt.responseBody ?? "null");
    expect(recorded).toMatchObject({ queue: "orders.fifo" });
    expect(recorded.sequence_number).toMatch(/^\d+$/);
    // A replay: the same message again, as a new delivery would send it. SQS answers, but drops it.
    const replay = await transport.send({ ...input, delivery: { ...input.delivery, attempts: 0 } });
    expect(replay.classification).toEqual({ outcome: "success" });
    const got = await receiveAll(fifoUrl);
    expect(got).toHaveLength(1);
    expect(got[0]?.Attributes).toMatchObject({
      MessageGroupId: "ep_orders",
      MessageDeduplicationId: input.message.id,
    });
    expect(
      verifyWebhook({
        scheme: "standard",
        secrets: [secret],
        headers: headersOf(got[0] as Message),
        body: got[0]?.Body ?? "",
      }),
    ).toMatchObject({ ok: true, id: input.message.id });
  });

  it("FIFO: ?group_id= sets the MessageGroupId", async () => {
    const input = records(`${fifoUrl}?group_id=tenant-a`);
    expect((await transport.send(input)).attempt.error).toBeNull();
    const got = await receiveAll(fifoUrl);
    expect(got.map((m) => m.Attributes?.MessageGroupId)).toEqual(["tenant-a"]);
  });

  describe("a target on another origin than the endpoint override", () => {
    let other: Server;
    let hits = 0;

    beforeAll(async () => {
      other = createServer((_request, response) => {
        hits += 1;
        response.end("{}");
      });
      await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    });

    afterAll(async () => {
      await new Promise((resolve) => other.close(resolve));
    });

    it("is refused as request.invalid and nothing is sent to it", async () => {
      const { port } = other.address() as { port: number };
      for (const target of [
        `http://127.0.0.1:${port}/123456789012/orders`,
        "https://sqs.us-east-1.amazonaws.com/123456789012/orders",
        "http://169.254.169.254/123456789012/orders",
      ]) {
        const result = await transport.send(records(target));
        expect(result.attempt.succeeded).toBe(false);
        expect(result.attempt.error).toMatch(/^request\.invalid: url: /);
        expect(result.attempt.error).not.toContain(target);
        expect(result.classification.outcome).toBe("retry");
      }
      expect(hits).toBe(0);
      expect(await receiveAll(standardUrl)).toEqual([]);
    });
  });

  it("an oversize message is dead-lettered by the worker after one attempt, never sent", async () => {
    const store = createMemoryDeliveryStore();
    await store.createEndpoint({
      transport: "sqs",
      target: standardUrl,
      eventTypes: ["*"],
      secrets: [{ secret }],
    });
    await createDispatcher({ store }).dispatch({
      type: "report.ready.v1",
      payload: { blob: "x".repeat(262_144) },
    });
    await createDeliveryWorker({ store, transports: { sqs: transport } }).runOnce();
    const [delivery] = (await store.listDeliveries()).data;
    expect(delivery?.status).toBe("dead_lettered");
    const attempts = (await store.getDelivery(delivery?.id ?? ""))?.attempts ?? [];
    expect(attempts).toHaveLength(1);
    expect(attempts[0]?.error).toMatch(/^sqs: message too large: \d+ bytes/);
    expect(await receiveAll(standardUrl)).toEqual([]);
  });

  it("a missing queue is a retry naming QueueDoesNotExist; once the queue exists the retry delivers", async () => {
    const name = `later-${randomUUID().slice(0, 8)}`;
    const target = standardUrl.replace(/orders$/, name);
    const input = records(target);
    const missing = await transport.send(input);
    expect(missing.attempt.succeeded).toBe(false);
    expect(missing.attempt.error).toMatch(/^sqs: .*(QueueDoesNotExist|NonExistentQueue)/);
    expect(missing.classification).toMatchObject({ outcome: "retry" });
    expect(await createQueue(name)).toBe(target);
    const retried = await transport.send({
      ...input,
      delivery: { ...input.delivery, attempts: 1 },
      attemptNumber: 2,
    });
    expect(retried.classification).toEqual({ outcome: "success" });
    const got = await receiveAll(target);
    expect(got.map((m) => headersOf(m)["webhook-id"])).toEqual([input.message.id]);
  });
});
