// The ingestor is the inbound pipeline's shared stages plus "store as message": what it hands
// the store for a verified webhook (the dedupe key by the one inbound rule, the body's JSON text
// as received), and a real store keeping that text.
import { afterEach, describe, expect, it } from "vitest";
import type { CreateMessageInput } from "../../packages/core/src/model/deliveryOperations.js";
import type { SourceRecord } from "../../packages/core/src/store/deliveryPorts.js";
import type { GroupCommitter } from "../../packages/server/src/server/ingest/groupCommit.js";
import { createIngestor } from "../../packages/server/src/server/ingest/ingestor.js";
import { createSourceCache } from "../../packages/server/src/server/ingest/sourceCache.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { signWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { migratedSqlite } from "../helpers/sqlite.js";

const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

const source = (): SourceRecord => ({
  name: "std",
  scheme: "standard",
  schemeOptions: null,
  secrets: [secret],
  toleranceS: 300,
  idempotencyHeader: "Idempotency-Key",
  idempotencyRequired: false,
  dedupeTtlS: 60,
  typeFrom: { body: "type" },
  allowFrom: [],
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
});

/** An ingestor of the source `std` whose committer records what it is given. */
function capturing() {
  const inputs: CreateMessageInput[] = [];
  const committer: GroupCommitter = {
    async submit(input) {
      inputs.push(input);
      const message = {
        id: `msg_${inputs.length}`,
        tenant: "default",
        type: input.message.type,
        source: input.message.source ?? null,
        payload: input.message.payload,
        idempotencyKey: null,
        inboundIdempotencyKey: input.message.inboundIdempotencyKey ?? null,
        createdAt: "2026-01-01T00:00:00.000Z",
      };
      return { message, deliveries: [], created: true };
    },
    drain: async () => {},
    pending: 0,
  };
  const ingestor = createIngestor({
    sources: createSourceCache({ getSource: async () => source() }),
    committer,
  });
  return { ingestor, inputs };
}

function webhook(body: string, extra: Record<string, string> = {}, id = "msg_signed") {
  return {
    source: "std",
    headers: {
      "content-type": "application/json",
      ...Object.fromEntries(
        Object.entries(signWebhook({ scheme: "standard", secret, body, id })).map(([k, v]) => [
          k.toLowerCase(),
          v,
        ]),
      ),
      ...extra,
    },
    body: new TextEncoder().encode(body),
    url: "http://localhost/webhooks/std",
  };
}

describe("ingestor", () => {
  it("keys a webhook by the scheme's signed id before the source's idempotency header", async () => {
    const { ingestor, inputs } = capturing();
    const body = '{"type":"a"}';
    await ingestor.handle(webhook(body, { "idempotency-key": "first" }));
    await ingestor.handle(webhook(body, { "idempotency-key": "rewritten" }));
    expect(inputs.map((input) => input.dedupe?.key)).toEqual(["id:msg_signed", "id:msg_signed"]);
  });

  it("hands the store the JSON body's text as received, and form fields without one", async () => {
    const { ingestor, inputs } = capturing();
    const text = '{ "type" : "a",\n  "n": 1.50, "big": 12345678901234567890 }';
    expect((await ingestor.handle(webhook(text))).status).toBe(202);
    expect(inputs[0]?.message).toEqual({
      type: "std.a",
      source: "std",
      payload: JSON.parse(text),
      payloadText: text,
      inboundIdempotencyKey: "msg_signed",
    });
    const form = { ...webhook("type=b", {}, "msg_form") };
    form.headers["content-type"] = "application/x-www-form-urlencoded";
    expect((await ingestor.handle(form)).status).toBe(202);
    expect(inputs[1]?.message.payloadText).toBeUndefined();
  });
});

describe("store as message", () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => {
    cleanup?.();
    cleanup = undefined;
  });

  it("stores an ingested JSON body's text exactly as received (SQLite)", async () => {
    const sqlite = migratedSqlite();
    cleanup = sqlite.cleanup;
    const store = createSqliteDeliveryStore(sqlite.db);
    const text = '{ "type": "a", "b": [1, 2.5, "x"], "big": 12345678901234567890 }';
    const input: CreateMessageInput = {
      message: { type: "std.a", source: "std", payload: JSON.parse(text), payloadText: text },
      deliveries: [],
    };
    const [result] = await store.createMessages([input]);
    const row = sqlite.db
      .prepare("SELECT payload FROM messages WHERE id = ?")
      .get(result!.message.id) as { payload: string };
    expect(row.payload).toBe(text);
  });
});
