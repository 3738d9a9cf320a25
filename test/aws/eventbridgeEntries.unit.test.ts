// The EventBridge publisher without a service: how a bus message becomes a PutEvents entry
// (Detail, DetailType, Time, the 256 KB limit), the options it refuses, an empty batch, and a
// network failure surfacing as bus.unavailable.
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { describe, expect, it } from "vitest";
import {
  defaultDetailType,
  toPutEventsEntry,
} from "../../packages/aws/src/bus/eventbridge/entries.js";
import { createEventBridgePublisher } from "../../packages/aws/src/bus/eventbridge/publisher.js";
import { MAX_PUT_EVENTS_BYTES } from "../../packages/aws/src/core/eventBridgeLimits.js";
import { envelopeToMessage } from "../../packages/core/src/bus/envelopeCodec.js";
import type { BusMessage } from "../../packages/core/src/bus/port.js";
import { createEnvelope } from "../../packages/core/src/core/envelope.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";

const clock = new ManualClock(Date.parse("2030-01-02T03:04:05.678Z"));
const options = { eventBusName: "bus", source: "herald", detailType: defaultDetailType, clock };

const message = (payload: Record<string, unknown> = {}): BusMessage =>
  envelopeToMessage(
    createEnvelope({
      type: "order.placed.v1",
      source: "shop",
      payload,
      occurredAt: "2026-05-06T07:08:09.123Z",
    }),
  );

const withData = (data: string | Uint8Array): BusMessage => ({
  ...message(),
  data: typeof data === "string" ? new TextEncoder().encode(data) : data,
});

describe("toPutEventsEntry", () => {
  it("carries the envelope as Detail, its type as DetailType and its occurredAt as Time", () => {
    const sent = message({ n: 1 });
    expect(toPutEventsEntry(sent, options)).toEqual({
      EventBusName: "bus",
      Source: "herald",
      DetailType: "order.placed.v1",
      Detail: new TextDecoder().decode(sent.data),
      Time: new Date("2026-05-06T07:08:09.123Z"),
    });
  });

  it("takes the clock's time when occurredAt is missing or does not parse", () => {
    for (const data of ['{"id":"a"}', '{"id":"a","occurredAt":"yesterday"}']) {
      expect(toPutEventsEntry(withData(data), options).Time).toEqual(new Date(clock.now()));
    }
  });

  it("uses a custom detail type, and refuses an empty one or a missing type header", () => {
    const sent = message();
    const custom = { ...options, detailType: (m: BusMessage) => `Herald ${m.subject}` };
    expect(toPutEventsEntry(sent, custom).DetailType).toBe(`Herald ${sent.subject}`);
    expect(() => toPutEventsEntry(sent, { ...options, detailType: () => "" })).toThrow(
      expect.objectContaining({ code: "message.invalid" }),
    );
    const untyped = { ...sent, headers: {} };
    expect(() => toPutEventsEntry(untyped, options)).toThrow(
      expect.objectContaining({ code: "message.invalid", details: { id: sent.id } }),
    );
  });

  it("refuses data that is not UTF-8 JSON, or JSON that is not an object", () => {
    for (const data of ["not json", "[1,2]", "42", "null", new Uint8Array([0x7b, 0xff, 0x7d])]) {
      expect(() => toPutEventsEntry(withData(data), options)).toThrow(
        expect.objectContaining({ code: "message.invalid" }),
      );
    }
  });

  it("accepts an entry of exactly 256 KB and refuses one byte more", () => {
    // Fixed bytes: Source, DetailType, 14 for Time, and the JSON around the filler.
    const fixed = "herald".length + "order.placed.v1".length + 14 + '{"x":""}'.length;
    const fits = withData(`{"x":"${"a".repeat(MAX_PUT_EVENTS_BYTES - fixed)}"}`);
    expect(() => toPutEventsEntry(fits, options)).not.toThrow();
    const over = withData(`{"x":"${"a".repeat(MAX_PUT_EVENTS_BYTES - fixed + 1)}"}`);
    expect(() => toPutEventsEntry(over, options)).toThrow(
      expect.objectContaining({
        code: "bus.message_too_large",
        details: { id: over.id, size: MAX_PUT_EVENTS_BYTES + 1, max: MAX_PUT_EVENTS_BYTES },
      }),
    );
  });
});

describe("createEventBridgePublisher", () => {
  const aws = { region: "us-east-1", endpoint: "http://127.0.0.1:1" };

  it("refuses sources AWS reserves, empty names, client and aws together, bad retry options", () => {
    const refused = [
      { eventBusName: "bus", source: "aws.events", aws },
      { eventBusName: "bus", source: "AWS.Partner", aws },
      { eventBusName: "bus", source: "", aws },
      { eventBusName: "", aws },
      { eventBusName: "bus", aws, client: new EventBridgeClient({}) },
      { eventBusName: "bus", aws, maxRetries: -1 },
      { eventBusName: "bus", aws, maxRetries: 1.5 },
      { eventBusName: "bus", aws, retryDelayMs: Number.NaN },
    ];
    for (const options of refused) {
      expect(() => createEventBridgePublisher(options)).toThrow(
        expect.objectContaining({ code: "config.invalid" }),
      );
    }
    expect(() =>
      createEventBridgePublisher({ eventBusName: "bus", aws: { region: "nowhere" } }),
    ).toThrow(expect.objectContaining({ code: "config.invalid", details: { field: "region" } }));
  });

  it("resolves an empty batch without a call", async () => {
    const client = new EventBridgeClient({ ...aws, maxAttempts: 1 });
    let calls = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        calls++;
        return next(args);
      },
      { step: "initialize" },
    );
    const publisher = createEventBridgePublisher({ client, eventBusName: "bus" });
    expect(await publisher.publishBatch([])).toEqual([]);
    expect(calls).toBe(0);
    client.destroy();
  });

  it("a network failure is bus.unavailable with the SDK error as cause", async () => {
    const publisher = createEventBridgePublisher({
      eventBusName: "bus",
      aws: {
        ...aws,
        maxAttempts: 1,
        credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      },
    });
    const error = await publisher.publish(message()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "bus.unavailable" });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain("testing");
    await publisher.close();
  });
});
