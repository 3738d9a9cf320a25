// Kill the listener mid-stream: the delivery worker sends 30 messages over gRPC to one endpoint,
// the grpc-js listener is stopped at once (forceShutdown) with calls in flight, and a new one
// starts on the same port. Nothing acknowledged is lost, the calls that were cut are retried,
// and every delivery ends `delivered`, each message verifying like a webhook.
import { afterEach, describe, expect, it } from "vitest";
import {
  createDeliveryWorker,
  type DeliveryWorker,
} from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { createGrpcTransport } from "../../packages/grpc/src/delivery/transports/grpc.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";
import { type GrpcCallSeen, type GrpcPeer, startGrpcPeer } from "./grpcPeer.js";
import { expectEveryCopyVerifies } from "./signedCopies.js";

const MESSAGES = 30;
/** Each Ack comes this long after the call, so some calls are always in flight. */
const ACK_DELAY_MS = 25;
const STOP_AT_CALL = 12;

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("gRPC listener stopped mid-stream", () => {
  const peers: GrpcPeer[] = [];
  let worker: DeliveryWorker | undefined;
  let grpc: ReturnType<typeof createGrpcTransport> | undefined;

  afterEach(async () => {
    await worker?.stop();
    await grpc?.close();
    for (const peer of peers) peer.stop();
  });

  it("nothing acknowledged is lost; the cut calls are retried and every delivery ends delivered", async () => {
    const secret = generateSecret("standard");
    // The listener stops at once when the 12th call arrives: that call, at least, is in flight.
    let stopped: () => void = () => {};
    const stoppedAt = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    const first: GrpcPeer = await startGrpcPeer(() => {
      if (first.seen.length === STOP_AT_CALL) {
        setImmediate(() => {
          first.stop();
          stopped();
        });
      }
      return { ack: {}, delayMs: ACK_DELAY_MS };
    });
    peers.push(first);
    const store = createMemoryDeliveryStore();
    await store.createEndpoint({
      transport: "grpc",
      target: `grpc://127.0.0.1:${first.port}`,
      eventTypes: ["order.*"],
      secrets: [{ secret }],
      timeoutMs: 2000,
      retry: { schedule_s: Array.from({ length: 30 }, () => 0.2) },
    });
    const dispatcher = createDispatcher({ store });
    const messageIds: string[] = [];
    for (let n = 0; n < MESSAGES; n++) {
      const { messageId } = await dispatcher.dispatch({ type: "order.created.v1", payload: { n } });
      messageIds.push(messageId);
    }
    grpc = createGrpcTransport({ ssrfAllow: ["127.0.0.0/8"] });
    worker = createDeliveryWorker({
      store,
      transports: { grpc },
      concurrency: 4,
      pollIntervalMs: 20,
    });
    worker.start();

    await stoppedAt;
    const inFlight = first.seen.length - first.acknowledged.length;
    const acknowledgedBeforeStop = first.acknowledged.length;
    expect(acknowledgedBeforeStop).toBeLessThan(MESSAGES);
    // Down for a moment: the sends meanwhile fail (UNAVAILABLE) and are retried.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await startGrpcPeer(() => ({ ack: {}, delayMs: ACK_DELAY_MS }), {
      port: first.port,
    });
    peers.push(second);

    await waitUntil("every delivery delivered", async () => {
      const [dead] = (await store.listDeliveries({ status: "dead_lettered", limit: 1 })).data;
      if (dead !== undefined) throw new Error(`dead-lettered: ${dead.lastError}`);
      const { data } = await store.listDeliveries({ status: "delivered", limit: 1000 });
      return data.length === MESSAGES;
    });

    const calls: GrpcCallSeen[] = [...first.seen, ...second.seen];
    // Every call the listeners got verifies like a webhook, with the endpoint's secret.
    expectEveryCopyVerifies(
      secret,
      calls.map((call) => ({
        id: call.request.messageId,
        headers: call.metadata,
        body: call.request.body,
      })),
    );
    // Every message reached a listener and was acknowledged at least once.
    const acknowledged = new Set(
      [...first.acknowledged, ...second.acknowledged].map((c) => c.request.messageId),
    );
    expect([...acknowledged].sort()).toEqual([...messageIds].sort());
    // What the first listener acknowledged before it stopped is delivered, not sent again.
    const { data: deliveries } = await store.listDeliveries({ limit: 1000 });
    const byMessage = new Map(deliveries.map((d) => [d.messageId, d]));
    for (const call of first.acknowledged.slice(0, acknowledgedBeforeStop)) {
      expect(byMessage.get(call.request.messageId)?.status).toBe("delivered");
    }
    expect(deliveries.every((d) => d.status === "delivered")).toBe(true);
    // The outage was real: the calls cut in flight, and the sends while down, were retried.
    expect(inFlight).toBeGreaterThan(0);
    expect(deliveries.some((d) => d.attempts > 1)).toBe(true);
    expect(second.acknowledged.length).toBeGreaterThan(0);
  });
});
