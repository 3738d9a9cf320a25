// The function transport: a registered in-process function per endpoint; return = delivered, throw = retry.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  createFunctionTransport,
  type DeliveryFunction,
  type FunctionDeliveryContext,
} from "../../packages/core/src/delivery/transports/function.js";
import type {
  DeliveryRecord,
  EndpointRecord,
  MessageRecord,
} from "../../packages/core/src/model/deliveryRecords.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { testEndpoint } from "../helpers/deliveryRecords.js";

const iso = (ms: number) => new Date(ms).toISOString();

function endpoint(overrides: Partial<EndpointRecord> = {}): EndpointRecord {
  return testEndpoint("record", [], {
    id: "ep_fn",
    transport: "function",
    headers: { "x-team": "billing" },
    timeoutMs: 1000,
    createdAt: iso(0),
    updatedAt: iso(0),
    ...overrides,
  });
}

const message: MessageRecord = {
  id: "msg_01JTESTMESSAGE0000000000000",
  tenant: "acme",
  type: "order.created.v1",
  source: null,
  payload: { orderId: 42, note: "grüße" },
  idempotencyKey: null,
  inboundIdempotencyKey: null,
  createdAt: iso(0),
};

const delivery: DeliveryRecord = {
  id: "dlv_01JTESTDELIVERY000000000000",
  messageId: message.id,
  endpointId: "ep_fn",
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

describe("function transport", () => {
  it("calls the named function with the message and the attempt's context", async () => {
    const clock = new ManualClock(Date.parse("2025-01-02T03:04:05.000Z"));
    const calls: Array<{ message: MessageRecord; context: FunctionDeliveryContext }> = [];
    // #region function-transport
    const transport = createFunctionTransport({
      functions: {
        record: async (message, context) => {
          calls.push({ message, context });
          return { stored: true }; // kept as the attempt's responseBody
        },
      },
      clock,
    });
    const { attempt, classification } = await transport.send({
      delivery,
      message,
      endpoint: endpoint({ target: "record" }),
      attemptNumber: 3,
    });
    // #endregion function-transport
    expect(classification).toEqual({ outcome: "success" });
    expect(attempt).toMatchObject({
      startedAt: "2025-01-02T03:04:05.000Z",
      succeeded: true,
      statusCode: null,
      responseHeaders: null,
      responseBody: '{"stored":true}',
      error: null,
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.message).toEqual(message);
    expect(calls[0]?.message.payload).toEqual({ orderId: 42, note: "grüße" });
    expect(calls[0]?.context).toMatchObject({
      deliveryId: delivery.id,
      endpointId: "ep_fn",
      attemptNumber: 3,
      headers: { "x-team": "billing" },
    });
    expect(calls[0]?.context.signal.aborted).toBe(false);
    await transport.close();
  });

  it("a synchronous function returning nothing is delivered with no response body", async () => {
    const transport = createFunctionTransport({ functions: { record: () => undefined } });
    const result = await transport.send({
      delivery,
      message,
      endpoint: endpoint(),
      attemptNumber: 1,
    });
    expect(result.classification.outcome).toBe("success");
    expect(result.attempt.responseBody).toBeNull();
  });

  it("a throw or a rejection is a retry with a `function:` error", async () => {
    const transport = createFunctionTransport({
      functions: {
        sync: () => {
          throw new Error("ledger locked");
        },
        async: async () => Promise.reject(new Error("db down")),
        odd: () => {
          throw 42;
        },
      },
    });
    const send = (target: string) =>
      transport.send({ delivery, message, endpoint: endpoint({ target }), attemptNumber: 1 });
    const sync = await send("sync");
    expect(sync.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect(sync.attempt).toMatchObject({ succeeded: false, error: "function: ledger locked" });
    expect((await send("async")).attempt.error).toBe("function: db down");
    expect((await send("odd")).attempt.error).toBe("function: threw a non-Error value");
  });

  it("a function that never settles times out at the endpoint's timeoutMs and is aborted", async () => {
    let seen: AbortSignal | undefined;
    const never: DeliveryFunction = (_message, { signal }) => {
      seen = signal;
      return new Promise(() => {});
    };
    const transport = createFunctionTransport({ functions: { never } });
    const started = Date.now();
    const result = await transport.send({
      delivery,
      message,
      endpoint: endpoint({ target: "never", timeoutMs: 50 }),
      attemptNumber: 1,
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.classification).toEqual({ outcome: "retry", reason: "timeout" });
    expect(result.attempt.error).toBe("timeout: function did not settle within 50 ms");
    expect(seen?.aborted).toBe(true);
  });

  it("an unknown name is a retry with `function.unknown:`, found once registered later", async () => {
    const functions: Record<string, DeliveryFunction> = {};
    const transport = createFunctionTransport({ functions });
    const send = () =>
      transport.send({
        delivery,
        message,
        endpoint: endpoint({ target: "late" }),
        attemptNumber: 1,
      });
    const first = await send();
    expect(first.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect(first.attempt.error).toBe('function.unknown: no function registered as "late"');
    // Inherited names are not functions of the registry.
    const inherited = await transport.send({
      delivery,
      message,
      endpoint: endpoint({ target: "toString" }),
      attemptNumber: 1,
    });
    expect(inherited.attempt.error).toMatch(/^function\.unknown: /);
    functions.late = () => "ok";
    expect((await send()).classification.outcome).toBe("success");
  });

  it("accepts a Map and keeps at most maxResponseBytes of the returned value", async () => {
    const transport = createFunctionTransport({
      functions: new Map([["record", () => "x".repeat(100)]]),
      maxResponseBytes: 10,
    });
    const result = await transport.send({
      delivery,
      message,
      endpoint: endpoint(),
      attemptNumber: 1,
    });
    expect(result.attempt.responseBody).toBe(`"${"x".repeat(9)}`);
    expect(result.responseBodyTruncated).toBe(true);
  });
});

it("docs/transports.md examples match their test regions", () => {
  const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
  const blocks = [
    ...read("docs/transports.md").matchAll(/<!-- region: (\S+)#(\S+) -->\n```ts\n([\s\S]*?)```/g),
  ];
  expect(blocks.length).toBeGreaterThan(0);
  for (const [, file, name, code] of blocks) {
    const match = new RegExp(
      `\\n([ \\t]*)// #region ${name}\\n([\\s\\S]*?)\\n[ \\t]*// #endregion ${name}\\n`,
    ).exec(read(file ?? ""));
    expect(match, `${file} #region ${name}`).not.toBeNull();
    const indent = match?.[1]?.length ?? 0;
    const region = `${(match?.[2] ?? "")
      .split("\n")
      .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
      .join("\n")}\n`;
    expect(code).toBe(region);
  }
});
