import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createEnvelope,
  type EventEnvelope,
  HeraldError,
  isIsoDateTime,
  type JsonObject,
  ManualClock,
  parseEventType,
  validateEnvelope,
} from "../../packages/core/src/index.js";

const valid: EventEnvelope = {
  id: "0b4a7e1e-5f7d-4d4c-9a64-2f1d0d0c9b11",
  type: "order.created.v1",
  occurredAt: "2024-05-01T12:00:00.000Z",
  source: "orders-service",
  correlationId: "corr-1",
  causationId: "cmd-1",
  aggregate: { type: "order", id: "123", version: 1 },
  payload: { orderId: "123", total: 42.5, items: [{ sku: "A", qty: 1 }] },
  metadata: { tenant: "acme" },
};

function pathOf(value: unknown): unknown {
  try {
    validateEnvelope(value);
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    expect((error as HeraldError).code).toBe("envelope.invalid");
    return (error as HeraldError).details?.path;
  }
  throw new Error("expected envelope.invalid");
}

describe("createEnvelope", () => {
  // #region create-envelope
  it("fills id, occurredAt and metadata", () => {
    const clock = new ManualClock(new Date("2024-05-01T12:00:00Z"));
    const envelope = createEnvelope(
      { type: "order.created.v1", source: "orders", payload: { orderId: "123" } },
      { clock },
    );
    expect(envelope).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: "order.created.v1",
      occurredAt: "2024-05-01T12:00:00.000Z",
      source: "orders",
      payload: { orderId: "123" },
      metadata: {},
    });
  });
  // #endregion create-envelope

  it("carries correlation from the event it reacts to", () => {
    const first = createEnvelope({ type: "order.created.v1", source: "orders", payload: {} });
    const second = createEnvelope(
      { type: "invoice.created.v1", source: "billing", payload: {} },
      { causedBy: first },
    );
    expect(second.causationId).toBe(first.id);
    expect(second.correlationId).toBe(first.id);
    const third = createEnvelope(
      { type: "mail.sent.v1", source: "mailer", payload: {} },
      { causedBy: second },
    );
    expect(third.correlationId).toBe(first.id);
    expect(third.causationId).toBe(second.id);
    const explicit = createEnvelope(
      { type: "mail.sent.v1", source: "mailer", payload: {}, correlationId: "x" },
      { causedBy: second },
    );
    expect(explicit.correlationId).toBe("x");
  });

  it("accepts a Date for occurredAt and keeps the payload type", () => {
    interface OrderCreated {
      orderId: string;
    }
    const envelope = createEnvelope<OrderCreated>({
      type: "order.created.v1",
      source: "orders",
      payload: { orderId: "1" },
      occurredAt: new Date(Date.UTC(2024, 0, 2)),
    });
    const orderId: string = envelope.payload.orderId;
    expect(orderId).toBe("1");
    expect(envelope.occurredAt).toBe("2024-01-02T00:00:00.000Z");
  });

  it("validates what it builds", () => {
    const bad = (input: Record<string, unknown>) => () =>
      createEnvelope({ type: "order.created.v1", source: "orders", payload: {}, ...input });
    expect(bad({ type: "order.created" })).toThrow(/type must be a lowercase dotted name/);
    expect(bad({ occurredAt: new Date(Number.NaN) })).toThrow(/occurredAt/);
    expect(bad({ payload: { at: new Date() } })).toThrow(/payload\.at is not valid JSON/);
  });
});

describe("validateEnvelope", () => {
  it("returns a fresh envelope with canonical key order and a lowercase id", () => {
    const input = { ...valid, id: valid.id.toUpperCase(), metadata: valid.metadata };
    const out = validateEnvelope(input);
    expect(out).toEqual(valid);
    expect(out).not.toBe(input);
    expect(Object.keys(out)).toEqual(Object.keys(valid));
    expect(out.payload).toBe(input.payload);
    const { correlationId, causationId, aggregate, ...minimal } = valid;
    expect(Object.keys(validateEnvelope({ ...minimal, correlationId: undefined }))).toEqual(
      Object.keys(minimal),
    );
  });

  it("round-trips through JSON", () => {
    expect(validateEnvelope(JSON.parse(JSON.stringify(valid)))).toEqual(valid);
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ["unknown top-level field", { occuredAt: valid.occurredAt }, "occuredAt"],
    ["missing id", { id: undefined }, "id"],
    ["id not a uuid", { id: "msg_01HNZX8JGFACFA36RBXDHEQN6E" }, "id"],
    ["id a number", { id: 7 }, "id"],
    ["missing type", { type: undefined }, "type"],
    ["type not a string", { type: ["order"] }, "type"],
    ["type unversioned", { type: "order.created" }, "type"],
    ["type uppercase", { type: "Order.created.v1" }, "type"],
    ["type v0", { type: "order.created.v0" }, "type"],
    ["type leading zero version", { type: "order.created.v01" }, "type"],
    ["type empty segment", { type: "order..created.v1" }, "type"],
    ["type too long", { type: `${"a".repeat(260)}.v1` }, "type"],
    ["missing occurredAt", { occurredAt: undefined }, "occurredAt"],
    ["occurredAt a Date", { occurredAt: new Date() }, "occurredAt"],
    ["occurredAt without offset", { occurredAt: "2024-05-01T12:00:00" }, "occurredAt"],
    ["occurredAt date only", { occurredAt: "2024-05-01" }, "occurredAt"],
    ["occurredAt Feb 30", { occurredAt: "2024-02-30T00:00:00Z" }, "occurredAt"],
    ["occurredAt epoch number", { occurredAt: 1714564800000 }, "occurredAt"],
    ["missing source", { source: undefined }, "source"],
    ["empty source", { source: "" }, "source"],
    ["source with spaces", { source: "orders service" }, "source"],
    ["source too long", { source: "s".repeat(256) }, "source"],
    ["correlationId null", { correlationId: null }, "correlationId"],
    ["causationId number", { causationId: 5 }, "causationId"],
    ["causationId control character", { causationId: "a\nb" }, "causationId"],
    ["aggregate not an object", { aggregate: "order/123" }, "aggregate"],
    ["aggregate null", { aggregate: null }, "aggregate"],
    [
      "aggregate unknown key",
      { aggregate: { ...valid.aggregate, stream: "x" } },
      "aggregate.stream",
    ],
    ["aggregate.type missing", { aggregate: { id: "1", version: 1 } }, "aggregate.type"],
    [
      "aggregate.type with slash",
      { aggregate: { type: "a/b", id: "1", version: 1 } },
      "aggregate.type",
    ],
    ["aggregate.id empty", { aggregate: { type: "order", id: "", version: 1 } }, "aggregate.id"],
    ["aggregate.id number", { aggregate: { type: "order", id: 123, version: 1 } }, "aggregate.id"],
    ["aggregate.version missing", { aggregate: { type: "order", id: "1" } }, "aggregate.version"],
    [
      "aggregate.version zero",
      { aggregate: { type: "order", id: "1", version: 0 } },
      "aggregate.version",
    ],
    [
      "aggregate.version fraction",
      { aggregate: { type: "order", id: "1", version: 1.5 } },
      "aggregate.version",
    ],
    [
      "aggregate.version string",
      { aggregate: { type: "order", id: "1", version: "1" } },
      "aggregate.version",
    ],
    ["missing payload", { payload: undefined }, "payload"],
    ["payload an array", { payload: [1, 2] }, "payload"],
    ["payload null", { payload: null }, "payload"],
    ["payload a string", { payload: "{}" }, "payload"],
    ["payload a class instance", { payload: new Map() }, "payload"],
    [
      "payload nested NaN",
      { payload: { items: [{ price: Number.NaN }] } },
      "payload.items[0].price",
    ],
    ["payload nested undefined", { payload: { a: { b: undefined } } }, "payload.a.b"],
    ["payload odd key", { payload: { "x.y": () => 1 } }, 'payload["x.y"]'],
    ["payload bigint", { payload: { n: 1n } }, "payload.n"],
    ["missing metadata", { metadata: undefined }, "metadata"],
    ["metadata an array", { metadata: [] }, "metadata"],
    ["metadata a Date inside", { metadata: { at: new Date() } }, "metadata.at"],
  ];
  it.each(cases)("rejects %s", (_name, override, path) => {
    expect(pathOf({ ...valid, ...override })).toBe(path);
  });

  it("rejects non-objects and cycles", () => {
    expect(pathOf(null)).toBe("");
    expect(pathOf([valid])).toBe("");
    expect(pathOf("{}")).toBe("");
    const payload: Record<string, unknown> = { a: [] };
    (payload.a as unknown[]).push(payload);
    expect(pathOf({ ...valid, payload })).toBe("payload.a[0]");
  });

  it("says what is wrong in the message", () => {
    expect(() =>
      validateEnvelope({ ...valid, aggregate: { type: "order", id: "1", version: -2 } }),
    ).toThrow("Invalid envelope: aggregate.version must be a positive integer (got -2)");
    expect(() => validateEnvelope({ ...valid, traceId: "t" })).toThrow(
      /put extensions in metadata/,
    );
  });

  it("refuses nesting deeper than MAX_JSON_DEPTH (64), without overflowing the stack", () => {
    const nest = (levels: number) => {
      let deep: Record<string, unknown> = {};
      for (let i = 1; i < levels; i++) deep = { d: deep };
      return deep;
    };
    const ok = nest(64);
    expect(validateEnvelope({ ...valid, payload: ok }).payload).toBe(ok);
    for (const levels of [65, 100_000]) {
      expect(() => validateEnvelope({ ...valid, payload: nest(levels) })).toThrow(
        expect.objectContaining({
          code: "envelope.invalid",
          message: expect.stringContaining("nests deeper than 64 levels"),
        }),
      );
    }
  });

  it("property: every created envelope validates to itself, also after JSON", () => {
    const json = fc.jsonValue() as fc.Arbitrary<unknown>;
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), json),
        fc.dictionary(fc.string(), json),
        fc.integer({ min: 0, max: 253_402_300_799_999 }),
        (payload, metadata, at) => {
          const envelope = createEnvelope(
            {
              type: "order.created.v1",
              source: "orders",
              payload,
              metadata: metadata as JsonObject,
            },
            { clock: new ManualClock(at) },
          );
          expect(validateEnvelope(envelope)).toEqual(envelope);
          expect(validateEnvelope(JSON.parse(JSON.stringify(envelope)))).toEqual(
            JSON.parse(JSON.stringify(envelope)),
          );
        },
      ),
    );
  });
});

describe("event types and date-times", () => {
  it("parses versioned types", () => {
    expect(parseEventType("order.created.v1")).toEqual({ name: "order.created", version: 1 });
    expect(parseEventType("stripe.invoice.paid.v12")).toEqual({
      name: "stripe.invoice.paid",
      version: 12,
    });
    expect(parseEventType("order.created")).toBeNull();
    expect(parseEventType("v1")).toBeNull();
  });

  it("accepts RFC 3339 date-times and rejects look-alikes", () => {
    for (const ok of [
      "2024-05-01T12:00:00Z",
      "2024-05-01T12:00:00.123456789Z",
      "2024-05-01T12:00:00+02:00",
      "2024-02-29T23:59:59-11:30",
    ]) {
      expect(isIsoDateTime(ok), ok).toBe(true);
    }
    for (const bad of [
      "2023-02-29T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-04-31T00:00:00Z",
      "2024-05-01T24:00:00Z",
      "2024-05-01T12:60:00Z",
      "2024-05-01T12:00:60Z",
      "2024-05-01t12:00:00z",
      "2024-05-01 12:00:00Z",
      "2024-05-01T12:00:00.Z",
      "2024-05-01T12:00:00+24:00",
      "2024-05-01T12:00:00+0200",
      "20240501T120000Z",
    ]) {
      expect(isIsoDateTime(bad), bad).toBe(false);
    }
  });
});
