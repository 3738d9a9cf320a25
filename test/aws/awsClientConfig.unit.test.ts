// The AWS client options: what the SDK clients get, and the refusals (config.invalid) that
// never echo a secret.
import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import {
  eventBridgeEntrySize,
  MAX_PUT_EVENTS_BYTES,
  putEventsChunks,
} from "../../packages/aws/src/core/eventBridgeLimits.js";
import { createDynamoEventStore } from "../../packages/aws/src/store/dynamodb/eventStore.js";

describe("awsClientConfig", () => {
  it("passes region, endpoint origin, credentials and attempts through; nothing when empty", () => {
    const timeouts = {
      requestHandler: {
        requestTimeout: 30_000,
        connectionTimeout: 5_000,
        throwOnRequestTimeout: true,
      },
    };
    expect(awsClientConfig()).toEqual(timeouts);
    expect(
      awsClientConfig({
        region: "eu-central-1",
        endpoint: "http://127.0.0.1:5000/ignored/path",
        credentials: { accessKeyId: "AKIA", secretAccessKey: "s3cret", sessionToken: "t" },
        maxAttempts: 5,
      }),
    ).toEqual({
      region: "eu-central-1",
      endpoint: "http://127.0.0.1:5000",
      credentials: { accessKeyId: "AKIA", secretAccessKey: "s3cret", sessionToken: "t" },
      maxAttempts: 5,
      ...timeouts,
    });
    expect(
      awsClientConfig({ requestTimeoutMs: 1500, connectionTimeoutMs: 200 }).requestHandler,
    ).toEqual({ requestTimeout: 1500, connectionTimeout: 200, throwOnRequestTimeout: true });
    expect(awsClientConfig({ region: "us-gov-west-1" }).region).toBe("us-gov-west-1");
  });

  it("refuses a bad region, endpoint, half a credential pair or attempts, naming the field only", () => {
    const cases: [Parameters<typeof awsClientConfig>[0], string][] = [
      [{ region: "US-EAST-1" }, "region"],
      [{ region: "us-east-1; rm -rf /" }, "region"],
      [{ endpoint: "ftp://127.0.0.1" }, "endpoint"],
      [{ endpoint: "not a url" }, "endpoint"],
      [{ credentials: { accessKeyId: "AKIA", secretAccessKey: "" } }, "credentials"],
      [{ credentials: { accessKeyId: "", secretAccessKey: "s3cret-value" } }, "credentials"],
      [{ maxAttempts: 0 }, "maxAttempts"],
      [{ maxAttempts: 1.5 }, "maxAttempts"],
      [{ requestTimeoutMs: 0 }, "requestTimeoutMs"],
      [{ connectionTimeoutMs: Number.NaN }, "connectionTimeoutMs"],
    ];
    for (const [options, field] of cases) {
      let thrown: unknown;
      try {
        awsClientConfig(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: "config.invalid", details: { field } });
      expect(String((thrown as Error).message)).not.toContain("s3cret");
    }
  });
});

describe("EventBridge limits", () => {
  it("counts Source, DetailType, Detail, Resources in UTF-8 bytes, and 14 for Time", () => {
    expect(eventBridgeEntrySize({ Source: "s", DetailType: "t", Detail: '{"é":1}' })).toBe(
      1 + 1 + 8,
    );
    expect(eventBridgeEntrySize({ Detail: "{}", Resources: ["ab", "c"], Time: new Date() })).toBe(
      2 + 3 + 14,
    );
  });

  it("chunks by 10 entries and by 256 KB, in order", () => {
    const small = Array.from({ length: 23 }, (_, i) => ({ Detail: `{"n":${i}}` }));
    expect(putEventsChunks(small).map((chunk) => chunk.length)).toEqual([10, 10, 3]);
    expect(putEventsChunks(small).flat()).toEqual(small);
    const big = { Detail: "x".repeat(100 * 1024) };
    expect(putEventsChunks([big, big, big, big]).map((chunk) => chunk.length)).toEqual([2, 2]);
    const whole = { Detail: "x".repeat(MAX_PUT_EVENTS_BYTES) };
    expect(putEventsChunks([whole, { Detail: "{}" }]).map((chunk) => chunk.length)).toEqual([1, 1]);
    expect(putEventsChunks([])).toEqual([]);
  });
});

describe("request timeout", () => {
  it("a DynamoDB endpoint that accepts and never answers fails the call (store.unavailable)", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    const store = createDynamoEventStore({
      aws: {
        endpoint: `http://127.0.0.1:${port}`,
        region: "us-east-1",
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
        maxAttempts: 1,
        requestTimeoutMs: 300,
      },
      table: "herald_events",
    });
    try {
      await expect(store.streamVersion("order/1")).rejects.toMatchObject({
        code: "store.unavailable",
      });
      expect(sockets.size).toBeGreaterThan(0);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
