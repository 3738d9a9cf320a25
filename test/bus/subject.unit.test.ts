// Subjects and the envelope encoding: what lands on the wire for a given event.
import { createEnvelope } from "@heraldjs/core";
import { describe, expect, it } from "vitest";
import {
  BUS_HEADERS,
  envelopeToMessage,
  messageToEnvelope,
} from "../../packages/core/src/bus/envelopeCodec.js";
import { encodeSubjectToken, subjectFor } from "../../packages/core/src/bus/subject.js";
import { subjectMatches } from "../../packages/core/src/bus/subjectMatch.js";

const order = createEnvelope({
  type: "order.created.v1",
  source: "billing",
  payload: { total: 42 },
  aggregate: { type: "order", id: "123", version: 1 },
  correlationId: "corr-1",
});

describe("subjectFor", () => {
  it("is <prefix>.<source>.<aggregateType>.<eventType>, the type's dots kept as tokens", () => {
    expect(subjectFor(order)).toBe("herald.billing.order.order.created.v1");
    expect(subjectFor(order, { prefix: "acme.events" })).toBe(
      "acme.events.billing.order.order.created.v1",
    );
    expect(subjectFor(order, { prefix: "" })).toBe("billing.order.order.created.v1");
  });

  it("uses _ for an event without an aggregate", () => {
    const { aggregate: _, ...loose } = order;
    expect(subjectFor(loose)).toBe("herald.billing._.order.created.v1");
  });

  it("encodes dots, wildcards, whitespace and % in names so each stays one token", () => {
    const odd = {
      ...order,
      source: "billing.eu*>",
      aggregate: { type: "sales.order", id: "1", version: 1 },
    };
    expect(subjectFor(odd)).toBe("herald.billing%2Eeu%2A%3E.sales%2Eorder.order.created.v1");
    expect(encodeSubjectToken("a b\tc")).toBe("a%20b%09c");
    // Injective: a literal "%2E" cannot collide with an encoded ".".
    expect(encodeSubjectToken("a%2Eb")).toBe("a%252Eb");
    expect(encodeSubjectToken("a.b")).not.toBe(encodeSubjectToken("a%2Eb"));
  });

  it("rejects a prefix NATS would misread", () => {
    for (const prefix of ["a.", ".a", "a..b", "a b", "a.*", ">"]) {
      expect(() => subjectFor(order, { prefix })).toThrow(
        expect.objectContaining({ code: "config.invalid" }),
      );
    }
  });

  it("every subject it makes matches the default stream filter", () => {
    expect(subjectMatches("herald.>", subjectFor(order))).toBe(true);
    expect(subjectMatches("herald.billing.order.order.created.*", subjectFor(order))).toBe(true);
    expect(subjectMatches("herald.*.*.order.>", subjectFor(order))).toBe(true);
    expect(subjectMatches("herald.shipping.>", subjectFor(order))).toBe(false);
    expect(subjectMatches("herald.>", "herald")).toBe(false);
    expect(subjectMatches("a.*", "a.b.c")).toBe(false);
  });
});

describe("envelope ↔ bus message", () => {
  it("carries the envelope as JSON and routing fields as headers", () => {
    const message = envelopeToMessage(order);
    expect(message.id).toBe(order.id);
    expect(message.subject).toBe("herald.billing.order.order.created.v1");
    expect(JSON.parse(new TextDecoder().decode(message.data))).toEqual(order);
    expect(message.headers).toEqual({
      [BUS_HEADERS.contentType]: "application/json",
      [BUS_HEADERS.eventId]: order.id,
      [BUS_HEADERS.eventType]: "order.created.v1",
      [BUS_HEADERS.source]: "billing",
      [BUS_HEADERS.correlationId]: "corr-1",
    });
    expect(messageToEnvelope(message)).toEqual(order);
  });

  it("takes an explicit subject", () => {
    expect(envelopeToMessage(order, { subject: "custom.subject" }).subject).toBe("custom.subject");
  });

  it("rejects bodies that are not v1 envelopes as envelope.invalid", () => {
    const bad = (text: string) => ({ data: new TextEncoder().encode(text) });
    expect(() => messageToEnvelope(bad("not json"))).toThrow(
      expect.objectContaining({ code: "envelope.invalid" }),
    );
    expect(() => messageToEnvelope(bad('{"id":"x"}'))).toThrow(
      expect.objectContaining({ code: "envelope.invalid" }),
    );
    expect(() => messageToEnvelope({ data: new Uint8Array([0xff, 0xfe]) })).toThrow(
      expect.objectContaining({ code: "envelope.invalid" }),
    );
  });
});
