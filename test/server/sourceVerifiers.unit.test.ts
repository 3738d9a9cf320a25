// Sources verified by something other than a signature, through the ingestor: token and basic
// are checked before the body is read, an unsigned source needs the service's opt-in and its
// idempotency header, and allow_from limits the sender's address.
import { describe, expect, it } from "vitest";
import type { SourceRecord } from "../../packages/core/src/store/deliveryPorts.js";
import type { GroupCommitter } from "../../packages/server/src/server/ingest/groupCommit.js";
import { createIngestor } from "../../packages/server/src/server/ingest/ingestor.js";
import { createSourceCache } from "../../packages/server/src/server/ingest/sourceCache.js";
import { toSourceInput } from "../../packages/server/src/wire/source.js";
import { sourceRecord } from "./sourceRecord.js";

const TOKEN = "tok_0123456789abcdef";
const PAIR = "acme:correct-horse-battery";
const NOW = "2026-01-01T00:00:00.000Z";

/** An ingestor of one source whose committer keeps each key it is given (a duplicate: 200). */
function ingestorFor(source: SourceRecord, options: { allowUnsigned?: boolean } = {}) {
  const keys = new Map<string, string>();
  const unusable: string[] = [];
  const committer: GroupCommitter = {
    async submit(input) {
      const key = input.dedupe?.key ?? "";
      const seen = keys.get(key);
      const id = seen ?? `msg_${keys.size + 1}`;
      keys.set(key, id);
      const message = {
        id,
        tenant: "default",
        type: input.message.type,
        source: input.message.source ?? null,
        payload: input.message.payload,
        idempotencyKey: null,
        inboundIdempotencyKey: input.message.inboundIdempotencyKey ?? null,
        createdAt: NOW,
      };
      return { message, deliveries: [], created: seen === undefined };
    },
    drain: async () => {},
    pending: 0,
  };
  const sources = createSourceCache(
    { getSource: async (name) => (name === source.name ? source : undefined) },
    { allowUnsigned: options.allowUnsigned ?? false, onUnusable: (_s, why) => unusable.push(why) },
  );
  const ingestor = createIngestor({ sources, committer });
  const send = (headers: Record<string, string>, body = '{"a":1}', remoteAddress = "127.0.0.1") =>
    ingestor.handle({
      source: source.name,
      headers: { "content-type": "application/json", ...lower(headers) },
      body: new TextEncoder().encode(body),
      url: "http://localhost/webhooks/src",
      remoteAddress,
    });
  return { send, keys, unusable, ingestor };
}

function lower(headers: Record<string, string>) {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

const basic = (pair: string) => `Basic ${Buffer.from(pair).toString("base64")}`;

describe("token sources", () => {
  it("take the right bearer token (202), refuse a wrong or missing one (401) before the body", async () => {
    const { send, ingestor } = ingestorFor(sourceRecord({ scheme: "token", secrets: [TOKEN] }));
    expect((await send({ Authorization: `Bearer ${TOKEN}` })).status).toBe(202);
    const wrong = await send({ Authorization: `Bearer ${TOKEN}0` });
    expect(wrong).toMatchObject({ status: 401, code: "credentials.invalid" });
    expect(JSON.stringify(wrong.body)).not.toContain(TOKEN);
    expect(await send({})).toMatchObject({ status: 401, code: "credentials.missing" });
    // Refused at admission: the body is never needed.
    const admission = await ingestor.admit({
      source: "src",
      headers: { "content-type": "application/json", authorization: "Bearer nope-nope-nope-nope" },
      url: "http://localhost/webhooks/src",
    });
    expect(admission).toMatchObject({ ok: false, response: { status: 401 } });
  });

  it("read the token from the source's own header when it names one", async () => {
    const { send } = ingestorFor(
      sourceRecord({
        scheme: "token",
        secrets: [TOKEN],
        schemeOptions: { header: "X-Hook-Token" },
      }),
    );
    expect((await send({ "X-Hook-Token": TOKEN })).status).toBe(202);
    expect((await send({ Authorization: `Bearer ${TOKEN}` })).status).toBe(401);
  });

  it("dedupe by the idempotency header when set, else by the body", async () => {
    const { send } = ingestorFor(
      sourceRecord({ scheme: "token", secrets: [TOKEN], idempotencyHeader: "Idempotency-Key" }),
    );
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const first = await send({ ...auth, "Idempotency-Key": "k1" }, '{"a":1}');
    const again = await send({ ...auth, "Idempotency-Key": "k1" }, '{"a":2}');
    expect(again).toMatchObject({ status: 200, messageId: first.messageId });
    expect((await send({ ...auth, "Idempotency-Key": "k2" }, '{"a":1}')).status).toBe(202);
  });
});

describe("basic sources", () => {
  it("take the right pair and refuse a wrong or missing one", async () => {
    const { send } = ingestorFor(sourceRecord({ scheme: "basic", secrets: [PAIR] }));
    expect((await send({ Authorization: basic(PAIR) })).status).toBe(202);
    expect(await send({ Authorization: basic("acme:not-the-password") })).toMatchObject({
      status: 401,
      code: "credentials.invalid",
    });
    expect(await send({})).toMatchObject({ status: 401, code: "credentials.missing" });
  });
});

describe("unsigned sources", () => {
  const unsigned = sourceRecord({
    scheme: "none",
    idempotencyHeader: "Idempotency-Key",
    idempotencyRequired: true,
  });

  it("need the idempotency header; the same key answers the first message", async () => {
    const { send } = ingestorFor(unsigned, { allowUnsigned: true });
    const first = await send({ "Idempotency-Key": "order-1" });
    expect(first.status).toBe(202);
    const again = await send({ "Idempotency-Key": "order-1" });
    expect(again).toMatchObject({ status: 200, messageId: first.messageId });
    expect(await send({})).toMatchObject({ status: 400, code: "idempotency.missing" });
    expect(await send({ "Idempotency-Key": "order-2" }, "{nope")).toMatchObject({
      status: 400,
      code: "body.invalid_json",
    });
  });

  it("are not served without the opt-in: 503 source.misconfigured, and the operator is told why", async () => {
    const { send, unusable } = ingestorFor(unsigned);
    expect(await send({ "Idempotency-Key": "x" })).toMatchObject({
      status: 503,
      code: "source.misconfigured",
    });
    expect(unusable[0]).toMatch(/allow_unsigned/);
  });

  it("cannot be created without the opt-in, and always require their idempotency header", () => {
    expect(() => toSourceInput({ name: "u", scheme: "none" })).toThrow(
      expect.objectContaining({ code: "source.unsigned_not_allowed" }),
    );
    const input = toSourceInput({ name: "u", scheme: "none" }, { allowUnsigned: true });
    expect(input).toMatchObject({
      scheme: "none",
      secrets: [],
      idempotencyHeader: "Idempotency-Key",
      idempotencyRequired: true,
    });
    expect(
      toSourceInput(
        { name: "u", scheme: "none", idempotency_required: false, idempotency_header: "X-Key" },
        { allowUnsigned: true },
      ),
    ).toMatchObject({ idempotencyHeader: "X-Key", idempotencyRequired: true });
    expect(() =>
      toSourceInput({ name: "u", scheme: "none", secrets: [TOKEN] }, { allowUnsigned: true }),
    ).toThrow(/secrets: must be empty/);
  });
});

describe("source input rules", () => {
  it("check credentials, token_header and allow_from like signing secrets", () => {
    const bad = (wire: Parameters<typeof toSourceInput>[0]) => () => toSourceInput(wire);
    expect(bad({ name: "t", scheme: "token" })).toThrow(/secrets: needs at least one/);
    expect(bad({ name: "t", scheme: "token", secrets: ["short"] })).toThrow(/secrets\[0\]/);
    expect(bad({ name: "b", scheme: "basic", secrets: ["nocolon-long-enough"] })).toThrow(
      /user:password/,
    );
    expect(bad({ name: "g", scheme: "github", secrets: [] })).toThrow(/needs at least one/);
    expect(bad({ name: "g", scheme: "github", secrets: ["s"], token_header: "X-T" })).toThrow(
      /token_header/,
    );
    expect(
      bad({ name: "t", scheme: "token", secrets: [TOKEN], allow_from: ["10.0.0.0/33"] }),
    ).toThrow(/allow_from\[0\]: must be an IP address or a CIDR/);
    expect(
      toSourceInput({
        name: "t",
        scheme: "token",
        secrets: [TOKEN],
        token_header: "X-Hook-Token",
        allow_from: ["10.0.0.0/8", "::1"],
      }),
    ).toMatchObject({
      schemeOptions: { header: "X-Hook-Token" },
      allowFrom: ["10.0.0.0/8", "::1"],
    });
  });
});

describe("allow_from", () => {
  it("refuses senders outside the list with 403, before any credential is looked at", async () => {
    const { send } = ingestorFor(
      sourceRecord({ scheme: "token", secrets: [TOKEN], allowFrom: ["10.1.0.0/16", "::1"] }),
    );
    const auth = { Authorization: `Bearer ${TOKEN}` };
    expect((await send(auth, '{"a":1}', "10.1.2.3")).status).toBe(202);
    expect((await send(auth, '{"a":2}', "::1")).status).toBe(202);
    expect((await send(auth, '{"a":3}', "::ffff:10.1.9.9")).status).toBe(202);
    expect(await send({}, '{"a":4}', "10.2.0.1")).toMatchObject({
      status: 403,
      code: "source.sender_not_allowed",
    });
  });
});
