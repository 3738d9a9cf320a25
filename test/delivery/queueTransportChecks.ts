// What the RabbitMQ and Redis Streams transport tests share: signed test records for one
// endpoint transport, and the checks that hold for every broker transport with one connection
// per URL (the SSRF guard refuses first, TLS asks for the target's host name, a cut connection
// is reopened and failed connects back off).
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type {
  Transport,
  TransportResult,
} from "../../packages/core/src/delivery/transports/types.js";
import type {
  DeliveryRecord,
  EndpointRecord,
  MessageRecord,
} from "../../packages/core/src/model/deliveryRecords.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";
import { startSniRecorder } from "./queueSniRecorder.js";
import type { TcpProxy } from "./queueTcpProxy.js";

export interface QueueTransportRecords {
  /** The endpoint's signing secret. */
  secret: string;
  /** An endpoint of the transport at `target`, with headers that try to spoof Herald's own. */
  endpoint(target: string, overrides?: Partial<EndpointRecord>): EndpointRecord;
  /** A new message (its own id) with a non-ASCII payload. */
  message(): MessageRecord;
  /** The delivery of `msg` after `attempts` attempts. */
  delivery(msg: MessageRecord, attempts?: number): DeliveryRecord;
  /** Sends attempt `attempts + 1` of `msg` to `target` through `transport`. */
  send(
    transport: Transport,
    target: string,
    msg?: MessageRecord,
    attempts?: number,
  ): Promise<TransportResult>;
}

export function queueTransportRecords(
  transport: EndpointRecord["transport"],
): QueueTransportRecords {
  const secret = generateSecret("standard");
  const records: QueueTransportRecords = {
    secret,
    endpoint: (target, overrides = {}) =>
      testEndpoint(target, [{ secret, expiresAt: null, createdAt: new Date(0).toISOString() }], {
        transport,
        headers: { "X-Team": "billing", "x-herald-event-type": "spoofed" },
        timeoutMs: 3000,
        ...overrides,
      }),
    message: () => ({
      ...testMessage({ orderId: 7, note: "grüße" }),
      id: `msg_${randomUUID().replaceAll("-", "")}`,
    }),
    delivery: (msg, attempts = 0) => ({
      ...testDelivery(`dlv_${msg.id.slice(4)}`, attempts),
      messageId: msg.id,
    }),
    send: (through, target, msg = records.message(), attempts = 0) =>
      through.send({
        delivery: records.delivery(msg, attempts),
        message: msg,
        endpoint: records.endpoint(target),
        attemptNumber: attempts + 1,
      }),
  };
  return records;
}

/** `send` through a transport without the loopback allowlist fails `ssrf.blocked:` unconnected. */
export async function expectSsrfRefusal(
  proxy: TcpProxy,
  send: () => Promise<TransportResult>,
): Promise<void> {
  const result = await send();
  expect(result.attempt.error).toMatch(/^ssrf\.blocked: /);
  expect(result.classification.outcome).toBe("retry");
  expect(proxy.accepted).toBe(0);
}

/** A send to `localhost:<port>` over TLS connects to the guarded address and sends SNI localhost. */
export async function expectTlsServerName(
  send: (port: number) => Promise<TransportResult>,
): Promise<void> {
  const tls = await startSniRecorder();
  try {
    // localhost resolves (through the SSRF guard) to 127.0.0.1, where the recorder listens.
    const result = await send(tls.port);
    expect(result.attempt.succeeded).toBe(false);
    expect(tls.names).toEqual(["localhost"]);
  } finally {
    await tls.close();
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Through `proxy` (fresh, nothing accepted yet): a cut connection is reopened by the next send,
 * a failed connect fails the next send at once with the same error and no new socket, and once
 * the back-off (100 ms after one failure) has passed a send connects again.
 */
export async function expectReconnectAndBackOff(
  proxy: TcpProxy,
  send: () => Promise<TransportResult>,
): Promise<void> {
  expect((await send()).attempt.succeeded).toBe(true);
  expect(proxy.accepted).toBe(1);
  proxy.cut();
  // Let the transport notice the closed socket.
  await pause(50);
  const reopened = await send();
  expect(reopened.attempt.error).toBeNull();
  expect(proxy.accepted).toBe(2);

  proxy.refuse(true);
  proxy.cut();
  await pause(50);
  const first = await send();
  expect(first.attempt.succeeded).toBe(false);
  const connectsAfterFirst = proxy.accepted;
  expect(connectsAfterFirst).toBe(3);
  // Within the back-off window the next send fails at once with the same error, no new socket.
  const second = await send();
  expect(second.attempt.error).toBe(first.attempt.error);
  expect(proxy.accepted).toBe(connectsAfterFirst);

  proxy.refuse(false);
  await pause(150);
  expect((await send()).attempt.error).toBeNull();
}
