// Envelope ↔ CloudEvents 1.0: known answers from the CloudEvents specs, the metadata rules,
// errors naming the attribute, and round-trip properties over arbitrary valid envelopes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CloudEvent,
  decodeHeaderValue,
  type EventEnvelope,
  encodeHeaderValue,
  fromBinary,
  fromCloudEvent,
  fromHttp,
  fromStructured,
  HeraldError,
  isIsoDateTime,
  type JsonObject,
  type JsonValue,
  toBinary,
  toCloudEvent,
  toStructured,
  validateEnvelope,
} from "../../packages/core/src/index.js";

const envelope: EventEnvelope = {
  id: "0b4a7e1e-5f7d-4d4c-9a64-2f1d0d0c9b11",
  type: "order.created.v1",
  occurredAt: "2024-05-01T12:00:00.000Z",
  source: "orders-service",
  correlationId: "corr-1",
  causationId: "cmd-1",
  aggregate: { type: "order", id: "123", version: 7 },
  payload: { orderId: "123", total: 42.5 },
  metadata: { tenant: "acme", traceparent: "00-0af7651916cd43dd-b7ad6b71-01", retries: 2 },
};

function attributeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    expect((error as HeraldError).code).toBe("cloudevent.invalid");
    return (error as HeraldError).details?.attribute;
  }
  throw new Error("expected cloudevent.invalid");
}

describe("known answers", () => {
  // #region cloudevents-structured
  it("maps an envelope to a structured-mode CloudEvent", () => {
    const message = toStructured(envelope);
    expect(message.headers).toEqual({
      "content-type": "application/cloudevents+json; charset=utf-8",
    });
    expect(JSON.parse(message.body)).toEqual({
      specversion: "1.0",
      id: "0b4a7e1e-5f7d-4d4c-9a64-2f1d0d0c9b11",
      source: "orders-service",
      type: "order.created.v1",
      subject: "order/123",
      time: "2024-05-01T12:00:00.000Z",
      datacontenttype: "application/json",
      correlationid: "corr-1",
      causationid: "cmd-1",
      aggregatetype: "order",
      aggregateid: "123",
      aggregateversion: 7,
      tenant: "acme",
      traceparent: "00-0af7651916cd43dd-b7ad6b71-01",
      heraldmetadata: '{"retries":2}',
      data: { orderId: "123", total: 42.5 },
    });
    expect(fromStructured(message.body)).toEqual(envelope);
  });
  // #endregion cloudevents-structured

  // #region cloudevents-binary
  it("maps an envelope to a binary-mode HTTP message", () => {
    const { headers, body } = toBinary({ ...envelope, source: "orders/€%" });
    expect(headers).toEqual({
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": "0b4a7e1e-5f7d-4d4c-9a64-2f1d0d0c9b11",
      "ce-source": "orders/%E2%82%AC%25",
      "ce-type": "order.created.v1",
      "ce-subject": "order/123",
      "ce-time": "2024-05-01T12:00:00.000Z",
      "ce-correlationid": "corr-1",
      "ce-causationid": "cmd-1",
      "ce-aggregatetype": "order",
      "ce-aggregateid": "123",
      "ce-aggregateversion": "7",
      "ce-tenant": "acme",
      "ce-traceparent": "00-0af7651916cd43dd-b7ad6b71-01",
      "ce-heraldmetadata": "{%22retries%22:2}",
    });
    expect(body).toBe('{"orderId":"123","total":42.5}');
    expect(fromBinary(headers, body)).toEqual({ ...envelope, source: "orders/€%" });
  });
  // #endregion cloudevents-binary

  it("rejects the JSON format spec's example as it stands, naming the first misfit", () => {
    // CloudEvents JSON format 1.0, section 3.1.1 (example with data as a string of XML).
    const specExample = {
      specversion: "1.0",
      type: "com.github.pull_request.opened",
      source: "https://github.com/cloudevents/spec/pull",
      subject: "123",
      id: "A234-1234-1234",
      time: "2018-04-05T17:31:00Z",
      comexampleextension1: "value",
      comexampleothervalue: 5,
      datacontenttype: "text/xml",
      data: '<much wait="no">wow</much>',
    };
    expect(attributeOf(() => fromCloudEvent(specExample))).toBe("datacontenttype");
    const asJson = { ...specExample, datacontenttype: "application/json", data: { much: "wow" } };
    expect(attributeOf(() => fromCloudEvent(asJson))).toBe("subject");
    const { subject: _subject, ...noSubject } = asJson;
    expect(attributeOf(() => fromCloudEvent(noSubject))).toBe("id");
    const withUuid = { ...noSubject, id: "A2341234-1234-4234-9234-123412341234" };
    expect(attributeOf(() => fromCloudEvent(withUuid))).toBe("type");
  });

  it("reads the spec example once it fits the envelope: extensions become metadata", () => {
    const event = {
      specversion: "1.0",
      type: "com.github.pull_request.opened.v1",
      source: "https://github.com/cloudevents/spec/pull",
      id: "A2341234-1234-4234-9234-123412341234",
      time: "2018-04-05T17:31:00Z",
      comexampleextension1: "value",
      comexampleothervalue: 5,
      datacontenttype: "application/json",
      data: { much: "wow" },
    };
    const expected: EventEnvelope = {
      id: "a2341234-1234-4234-9234-123412341234",
      type: "com.github.pull_request.opened.v1",
      occurredAt: "2018-04-05T17:31:00Z",
      source: "https://github.com/cloudevents/spec/pull",
      payload: { much: "wow" },
      metadata: { comexampleextension1: "value", comexampleothervalue: 5 },
    };
    expect(fromCloudEvent(event)).toEqual(expected);
    // The integer extension comes back inside heraldmetadata: headers could not keep its type.
    expect(toCloudEvent(expected)).toMatchObject({
      comexampleextension1: "value",
      heraldmetadata: '{"comexampleothervalue":5}',
    });
  });

  it("reads the HTTP binding spec's binary example once it fits the envelope", () => {
    // CloudEvents HTTP protocol binding 1.0, section 3.1.4, with a UUID id and a versioned type.
    const headers = {
      Host: "webhook.example.com",
      "ce-specversion": "1.0",
      "ce-type": "com.example.someevent.v1",
      "ce-time": "2018-04-05T03:56:24Z",
      "ce-id": "12341234-1234-4234-9234-123412341234",
      "ce-source": "/mycontext/subcontext",
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": "15",
    };
    expect(fromBinary(headers, Buffer.from('{"much":"wow"}\n'))).toEqual({
      id: "12341234-1234-4234-9234-123412341234",
      type: "com.example.someevent.v1",
      occurredAt: "2018-04-05T03:56:24Z",
      source: "/mycontext/subcontext",
      payload: { much: "wow" },
      metadata: {},
    });
  });

  it("percent-encodes header values as the HTTP binding's example does", () => {
    // HTTP protocol binding 1.0.2, section 3.1.3.2.
    expect(encodeHeaderValue("Euro € 😀")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    expect(decodeHeaderValue("Euro%20%E2%82%AC%20%F0%9F%98%80", "x")).toBe("Euro € 😀");
    expect(encodeHeaderValue('a"b%c')).toBe("a%22b%25c");
  });
});

describe("metadata", () => {
  it("sends string entries under free extension names as extensions, the rest as JSON", () => {
    const event = toCloudEvent({
      ...envelope,
      metadata: {
        tenant: "acme",
        traceId: "camel case is not an extension name",
        averyveryverylongname: "21 characters",
        subject: "reserved",
        heraldmetadata: "reserved too",
        empty: "",
        flag: true,
        nested: { a: [1, null] },
        dataschema: "https://example.com/schemas/order.json",
      },
    });
    expect(event.tenant).toBe("acme");
    expect(event.subject).toBe("order/123");
    expect(event.dataschema).toBe("https://example.com/schemas/order.json");
    expect(JSON.parse(event.heraldmetadata as string)).toEqual({
      traceId: "camel case is not an extension name",
      averyveryverylongname: "21 characters",
      subject: "reserved",
      heraldmetadata: "reserved too",
      empty: "",
      flag: true,
      nested: { a: [1, null] },
    });
  });

  it("leaves heraldmetadata out when every entry is an extension", () => {
    expect(toCloudEvent({ ...envelope, metadata: { tenant: "acme" } })).not.toHaveProperty(
      "heraldmetadata",
    );
  });

  it("keeps a __proto__ metadata key as data", () => {
    const metadata = JSON.parse('{"__proto__": {"x": 1}}') as JsonObject;
    const back = fromStructured(toStructured({ ...envelope, metadata }).body);
    expect(Object.keys(back.metadata)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(back.metadata)).toBe(Object.prototype);
  });

  it("writes aggregateversion beyond the CloudEvents integer range as a string", () => {
    const big = { ...envelope, aggregate: { type: "order", id: "1", version: 2 ** 40 } };
    expect(toCloudEvent(big).aggregateversion).toBe(String(2 ** 40));
    expect(fromStructured(toStructured(big).body)).toEqual(big);
  });
});

describe("errors name the attribute", () => {
  const base = toCloudEvent(envelope);
  const without = (name: string): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...base };
    delete copy[name];
    return copy;
  };

  it.each<[string, Record<string, unknown>, string]>([
    ["a missing specversion", without("specversion"), "specversion"],
    ["specversion 0.3", { ...base, specversion: "0.3" }, "specversion"],
    ["a missing id", without("id"), "id"],
    ["an id that is not a UUID", { ...base, id: "A234-1234-1234" }, "id"],
    ["a missing source", without("source"), "source"],
    ["a source with spaces", { ...base, source: "a b" }, "source"],
    ["an unversioned type", { ...base, type: "order.created" }, "type"],
    ["a missing time", without("time"), "time"],
    ["a time without offset", { ...base, time: "2024-05-01T12:00:00" }, "time"],
    ["a text datacontenttype", { ...base, datacontenttype: "text/plain" }, "datacontenttype"],
    ["binary data", { ...without("data"), data_base64: "AAAA" }, "data_base64"],
    ["no data", without("data"), "data"],
    ["array data", { ...base, data: [1, 2] }, "data"],
    ["a numeric correlationid", { ...base, correlationid: 7 }, "correlationid"],
    ["a partial aggregate", without("aggregateid"), "aggregateid"],
    ["a bad aggregate version", { ...base, aggregateversion: "07" }, "aggregateversion"],
    ["a zero aggregate version", { ...base, aggregateversion: 0 }, "aggregateversion"],
    [
      "a bad aggregate type",
      { ...base, aggregatetype: "a/b", subject: "a/b/123" },
      "aggregatetype",
    ],
    ["a subject that is not the aggregate", { ...base, subject: "order/999" }, "subject"],
    [
      "a subject without aggregate",
      {
        ...without("aggregatetype"),
        aggregateid: undefined,
        aggregateversion: undefined,
      },
      "subject",
    ],
    ["heraldmetadata that is not JSON", { ...base, heraldmetadata: "{" }, "heraldmetadata"],
    ["heraldmetadata that is not an object", { ...base, heraldmetadata: "[1]" }, "heraldmetadata"],
    ["a key in both places", { ...base, retries: "3" }, "retries"],
    ["an object extension", { ...base, tenant: { a: 1 } }, "tenant"],
    ["a float extension", { ...base, ratio: 0.5 }, "ratio"],
    ["an invalid attribute name", { ...base, "Bad-Name": "x" }, "Bad-Name"],
  ])("%s", (_name, event, attribute) => {
    expect(attributeOf(() => fromCloudEvent(event))).toBe(attribute);
  });

  it("says where in data a value is wrong", () => {
    try {
      fromCloudEvent({ ...base, data: { items: [{ price: Number.NaN }] } });
      throw new Error("expected cloudevent.invalid");
    } catch (error) {
      expect(error).toMatchObject({
        code: "cloudevent.invalid",
        details: { attribute: "data", path: "data.items[0].price" },
      });
      expect((error as Error).message).toMatch(/^Invalid CloudEvent: data\.items\[0\]\.price /);
    }
  });

  it("treats null attributes as absent", () => {
    expect(fromCloudEvent({ ...base, correlationid: null })).not.toHaveProperty("correlationId");
  });

  it("rejects a body that is not JSON, or not UTF-8", () => {
    expect(attributeOf(() => fromStructured("{"))).toBe("the body");
    expect(attributeOf(() => fromStructured(new Uint8Array([0xff])))).toBe("the body");
    const { headers } = toBinary(envelope);
    expect(attributeOf(() => fromBinary(headers, "{"))).toBe("data");
    expect(attributeOf(() => fromBinary(headers, ""))).toBe("data");
  });

  it("rejects malformed binary headers", () => {
    const { headers, body } = toBinary(envelope);
    expect(attributeOf(() => fromBinary({ ...headers, "ce-tenant": "a%2" }, body))).toBe("tenant");
    expect(attributeOf(() => fromBinary({ ...headers, "ce-tenant": "%FF" }, body))).toBe("tenant");
    expect(attributeOf(() => fromBinary({ ...headers, "ce-tenant": ["a", "b"] }, body))).toBe(
      "tenant",
    );
    expect(attributeOf(() => fromBinary({ ...headers, "ce-data": "{}" }, body))).toBe("data");
    expect(attributeOf(() => fromBinary({ ...headers, "ce-__proto__": "x" }, body))).toBe(
      "__proto__",
    );
    const { "ce-specversion": _v, ...noVersion } = headers;
    expect(attributeOf(() => fromBinary(noVersion, body))).toBe("specversion");
  });

  it("refuses a lone surrogate in a binary header; structured mode carries it", () => {
    const odd = { ...envelope, correlationId: "a\ud800b" };
    expect(attributeOf(() => toBinary(odd))).toBe("correlationid");
    expect(fromStructured(toStructured(odd).body)).toEqual(odd);
  });
});

describe("fromHttp", () => {
  it("tells the modes apart by content-type, with any header shape", () => {
    const structured = toStructured(envelope);
    expect(fromHttp(structured.headers, structured.body)).toEqual(envelope);
    const binary = toBinary(envelope);
    expect(fromHttp(new Headers(binary.headers), Buffer.from(binary.body))).toEqual(envelope);
    const upper = Object.fromEntries(
      Object.entries(binary.headers).map(([name, value]) => [name.toUpperCase(), [value]]),
    );
    expect(fromHttp(upper, binary.body)).toEqual(envelope);
  });

  it("refuses batch mode", () => {
    const headers = { "content-type": "application/cloudevents-batch+json" };
    expect(attributeOf(() => fromHttp(headers, "[]"))).toBe("datacontenttype");
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over arbitrary valid envelopes
// ---------------------------------------------------------------------------------------------

/** JSON values as they come back from JSON.parse (no -0). */
const json: fc.Arbitrary<JsonValue> = fc
  .jsonValue()
  .map((value) => JSON.parse(JSON.stringify(value)) as JsonValue);
// biome-ignore lint/suspicious/noControlCharactersInRegex: envelope strings hold none
const noControl = (text: string) => !/[\u0000-\u001f\u007f]/.test(text);
const text = (unit: "grapheme" | "binary") =>
  fc.string({ unit, minLength: 1, maxLength: 40 }).filter(noControl);
const occurredAt = fc
  .tuple(
    fc.date({
      min: new Date("1970-01-01T00:00:00Z"),
      max: new Date("2999-12-31T00:00:00Z"),
      noInvalidDate: true,
    }),
    fc.integer({ min: 0, max: 9 }),
    fc.option(fc.integer({ min: -14 * 60, max: 14 * 60 }), { nil: undefined }),
  )
  .map(([date, digits, offset]) => {
    const iso = date.toISOString();
    const fraction =
      digits === 0 ? "" : `.${iso.slice(20, 23).padEnd(digits, "7").slice(0, digits)}`;
    const zone =
      offset === undefined
        ? "Z"
        : `${offset < 0 ? "-" : "+"}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0")}:${String(Math.abs(offset) % 60).padStart(2, "0")}`;
    return `${iso.slice(0, 19)}${fraction}${zone}`;
  })
  .filter(isIsoDateTime);
const metadataKey = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,20}$/),
  fc.constantFrom("subject", "id", "data", "heraldmetadata", "dataschema", "aggregateid"),
  fc.string({ maxLength: 25 }),
);
const metadataValue = fc.oneof(json, fc.string(), fc.constant("https://example.com/schema.json"));

function arbitraryEnvelope(unit: "grapheme" | "binary"): fc.Arbitrary<EventEnvelope> {
  return fc
    .record(
      {
        id: fc.uuid(),
        type: fc.stringMatching(/^[a-z][a-z0-9_]{0,10}(\.[a-z0-9_]{1,10}){0,3}\.v[1-9][0-9]{0,3}$/),
        occurredAt,
        source: text(unit).filter((value) => !/\s/.test(value)),
        correlationId: text(unit),
        causationId: text(unit),
        aggregate: fc.record({
          type: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,20}$/),
          id: text(unit),
          version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        }),
        payload: fc.dictionary(fc.string(), json, { maxKeys: 5 }),
        metadata: fc.dictionary(metadataKey, metadataValue, { maxKeys: 6 }),
      },
      { requiredKeys: ["id", "type", "occurredAt", "source", "payload", "metadata"] },
    )
    .map((candidate) => validateEnvelope(candidate));
}

describe("round trips (fast-check)", () => {
  it("envelope → CloudEvent → envelope is the identity", () => {
    fc.assert(
      fc.property(arbitraryEnvelope("binary"), (e) => {
        const event: CloudEvent = toCloudEvent(e);
        expect(fromCloudEvent(event)).toEqual(e);
      }),
      { numRuns: 300 },
    );
  });

  it("envelope → structured mode → envelope is the identity", () => {
    fc.assert(
      fc.property(arbitraryEnvelope("binary"), (e) => {
        const { headers, body } = toStructured(e);
        expect(fromStructured(body)).toEqual(e);
        expect(fromHttp(headers, Buffer.from(body, "utf8"))).toEqual(e);
      }),
      { numRuns: 300 },
    );
  });

  it("envelope → binary mode → envelope is the identity", () => {
    fc.assert(
      fc.property(arbitraryEnvelope("grapheme"), (e) => {
        const { headers, body } = toBinary(e);
        for (const value of Object.values(headers)) expect(value).toMatch(/^[\u0021-\u007e]+$/);
        expect(fromBinary(headers, body)).toEqual(e);
        expect(fromHttp(headers, Buffer.from(body, "utf8"))).toEqual(e);
      }),
      { numRuns: 300 },
    );
  });

  it("every produced CloudEvent uses valid attribute names and value types", () => {
    fc.assert(
      fc.property(arbitraryEnvelope("binary"), (e) => {
        for (const [name, value] of Object.entries(toCloudEvent(e))) {
          if (name === "data") continue;
          expect(name).toMatch(/^[a-z0-9]{1,20}$/);
          expect(["string", "number"]).toContain(typeof value);
          if (typeof value === "number") expect(value).toBeLessThanOrEqual(2_147_483_647);
        }
      }),
      { numRuns: 200 },
    );
  });
});
