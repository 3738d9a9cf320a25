// The parts of the SQS and EventBridge transports that need no service: which signed headers
// become SQS attributes (the scheme's first, within SQS's 10 and naming rules), FIFO ids, the
// size SQS counts, how SDK errors become attempt errors and retry classes, the options' checks,
// and the refusals made before any call (a body SQS cannot carry, attributes pushing a message
// over the limit) against an endpoint nothing listens on, and the deadline of an AWS endpoint
// that never answers.
import { randomUUID } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { describeAwsError } from "../../packages/aws/src/delivery/transports/awsSendErrors.js";
import { resolveAwsTransportOptions } from "../../packages/aws/src/delivery/transports/awsTransportOptions.js";
import { createEventBridgeTransport } from "../../packages/aws/src/delivery/transports/eventbridge.js";
import { createSqsTransport } from "../../packages/aws/src/delivery/transports/sqs.js";
import {
  fifoId,
  MAX_SQS_MESSAGE_BYTES,
  sendMessageInput,
  sqsAttributes,
  sqsMessageSize,
  validSqsText,
} from "../../packages/aws/src/delivery/transports/sqsMessage.js";
import { parseSqsTarget } from "../../packages/aws/src/delivery/transports/sqsTarget.js";
import { signedMessage } from "../../packages/core/src/delivery/transports/signedMessage.js";
import type { TransportSendInput } from "../../packages/core/src/delivery/transports/types.js";
import type { EndpointRecord } from "../../packages/core/src/model/deliveryRecords.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";

const QUEUE = "http://127.0.0.1:1/123456789012/orders";

function input(
  overrides: Partial<EndpointRecord> = {},
  payload: unknown = { orderId: 7 },
): TransportSendInput {
  const secret = generateSecret(overrides.scheme === "stripe" ? "stripe" : "standard");
  const message = { ...testMessage(payload), id: `msg_${randomUUID().replaceAll("-", "")}` };
  return {
    message,
    delivery: { ...testDelivery("dlv_1"), messageId: message.id },
    endpoint: testEndpoint(
      QUEUE,
      [{ secret, expiresAt: null, createdAt: new Date(0).toISOString() }],
      overrides,
    ),
    attemptNumber: 1,
  };
}

describe("sqsAttributes", () => {
  it("keeps the scheme's headers first even when an extra tries to replace one, then Herald's, then extras", () => {
    const sent = input({
      headers: {
        "webhook-signature": "v1,forged",
        ...Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`X-Extra-${i}`, `v${i}`])),
      },
    });
    const { headers } = signedMessage(sent, Date.now());
    const { attributes, dropped } = sqsAttributes(sent, headers);
    expect(Object.keys(attributes)).toEqual([
      "webhook-signature",
      "webhook-id",
      "webhook-timestamp",
      "content-type",
      "x-herald-message-id",
      "x-herald-delivery-id",
      "x-herald-event-type",
      "x-herald-tenant",
      "x-extra-0",
      "x-extra-1",
    ]);
    expect(attributes["webhook-signature"]?.StringValue).not.toBe("v1,forged");
    expect(dropped).toEqual(["x-extra-2", "x-extra-3", "x-extra-4"]);
  });

  it("finds another scheme's header (stripe-signature) and leaves out names and values SQS refuses", () => {
    const sent = input({
      scheme: "stripe",
      headers: {
        "Amazon.trace": "x",
        "x..double": "x",
        "x-empty": "",
        "x-bad$name": "x",
        "x-bad-value": "a\uFFFFb",
        "x-fine": "ok",
      },
    });
    const { attributes, dropped } = sqsAttributes(sent, signedMessage(sent, Date.now()).headers);
    expect(Object.keys(attributes)[0]).toBe("stripe-signature");
    expect(attributes["x-fine"]).toEqual({ DataType: "String", StringValue: "ok" });
    expect(dropped.sort()).toEqual(
      ["amazon.trace", "x..double", "x-empty", "x-bad$name", "x-bad-value"].sort(),
    );
  });
});

describe("FIFO ids and sizes", () => {
  it("keeps a printable id up to 128 characters and hashes anything else to sha256 hex", () => {
    expect(fifoId("msg_01J")).toBe("msg_01J");
    expect(fifoId("a".repeat(128))).toBe("a".repeat(128));
    expect(fifoId("a".repeat(129))).toMatch(/^[0-9a-f]{64}$/);
    expect(fifoId("grüße")).toMatch(/^[0-9a-f]{64}$/);
    expect(fifoId("a b")).not.toBe(fifoId("a_b"));
  });

  it("sets the FIFO ids only for a FIFO queue: the message id, the group or the endpoint id", () => {
    const sent = input();
    const fifo = parseSqsTarget(`${QUEUE}.fifo?group_id=g1`, { endpoint: "http://127.0.0.1:1" });
    expect(sendMessageInput(sent, fifo, "{}", {})).toMatchObject({
      MessageDeduplicationId: sent.message.id,
      MessageGroupId: "g1",
    });
    const plain = parseSqsTarget(`${QUEUE}.fifo`, { endpoint: "http://127.0.0.1:1" });
    expect(sendMessageInput(sent, plain, "{}", {}).MessageGroupId).toBe(sent.endpoint.id);
    const standard = parseSqsTarget(QUEUE, { endpoint: "http://127.0.0.1:1" });
    const body = sendMessageInput(sent, standard, "{}", {});
    expect(body).not.toHaveProperty("MessageGroupId");
    expect(body).not.toHaveProperty("MessageDeduplicationId");
  });

  it("counts the body and every attribute's name, type and value in UTF-8", () => {
    expect(sqsMessageSize("grüße", { "x-a": { DataType: "String", StringValue: "é" } })).toBe(
      7 + 3 + 6 + 2,
    );
    expect(validSqsText('{"a":"\t\u00e9\uD83D\uDE00"}')).toBe(true);
    expect(validSqsText("\uFFFE")).toBe(false);
  });
});

describe("describeAwsError", () => {
  const fault = (name: string, $fault: "client" | "server", status: number) =>
    Object.assign(new Error(`${name} happened`), {
      name,
      $fault,
      $metadata: { httpStatusCode: status },
    });

  it("names AWS's error and classes throttling, 5xx and other answers", () => {
    expect(describeAwsError("sqs", fault("QueueDoesNotExist", "client", 400), 1000)).toEqual({
      error: "sqs: QueueDoesNotExist: QueueDoesNotExist happened",
      serviceError: "QueueDoesNotExist",
      reason: "http_error",
    });
    expect(describeAwsError("sqs", fault("RequestThrottled", "client", 403), 1000).reason).toBe(
      "rate_limited",
    );
    expect(describeAwsError("eventbridge", fault("Whatever", "client", 429), 1000).reason).toBe(
      "rate_limited",
    );
    expect(
      describeAwsError("eventbridge", fault("InternalException", "server", 500), 1000),
    ).toMatchObject({
      error: "eventbridge: InternalException: InternalException happened",
      reason: "unavailable",
    });
  });

  it("reports a network failure as network: and anything else under the service's name", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    expect(describeAwsError("sqs", new Error("send failed", { cause: refused }), 1000)).toEqual({
      error: "network: connect ECONNREFUSED 127.0.0.1:1",
      serviceError: undefined,
      reason: "network_error",
    });
    expect(describeAwsError("sqs", new Error("Region is missing"), 1000).error).toBe(
      "sqs: Region is missing",
    );
  });
});

describe("AWS transport options", () => {
  it("caps the endpoint's timeout and refuses a bad one or bad client options, naming the field only", () => {
    expect(resolveAwsTransportOptions({ timeoutMs: 500 }).deadlineMs(2000)).toBe(500);
    expect(resolveAwsTransportOptions({ timeoutMs: 5000 }).deadlineMs(2000)).toBe(2000);
    expect(resolveAwsTransportOptions().deadlineMs(2000)).toBe(2000);
    for (const timeoutMs of [0, -1, 1.5, Number.NaN]) {
      expect(() => resolveAwsTransportOptions({ timeoutMs })).toThrow(
        expect.objectContaining({ code: "config.invalid", details: { field: "timeoutMs" } }),
      );
    }
    let thrown: unknown;
    try {
      createSqsTransport({
        aws: { credentials: { accessKeyId: "", secretAccessKey: "s3cr3tkey" } },
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "config.invalid", details: { field: "credentials" } });
    expect(String((thrown as Error).message)).not.toContain("s3cr3tkey");
  });
});

describe("SQS refusals before any call", () => {
  // Nothing listens on port 1: a message that were sent would fail `network:` and be retried.
  const transport = createSqsTransport({
    aws: {
      endpoint: "http://127.0.0.1:1",
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    },
  });

  it("a body with characters SQS cannot carry is rejected at once", async () => {
    const result = await transport.send(input({}, { note: "\uFFFF" }));
    expect(result.classification).toEqual({ outcome: "reject", reason: "rejected" });
    expect(result.attempt.error).toMatch(/^sqs: the body holds characters/);
  });

  it("attributes that push the message over the limit reject it; just under the limit it is tried", async () => {
    const payload = { blob: "x".repeat(MAX_SQS_MESSAGE_BYTES - 2_000) };
    const tried = await transport.send(input({}, payload));
    expect(tried.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect(tried.attempt.error).toMatch(/^network: /);
    const heavy = await transport.send(input({ headers: { "x-big": "y".repeat(2_000) } }, payload));
    expect(heavy.classification).toEqual({ outcome: "reject", reason: "rejected" });
    expect(heavy.attempt.error).toMatch(/^sqs: message too large: \d+ bytes with its attributes/);
    await transport.close();
  });
});

describe("an AWS endpoint that never answers", () => {
  it("is a timeout: retry for SQS and EventBridge, and close() still resolves", async () => {
    const held: ServerResponse[] = [];
    const server = createServer((_request, response) => void held.push(response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const aws = {
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    };
    try {
      const sqs = createSqsTransport({ aws, timeoutMs: 300 });
      const sent = input();
      const queued = await sqs.send({
        ...sent,
        endpoint: { ...sent.endpoint, target: `http://127.0.0.1:${port}/123456789012/q` },
      });
      expect(queued.attempt.error).toBe("timeout: no answer from SQS within 300 ms");
      expect(queued.classification).toEqual({ outcome: "retry", reason: "timeout" });
      const events = createEventBridgeTransport({ aws, timeoutMs: 300 });
      const put = await events.send({
        ...sent,
        endpoint: { ...sent.endpoint, target: "eventbridge://default" },
      });
      expect(put.attempt.error).toBe("timeout: no answer from EventBridge within 300 ms");
      expect(put.classification).toEqual({ outcome: "retry", reason: "timeout" });
      expect(held.length).toBeGreaterThanOrEqual(2);
      await Promise.all([sqs.close(), events.close()]);
    } finally {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
