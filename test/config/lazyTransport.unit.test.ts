// A transport loaded on its first send: loaded once, a load failure is a retried attempt (and the
// next send loads again), close() closes what was loaded, a send after close() is refused.
import { describe, expect, it } from "vitest";
import type { Transport } from "../../packages/core/src/delivery/transports/types.js";
import { lazyTransport } from "../../packages/server/src/config/lazyTransport.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";

const input = () => ({
  delivery: testDelivery("dlv_lazy"),
  message: testMessage({ a: 1 }),
  endpoint: testEndpoint("ws://127.0.0.1:1/", []),
  attemptNumber: 1,
});

function fakeLoaded(): Transport & { sends: number; closes: number } {
  const loaded = {
    sends: 0,
    closes: 0,
    async send() {
      loaded.sends += 1;
      return {
        attempt: {
          startedAt: new Date(0).toISOString(),
          durationMs: 0,
          succeeded: true,
          statusCode: null,
          responseHeaders: null,
          responseBody: null,
          error: null,
        },
        classification: { outcome: "success" as const },
        responseBodyTruncated: false,
      };
    },
    async close() {
      loaded.closes += 1;
    },
  };
  return loaded;
}

describe("lazyTransport", () => {
  it("loads once, on the first send, and close() closes it", async () => {
    const loaded = fakeLoaded();
    let loads = 0;
    const transport = lazyTransport("websocket", async () => {
      loads += 1;
      return loaded;
    });
    expect(loads).toBe(0);
    await Promise.all([transport.send(input()), transport.send(input())]);
    expect(loads).toBe(1);
    expect(loaded.sends).toBe(2);
    await transport.close();
    expect(loaded.closes).toBe(1);
    const after = await transport.send(input());
    expect(after.attempt.error).toBe("transport.unavailable: the websocket transport is closed");
    expect(after.classification.outcome).toBe("retry");
  });

  it("a module that does not load is a retried attempt; the next send loads again", async () => {
    let loads = 0;
    const transport = lazyTransport("grpc", async () => {
      loads += 1;
      if (loads === 1) throw new Error("Cannot find module '@grpc/grpc-js'");
      return fakeLoaded();
    });
    const first = await transport.send(input());
    expect(first.attempt.succeeded).toBe(false);
    expect(first.attempt.error).toBe(
      "transport.unavailable: the grpc transport did not load: Cannot find module '@grpc/grpc-js'",
    );
    expect(first.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect((await transport.send(input())).attempt.succeeded).toBe(true);
    expect(loads).toBe(2);
    await transport.close();
  });

  it("close() before any send loads nothing", async () => {
    let loads = 0;
    const transport = lazyTransport("rabbitmq", async () => {
      loads += 1;
      return fakeLoaded();
    });
    await transport.close();
    await transport.close();
    expect(loads).toBe(0);
  });
});
