// A table of bad requests against one running `herald serve` (SQLite), each with the status AND
// the stable error code the HTTP contract promises; afterwards the server still answers /health
// and accepts a valid webhook, and nothing was ever answered 5xx. A second server with
// HERALD_API_KEY checks the bearer key of /v1.
//
// What breaking it shows: a parser or validator error that escapes the error handler shows as a
// 500 (or Fastify's own error shape without `error.code`); a body parsed before the signature is
// checked turns signature errors into JSON errors; a missing source/route check shows as another
// status; a crash on a hostile input (huge body, huge header, SQL-ish names) fails the final
// /health and webhook checks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  createEndpoint,
  createStripeSource,
  errorCode,
  type HttpResult,
  makeTempDir,
  newStripeSecret,
  type RawResponse,
  rawRequest,
  send,
  stripeEvent,
  stripeHeaders,
} from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";

interface Answer {
  status: number | null;
  code: string | undefined;
}

interface Case {
  name: string;
  status: number;
  /** The error code; null: no JSON body is expected (e.g. Node's own 431). */
  code: string | null;
  run(): Promise<Answer>;
}

const cwds: Awaited<ReturnType<typeof makeTempDir>>[] = [];
const servers: HeraldProcess[] = [];

async function start(env: Record<string, string | undefined> = {}): Promise<HeraldProcess> {
  const cwd = await makeTempDir("bad-input");
  cwds.push(cwd);
  const herald = await startHerald({
    cwd: cwd.path,
    args: ["--db", `${cwd.path}/herald.db`, "--no-worker"],
    env: { HERALD_API_KEY: undefined, HERALD_CONFIG: undefined, HERALD_DB: undefined, ...env },
  });
  servers.push(herald);
  return herald;
}

afterAll(async () => {
  for (const s of servers) await s.kill9();
  for (const c of cwds) await c.remove();
});

function fromHttp(r: HttpResult): Answer {
  return { status: r.status, code: errorCode(r) };
}

function fromRaw(r: RawResponse): Answer {
  const split = r.text.indexOf("\r\n\r\n");
  let code: string | undefined;
  try {
    code = (JSON.parse(r.text.slice(split + 4)) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: r.status, code };
}

describe("bad input", () => {
  let herald: HeraldProcess;
  let base = "";
  const secret = newStripeSecret();
  const statuses: number[] = [];

  beforeAll(async () => {
    herald = await start();
    base = herald.url ?? "";
    await createStripeSource(base, "stripe", secret);
    await createStripeSource(base, "strict", secret, {
      idempotency_header: "Idempotency-Key",
      idempotency_required: true,
    });
    // Not reached (no worker): one delivery per stored message, to count them at the end.
    await createEndpoint(base, "http://127.0.0.1:9/never", ["*"]);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const hook = (
    body: string | Buffer,
    headers: Record<string, string>,
    source = "stripe",
  ): Promise<Answer> =>
    send(`${base}/webhooks/${source}`, { method: "POST", headers, body: Buffer.from(body) }).then(
      fromHttp,
    );
  const signed = (body: string | Buffer, extra: Record<string, string> = {}, source = "stripe") =>
    hook(body, { ...stripeHeaders(secret, body), ...extra }, source);
  const get = (path: string) => send(`${base}${path}`).then(fromHttp);
  const call = (method: string, path: string, body: string, type = "application/json") =>
    send(`${base}${path}`, {
      method,
      headers: { "content-type": type },
      body: Buffer.from(body),
    }).then(fromHttp);
  const event = stripeEvent("evt_bad_input");
  const host = () => new URL(base).host;

  const cases: Case[] = [
    // ---- ingestion: the body
    {
      name: "malformed JSON, signed correctly",
      status: 400,
      code: "body.invalid_json",
      run: () => signed('{"id":"evt_1","type":"charge.succeeded",'),
    },
    {
      name: "empty body, signed, JSON content type",
      status: 400,
      code: "body.invalid_json",
      run: () => signed(""),
    },
    {
      name: "invalid UTF-8, signed correctly",
      status: 400,
      code: "body.invalid_utf8",
      run: () =>
        signed(
          Buffer.concat([
            Buffer.from('{"id":"evt_utf8","type":"charge.succeeded","name":"'),
            Buffer.from([0xff, 0xfe, 0xc3]),
            Buffer.from('"}'),
          ]),
        ),
    },
    {
      // Valid JSON that SQLite's json_valid refused (a 500 leaking its CHECK constraint).
      name: "JSON nested 1,000 levels, signed correctly",
      status: 400,
      code: "body.too_deep",
      run: () => signed(`{"id":"evt_deep","type":"a.b","x":${"[".repeat(999)}${"]".repeat(999)}}`),
    },
    {
      name: "\\u0000 in a JSON string, signed correctly",
      status: 400,
      code: "text.invalid",
      run: () => signed('{"id":"evt_nul","type":"charge.succeeded","x":"\\u0000"}'),
    },
    {
      name: "an unpaired surrogate escape in a JSON string, signed correctly",
      status: 400,
      code: "text.invalid",
      run: () => signed('{"id":"evt_sur","type":"charge.succeeded","x":"\\ud800"}'),
    },
    {
      name: "no content type",
      status: 415,
      code: "content_type.unsupported",
      run: () => hook(event, signedWithout(stripeHeaders(secret, event), "content-type")),
    },
    {
      name: "text/plain",
      status: 415,
      code: "content_type.unsupported",
      run: () => signed(event, { "content-type": "text/plain" }),
    },
    {
      name: "multipart/form-data",
      status: 415,
      code: "content_type.unsupported",
      run: () => signed(event, { "content-type": "multipart/form-data; boundary=xyz" }),
    },
    {
      name: "application/xml",
      status: 415,
      code: "content_type.unsupported",
      run: () => signed("<event/>", { "content-type": "application/xml" }),
    },
    {
      name: "10 MB body (Content-Length)",
      status: 413,
      code: "body.too_large",
      run: async () => {
        const body = Buffer.alloc(10 * 1024 * 1024, 0x20);
        const head =
          `POST /webhooks/stripe HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n` +
          `Stripe-Signature: t=${now()},v1=${"0".repeat(64)}\r\nContent-Length: ${body.length}\r\n\r\n`;
        return fromRaw(await rawRequest(base, head, body));
      },
    },
    {
      name: "3 MB body, chunked (no Content-Length)",
      status: 413,
      code: "body.too_large",
      run: async () => {
        const chunk = Buffer.alloc(512 * 1024, 0x20);
        const parts: Buffer[] = [];
        for (let i = 0; i < 6; i++) {
          parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
        }
        parts.push(Buffer.from("0\r\n\r\n"));
        const head =
          `POST /webhooks/stripe HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n` +
          // A well-formed signature header: the body is read, and found too large.
          `Stripe-Signature: t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}\r\n` +
          "Transfer-Encoding: chunked\r\n\r\n";
        return fromRaw(await rawRequest(base, head, Buffer.concat(parts)));
      },
    },
    {
      name: "headers over 16 KB → 431 in the error shape",
      status: 431,
      code: "header.too_large",
      run: async () => {
        const head =
          `POST /webhooks/stripe HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n` +
          `X-Padding: ${"a".repeat(20 * 1024)}\r\nContent-Length: 2\r\n\r\n`;
        return fromRaw(await rawRequest(base, head, Buffer.from("{}")));
      },
    },
    // ---- ingestion: the signature
    {
      name: "no Stripe-Signature header",
      status: 401,
      code: "signature.missing",
      run: () => hook(event, { "content-type": "application/json" }),
    },
    {
      name: "two Stripe-Signature headers",
      status: 401,
      code: "signature.malformed",
      run: async () => {
        const sig = stripeHeaders(secret, event)["Stripe-Signature"];
        const head =
          `POST /webhooks/stripe HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n` +
          `Stripe-Signature: ${sig}\r\nStripe-Signature: ${sig}\r\n` +
          `Content-Length: ${Buffer.byteLength(event)}\r\nConnection: close\r\n\r\n`;
        return fromRaw(await rawRequest(base, head, Buffer.from(event)));
      },
    },
    {
      name: "signed with the wrong secret",
      status: 401,
      code: "signature.invalid",
      run: () => hook(event, stripeHeaders(newStripeSecret(), event)),
    },
    {
      name: "signature of another body",
      status: 401,
      code: "signature.invalid",
      run: () => hook(event, stripeHeaders(secret, stripeEvent("evt_other"))),
    },
    {
      name: "stale timestamp (an hour ago)",
      status: 400,
      code: "timestamp.stale",
      run: () => hook(event, stripeHeaders(secret, event, now() - 3600)),
    },
    {
      name: "future timestamp (in an hour)",
      status: 400,
      code: "timestamp.future",
      run: () => hook(event, stripeHeaders(secret, event, now() + 3600)),
    },
    {
      name: "garbage signature header (no t=)",
      status: 400,
      code: "timestamp.missing",
      run: () => hook(event, { "content-type": "application/json", "stripe-signature": "garbage" }),
    },
    {
      name: "non-numeric t=",
      status: 400,
      code: "timestamp.invalid",
      run: () =>
        hook(event, {
          "content-type": "application/json",
          "stripe-signature": `t=yesterday,v1=${"a".repeat(64)}`,
        }),
    },
    {
      name: "v1 that is not 64 hex digits",
      status: 401,
      code: "signature.malformed",
      run: () =>
        hook(event, { "content-type": "application/json", "stripe-signature": `t=${now()},v1=zz` }),
    },
    // ---- ingestion: the source name
    {
      name: "unknown source",
      status: 404,
      code: "source.not_found",
      run: () => signed(event, {}, "nope"),
    },
    {
      name: "SQL-ish source name",
      status: 404,
      code: "source.not_found",
      run: () => signed(event, {}, encodeURIComponent("x'; DROP TABLE messages;--")),
    },
    {
      name: "255-character source name",
      status: 404,
      code: "source.not_found",
      run: () => signed(event, {}, "s".repeat(255)),
    },
    {
      // Fastify's router refuses path parameters over 100 characters before any handler runs;
      // it used to answer in its own shape ({"error":"Bad Request","code":"FST_ERR_…"}).
      name: "10,000-character source name",
      status: 414,
      code: "url.too_long",
      run: () => signed(event, {}, "s".repeat(10_000)),
    },
    {
      name: "malformed %-escape in the source name",
      status: 400,
      code: "request.invalid",
      run: () => signed(event, {}, "%zz"),
    },
    {
      name: "path traversal ..%2f",
      status: 404,
      code: "source.not_found",
      run: () => signed(event, {}, "..%2fv1%2fsources"),
    },
    {
      // PostgreSQL refuses U+0000 in text (it was a 500 there): one rule, before any query.
      name: "encoded NUL in the source name",
      status: 400,
      code: "text.invalid",
      run: () => signed(event, {}, "stripe%00"),
    },
    {
      name: "encoded NUL as the whole source name",
      status: 400,
      code: "text.invalid",
      run: () => signed(event, {}, "%00"),
    },
    {
      name: "GET on the webhook route (wrong method)",
      status: 404,
      code: "route.not_found",
      run: () => get("/webhooks/stripe"),
    },
    // ---- ingestion: type and idempotency
    {
      name: "no type field (type_from body)",
      status: 400,
      code: "type.missing",
      run: () => signed(JSON.stringify({ id: "evt_notype", data: {} })),
    },
    {
      name: "a JSON array body (no type field)",
      status: 400,
      code: "type.missing",
      run: () => signed("[1,2,3]"),
    },
    {
      name: "type with spaces",
      status: 400,
      code: "type.invalid",
      run: () => signed(JSON.stringify({ id: "evt_spaces", type: "charge succeeded" })),
    },
    {
      name: "type with a wildcard",
      status: 400,
      code: "type.invalid",
      run: () => signed(JSON.stringify({ id: "evt_star", type: "charge.*" })),
    },
    {
      name: "required idempotency header missing",
      status: 400,
      code: "idempotency.missing",
      run: () => signed(event, {}, "strict"),
    },
    // ---- the management API
    {
      name: "POST /v1/sources: invalid JSON",
      status: 400,
      code: "body.invalid_json",
      run: () => call("POST", "/v1/sources", '{"name": "x",'),
    },
    {
      name: "POST /v1/endpoints: empty JSON body",
      status: 400,
      code: "body.invalid_json",
      run: () => call("POST", "/v1/endpoints", ""),
    },
    {
      name: "POST /v1/sources: unknown field",
      status: 400,
      code: "request.invalid",
      run: () =>
        api(base, "POST", "/v1/sources", {
          name: "extra",
          scheme: "stripe",
          secrets: [secret],
          type_from: { body: "type" },
          colour: "blue",
        }).then(fromHttp),
    },
    {
      name: "POST /v1/sources: unknown scheme",
      status: 400,
      code: "request.invalid",
      run: () =>
        api(base, "POST", "/v1/sources", {
          name: "weird",
          scheme: "rot13",
          secrets: [secret],
          type_from: { body: "type" },
        }).then(fromHttp),
    },
    {
      name: "POST /v1/endpoints: event_types is a string",
      status: 400,
      code: "request.invalid",
      run: () =>
        api(base, "POST", "/v1/endpoints", {
          url: "http://127.0.0.1:9/x",
          event_types: "stripe.*",
        }).then(fromHttp),
    },
    {
      name: "POST /v1/endpoints: timeout_ms is a string",
      status: 400,
      code: "request.invalid",
      run: () =>
        api(base, "POST", "/v1/endpoints", {
          url: "http://127.0.0.1:9/x",
          event_types: ["stripe.*"],
          timeout_ms: "soon",
        }).then(fromHttp),
    },
    {
      // Fastify parses text/plain as a string, which the body schema then refuses.
      name: "POST /v1/sources: text/plain",
      status: 400,
      code: "request.invalid",
      run: () => call("POST", "/v1/sources", "{}", "text/plain"),
    },
    {
      name: "POST /v1/sources: application/xml",
      status: 415,
      code: "content_type.unsupported",
      run: () => call("POST", "/v1/sources", "<source/>", "application/xml"),
    },
    {
      name: "POST /v1/sources: JSON null",
      status: 400,
      code: "request.invalid",
      run: () => call("POST", "/v1/sources", "null"),
    },
    {
      name: "POST /v1/messages: payload is an array",
      status: 400,
      code: "request.invalid",
      run: () => api(base, "POST", "/v1/messages", { type: "a.b", payload: [1] }).then(fromHttp),
    },
    {
      name: "POST /v1/messages: payload nested 5,000 levels",
      status: 400,
      code: "body.too_deep",
      run: () =>
        call(
          "POST",
          "/v1/messages",
          `{"type":"a.b","payload":{"x":${"[".repeat(5000)}${"]".repeat(5000)}}}`,
        ),
    },
    {
      name: "POST /v1/messages: \\u0000 in the tenant",
      status: 400,
      code: "text.invalid",
      run: () => call("POST", "/v1/messages", '{"type":"a.b","tenant":"a\\u0000","payload":{}}'),
    },
    {
      name: "POST /v1/sources: a standard secret that is not base64",
      status: 400,
      code: "request.invalid",
      run: () =>
        api(base, "POST", "/v1/sources", {
          name: "unusable",
          scheme: "standard",
          secrets: ["not base64!"],
        }).then(fromHttp),
    },
    {
      name: "GET /v1/messages/%00",
      status: 400,
      code: "text.invalid",
      run: () => get("/v1/messages/msg_%00"),
    },
    {
      name: "GET /v1/deliveries?endpoint=%00",
      status: 400,
      code: "text.invalid",
      run: () => get("/v1/deliveries?endpoint=%00"),
    },
    {
      name: "POST /v1/sources: 3 MB body",
      status: 413,
      code: "body.too_large",
      run: async () => {
        const body = Buffer.from(JSON.stringify({ name: "big", pad: "x".repeat(3 * 1024 * 1024) }));
        const head =
          `POST /v1/sources HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`;
        return fromRaw(await rawRequest(base, head, body));
      },
    },
    {
      name: "GET /v1/messages/:id with a SQL-ish id",
      status: 404,
      code: "message.not_found",
      run: () => get(`/v1/messages/${encodeURIComponent("x' OR '1'='1")}`),
    },
    {
      name: "GET /v1/messages/:id with a UNION",
      status: 404,
      code: "message.not_found",
      run: () => get(`/v1/messages/${encodeURIComponent("1 UNION SELECT * FROM sources")}`),
    },
    {
      name: "GET /v1/messages/:id longer than 64",
      status: 400,
      code: "request.invalid",
      run: () => get(`/v1/messages/msg_${"0".repeat(70)}`),
    },
    {
      name: "GET /v1/messages/:id of 2,000 characters",
      status: 414,
      code: "url.too_long",
      run: () => get(`/v1/messages/msg_${"0".repeat(2000)}`),
    },
    {
      name: "GET /v1/endpoints/:id SQL-ish",
      status: 404,
      code: "endpoint.not_found",
      run: () => get(`/v1/endpoints/${encodeURIComponent("'; DROP TABLE endpoints;--")}`),
    },
    {
      name: "POST /v1/deliveries/:id/replay unknown",
      status: 404,
      code: "delivery.not_found",
      run: () => call("POST", "/v1/deliveries/dlv_nope/replay", "{}"),
    },
    {
      name: "GET /v1/deliveries?status=bogus",
      status: 400,
      code: "request.invalid",
      run: () => get("/v1/deliveries?status=bogus"),
    },
    {
      name: "GET /v1/deliveries?limit=0",
      status: 400,
      code: "request.invalid",
      run: () => get("/v1/deliveries?limit=0"),
    },
    {
      name: "GET /v1/deliveries?limit=10000",
      status: 400,
      code: "request.invalid",
      run: () => get("/v1/deliveries?limit=10000"),
    },
    {
      name: "GET /v1/deliveries?limit=abc",
      status: 400,
      code: "request.invalid",
      run: () => get("/v1/deliveries?limit=abc"),
    },
    {
      name: "GET /v1/deliveries?cursor=garbage",
      status: 400,
      code: "cursor.invalid",
      run: () => get("/v1/deliveries?cursor=garbage"),
    },
    {
      name: "GET /v1/deliveries?cursor= base64 of JSON garbage",
      status: 400,
      code: "cursor.invalid",
      run: () =>
        get(`/v1/deliveries?cursor=${Buffer.from('{"t":"x","i":1}').toString("base64url")}`),
    },
    {
      name: "GET /v1/deliveries with an unknown query parameter",
      status: 400,
      code: "request.invalid",
      run: () => get("/v1/deliveries?colour=blue"),
    },
    {
      name: "unknown route",
      status: 404,
      code: "route.not_found",
      run: () => get("/v1/nothing-here"),
    },
    {
      name: "wrong method (DELETE /v1/deliveries)",
      status: 404,
      code: "route.not_found",
      run: () => send(`${base}/v1/deliveries`, { method: "DELETE" }).then(fromHttp),
    },
  ];

  it(`has at least 30 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code ?? ""}`, async () => {
      const answer = await c.run();
      if (answer.status !== null) statuses.push(answer.status);
      expect(answer.status).toBe(c.status);
      if (c.code !== null) expect(answer.code).toBe(c.code);
    });
  }

  // Fastify's router refused path parameters over 100 characters (414), so an event type with
  // a longer name (up to 255 are valid) could be created but never read back or deleted.
  it("an event type with a 200-character name can be read back and deleted", async () => {
    const name = Array.from({ length: 20 }, (_, i) => `segment_${i}`)
      .join(".")
      .slice(0, 200);
    expect((await api(base, "POST", "/v1/event-types", { name })).status).toBe(201);
    const read = await api(base, "GET", `/v1/event-types/${name}`);
    expect(read.status).toBe(200);
    expect((read.json as { name: string }).name).toBe(name);
    expect((await api(base, "DELETE", `/v1/event-types/${name}`)).status).toBe(204);
  });

  it("still serves afterwards: /health 200, a valid webhook 202, and no 5xx ever", async () => {
    expect((await get("/health")).status).toBe(200);
    const valid = stripeEvent("evt_still_works");
    expect(await signed(valid)).toEqual({ status: 202, code: undefined });
    const strict = stripeEvent("evt_strict_ok");
    expect(await signed(strict, { "Idempotency-Key": "key-1" }, "strict")).toEqual({
      status: 202,
      code: undefined,
    });
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(herald.child.exitCode).toBeNull();
    // Nothing of the bad inputs was stored: exactly the two valid messages exist.
    const deliveries = await api(base, "GET", "/v1/deliveries?limit=1000");
    expect((deliveries.json as { data: unknown[] }).data).toHaveLength(2);
  });
});

describe("bearer API key", () => {
  let base = "";
  const key = `key_${newStripeSecret()}`;
  beforeAll(async () => {
    base = (await start({ HERALD_API_KEY: key })).url ?? "";
  });
  const deliveries = (headers: Record<string, string>) =>
    send(`${base}/v1/deliveries`, { headers }).then(fromHttp);

  it("no Authorization → 401 auth.unauthorized", async () => {
    expect(await deliveries({})).toEqual({ status: 401, code: "auth.unauthorized" });
  });
  it("a wrong key → 401 auth.unauthorized", async () => {
    expect(await deliveries({ authorization: "Bearer nope" })).toEqual({
      status: 401,
      code: "auth.unauthorized",
    });
  });
  it("the key as Basic → 401 auth.unauthorized", async () => {
    expect(await deliveries({ authorization: `Basic ${key}` })).toEqual({
      status: 401,
      code: "auth.unauthorized",
    });
  });
  it("the key with an extra character → 401", async () => {
    expect(await deliveries({ authorization: `Bearer ${key}x` })).toEqual({
      status: 401,
      code: "auth.unauthorized",
    });
  });
  it("the right key → 200", async () => {
    expect(await deliveries({ authorization: `Bearer ${key}` })).toEqual({
      status: 200,
      code: undefined,
    });
  });
  it("the webhook route and /health need no key", async () => {
    expect((await send(`${base}/health`)).status).toBe(200);
    const body = stripeEvent("evt_x");
    const r = await send(`${base}/webhooks/unknown`, {
      method: "POST",
      headers: stripeHeaders("whsec_x", body),
      body,
    });
    expect(fromHttp(r)).toEqual({ status: 404, code: "source.not_found" });
  });
});

function signedWithout(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([key]) => key.toLowerCase() !== name.toLowerCase()),
  );
}
