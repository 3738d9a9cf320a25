import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { SourceRecord } from "../../packages/core/src/store/deliveryPorts.js";
import {
  bodyKind,
  checkDedupeKey,
  inboundIdempotencyKey,
  messageType,
  parsePayload,
} from "../../packages/server/src/server/ingest/inboundRequest.js";
import { dedupeIdentity } from "../../packages/webhooks/src/inbound/dedupeKey.js";
import type { WebhookScheme } from "../../packages/webhooks/src/signing/types.js";

const source = (patch: Partial<SourceRecord> = {}): SourceRecord => ({
  name: "acme",
  scheme: "standard",
  schemeOptions: null,
  secrets: [],
  toleranceS: 300,
  idempotencyHeader: null,
  idempotencyRequired: false,
  dedupeTtlS: 259200,
  typeFrom: { fixed: "received" },
  allowFrom: [],
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  ...patch,
});
const bytes = (text: string) => new TextEncoder().encode(text);
const headers =
  (values: Record<string, string>) =>
  (name: string): string | undefined =>
    values[name.toLowerCase()];

describe("bodyKind", () => {
  it.each([
    ["application/json", "json"],
    ["Application/JSON; charset=utf-8", "json"],
    ["application/cloudevents+json", "json"],
    ["application/x-www-form-urlencoded", "form"],
    ["text/plain", undefined],
    ["multipart/form-data; boundary=x", undefined],
    ["application/jsonx", undefined],
    [undefined, undefined],
  ])("%s → %s", (type, kind) => {
    expect(bodyKind(type)).toBe(kind);
  });
});

describe("parsePayload", () => {
  it("parses JSON, keeping its text as received, and form fields, a repeated field as a list", () => {
    const text = '{ "a": [1, "é"] }';
    expect(parsePayload(bytes(text), "json")).toEqual({ payload: { a: [1, "é"] }, text });
    expect(parsePayload(bytes("To=%2B1555&Body=hi+there&x=1&x=2"), "form")).toEqual({
      payload: { To: "+1555", Body: "hi there", x: ["1", "2"] },
    });
  });

  it("rejects invalid JSON and invalid UTF-8 with their codes", () => {
    expect(() => parsePayload(bytes("{"), "json")).toThrow(
      expect.objectContaining({ code: "body.invalid_json" }),
    );
    expect(() => parsePayload(new Uint8Array([0x7b, 0xff, 0x7d]), "json")).toThrow(
      expect.objectContaining({ code: "body.invalid_utf8" }),
    );
  });
});

describe("checkDedupeKey", () => {
  const body = bytes('{"id":1}');
  const identity = (source: SourceRecord, values: Record<string, string>, id?: string) =>
    dedupeIdentity({
      scheme: { deliveryId: () => undefined } as unknown as WebhookScheme,
      verifiedId: id,
      idempotencyHeader: source.idempotencyHeader,
      header: headers(values),
      body,
    });

  it("takes the one inbound rule: the scheme's id, then the source's header, then a body hash", () => {
    const withHeader = source({ idempotencyHeader: "Idempotency-Key" });
    expect(identity(withHeader, { "idempotency-key": "k1" }, "msg_1").key).toBe("id:msg_1");
    expect(identity(withHeader, { "idempotency-key": "k1" }).key).toBe("header:k1");
    expect(identity(source(), {}).key).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("requires the key when the source says so, and bounds the header", () => {
    const noId = source({ idempotencyRequired: true });
    expect(() => checkDedupeKey(noId, headers({}), identity(noId, {}))).toThrow(
      expect.objectContaining({ code: "idempotency.missing" }),
    );
    expect(() => checkDedupeKey(noId, headers({}), identity(noId, {}, "msg_1"))).not.toThrow();
    const long = source({ idempotencyHeader: "X-Event-Id" });
    const values = { "x-event-id": "x".repeat(1025) };
    expect(() => checkDedupeKey(long, headers(values), identity(long, values, "msg_1"))).toThrow(
      expect.objectContaining({ code: "idempotency.invalid" }),
    );
    const fits = { "x-event-id": "x".repeat(1024) };
    expect(() => checkDedupeKey(long, headers(fits), identity(long, fits))).not.toThrow();
  });
});

describe("inboundIdempotencyKey", () => {
  const of = (values: Record<string, string>, id?: string) =>
    inboundIdempotencyKey(
      dedupeIdentity({
        scheme: { deliveryId: () => undefined } as unknown as WebhookScheme,
        verifiedId: id,
        idempotencyHeader: "Idempotency-Key",
        header: headers(values),
        body: bytes("{}"),
      }),
    );

  it("is the id the dedupe used: the scheme's id, else the header; null for a body hash", () => {
    expect(of({ "idempotency-key": "k1" }, "msg_1")).toBe("msg_1");
    expect(of({ "idempotency-key": " k1 " })).toBe("k1");
    expect(of({})).toBeNull();
  });

  it("stores an id longer than 4096 characters as its SHA-256, a shorter one whole", () => {
    const long = "i".repeat(4097);
    expect(of({}, long)).toBe(`sha256:${createHash("sha256").update(long).digest("hex")}`);
    expect(of({}, long.slice(1))).toBe(long.slice(1));
  });
});

describe("messageType", () => {
  it("takes the type from a body path, a header, or a fixed name", () => {
    const payload = { type: "charge.succeeded", data: { kind: "x" } };
    expect(messageType(source({ typeFrom: { body: "type" } }), headers({}), payload)).toBe(
      "acme.charge.succeeded",
    );
    expect(messageType(source({ typeFrom: { body: "data.kind" } }), headers({}), payload)).toBe(
      "acme.x",
    );
    expect(
      messageType(
        source({ typeFrom: { header: "X-GitHub-Event" } }),
        headers({ "x-github-event": "push" }),
        {},
      ),
    ).toBe("acme.push");
    expect(messageType(source(), headers({}), {})).toBe("acme.received");
  });

  it("rejects a missing or unusable type", () => {
    expect(() => messageType(source({ typeFrom: { body: "type" } }), headers({}), {})).toThrow(
      expect.objectContaining({ code: "type.missing" }),
    );
    expect(() => messageType(source({ typeFrom: { body: "type" } }), headers({}), [1])).toThrow(
      expect.objectContaining({ code: "type.missing" }),
    );
    expect(() =>
      messageType(source({ typeFrom: { body: "type" } }), headers({}), { type: "a b" }),
    ).toThrow(expect.objectContaining({ code: "type.invalid" }));
    expect(() =>
      messageType(source({ typeFrom: { body: "type" } }), headers({}), { type: "a.*" }),
    ).toThrow(expect.objectContaining({ code: "type.invalid" }));
  });
});
