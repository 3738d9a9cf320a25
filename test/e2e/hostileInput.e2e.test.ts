// Hostile input against the built `herald serve`, on SQLite and on PostgreSQL: every route the
// server lists in /openapi.json gets random path parameters (NUL, invalid UTF-8 escapes, lone
// surrogates, Object.prototype member names, very long, SQL-ish), random query strings, random
// header names and values, and random bodies (raw bytes, random JSON, JSON nested far deeper than
// the limit, JSON strings carrying \u0000, form fields named like prototype members) under random
// content types; validly signed webhooks carry the same bodies; a table of protocol-level faults
// (malformed HTTP, oversized headers, conflicting lengths, no Host, unknown Expect) follows.
//
// Every answer must be one: no 5xx other than 503, and every error in the documented shape
// `{"error":{"code","message"}}`. Afterwards the process is still up, /health answers, and a
// valid webhook gets 202 and is readable.
//
// What breaking it shows: a database refusing a NUL or a nesting depth, a prototype lookup
// returning a function, a recursion overflow, or a parser error escaping the error handler shows
// as a 500 (fast-check prints the shrunk request); an error answered by Node or Fastify itself
// shows as a body without `error.code`; a crash shows as no answer at all.
import { randomBytes } from "node:crypto";
import { signWebhook } from "@heraldjs/webhooks";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  createStripeSource,
  makeTempDir,
  newStripeSecret,
  rawRequest,
  send,
  stripeEvent,
  stripeHeaders,
} from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";
import { uniqueSchemaName } from "../helpers/postgres.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const ROUTE_RUNS = Number(process.env.HERALD_HOSTILE_RUNS ?? 400);
const SIGNED_RUNS = Number(process.env.HERALD_HOSTILE_SIGNED_RUNS ?? 200);

// serviceAvailable skips loudly when PostgreSQL is down, and fails the run under CI=true.
const pgAvailable = await serviceAvailable("postgres");

interface Answer {
  status: number | null;
  text: string;
}

/** The status and error shape check every answer must pass; returns a reason when it fails. */
function problem(answer: Answer): string | undefined {
  if (answer.status === null) return "no answer";
  if (answer.status >= 500 && answer.status !== 503) return `status ${answer.status}`;
  if (answer.status < 400) return undefined;
  const split = answer.text.indexOf("\r\n\r\n");
  const body = split < 0 ? "" : answer.text.slice(split + 4);
  try {
    const parsed = JSON.parse(Buffer.from(body, "latin1").toString("utf8")) as {
      error?: { code?: unknown; message?: unknown };
    };
    if (typeof parsed.error?.code !== "string" || typeof parsed.error.message !== "string") {
      return `error body without code/message: ${body.slice(0, 200)}`;
    }
  } catch {
    return `error body is not JSON: ${JSON.stringify(body.slice(0, 200))}`;
  }
  return undefined;
}

// ---- generators

const PROTO_NAMES = [
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "prototype",
  "__defineGetter__",
  "isPrototypeOf",
];

/** Percent-encoded path segments and query values, including bytes that are not UTF-8. */
const RAW_ESCAPES = [
  "%00",
  "stripe%00",
  "%00%00",
  "a%00b",
  "%FF",
  "%C3%28",
  "%ED%A0%80",
  "%F4%90%80%80",
  "%C0%AF",
  "%E2%82",
  "%",
  "%zz",
  "%2F",
  "..",
  "%2E%2E",
  ".",
  "ep_%00",
  "msg_%00",
  "dlv_%00",
  "%EF%BF%BE",
];

function encodeText(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9._~-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(...PROTO_NAMES),
  fc.constantFrom("\u0000", "a\u0000", "' OR '1'='1", "1; DROP TABLE sources", "\uFEFF", "\u202E"),
  fc.constantFrom("x".repeat(300), "y".repeat(2000), "z".repeat(5000)),
  fc.constantFrom("msg_01M8XP4P5SBAYX95YXF86CDJCK", "ep_01M8XP4P5SBAYX95YXF86CDJCK", "dlv_0"),
);

/** One path segment or query value as it goes on the wire. */
const hostileSegment = fc.oneof(
  { weight: 3, arbitrary: hostileText.map(encodeText) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_ESCAPES) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(hostileText, fc.constantFrom(...RAW_ESCAPES))
      .map(([t, e]) => `${encodeText(t)}${e}`),
  },
);

const QUERY_KEYS = [
  "status",
  "endpoint",
  "message",
  "limit",
  "cursor",
  "tenant",
  "enabled",
  "since",
  ...PROTO_NAMES,
];

const hostileQuery = fc.oneof(
  fc.constant(""),
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...QUERY_KEYS), hostileSegment),
        fc.oneof(
          hostileSegment,
          fc.constantFrom("-1", "0", "1e999", "99999999999999999999", "true", "dead_lettered"),
        ),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`),
);

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "application/cloudevents+json",
  "application/x-www-form-urlencoded",
  "text/plain",
  "application/octet-stream",
  "multipart/form-data; boundary=x",
  "application/json, text/plain",
  "*/*",
  "",
  "application/\u00e9",
];

const headerName = fc.oneof(
  fc.constantFrom(
    ...PROTO_NAMES.map((n) => n.toLowerCase()),
    "idempotency-key",
    "stripe-signature",
    "x-request-id",
    "authorization",
    "x-github-event",
    "webhook-id",
    "webhook-signature",
    "webhook-timestamp",
    "accept",
    "accept-encoding",
    "content-encoding",
  ),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,24}$/),
);

/** Header values Node lets through (no CR, LF, NUL: those are protocol-level cases below). */
const headerValue = fc.oneof(
  fc.string({ maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, "").replaceAll("\u0000", "")),
  fc.constantFrom(
    "t=1,v1=00",
    `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`,
    "Bearer x",
    "gzip",
    "deflate",
    "x".repeat(4000),
    "\u00ff\u00fe",
    "__proto__",
    "constructor",
  ),
);

function nested(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? `${"[".repeat(depth)}1${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.object({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .tuple(fc.integer({ min: 2, max: 6000 }), fc.constantFrom("array" as const, "object" as const))
    .map(([d, k]) => nested(d, k)),
  fc.constantFrom(
    '{"type":"a.b","payload":{"x":"\\u0000"}}',
    '{"type":"a\\u0000b","payload":{}}',
    '{"name":"n\\u0000","scheme":"stripe","secrets":["whsec_x"]}',
    '{"url":"https://example.com/\\u0000","event_types":["a.*"]}',
    '{"type":"a.b","payload":{"__proto__":{"polluted":1},"constructor":{"prototype":{}}}}',
    '{"__proto__":{"type":"a.b"},"payload":{}}',
    '{"type":"a.b","payload":1e999999}',
    '{"type":"a.b","payload":{"n":123456789012345678901234567890}}',
    '{"type":"a.b","payload":{"s":"\\ud800"}}',
    `{"type":"a.b","payload":{"big":"${"x".repeat(100_000)}"}}`,
    '{"type":"a.b","payload":{}}',
    '{"name":"x","scheme":"standard","secrets":["not-a-whsec"]}',
    '{"name":"x","scheme":"hmac","secrets":["zz"],"scheme_options":{"secret_encoding":"hex"}}',
    '{"name":"x","scheme":"hmac","secrets":["00"],"scheme_options":{"signature_header":"constructor"}}',
    '{"name":"x","scheme":"stripe","secrets":["whsec_x"],"idempotency_header":"__proto__"}',
    '{"name":"x","scheme":"stripe","secrets":["whsec_x"],"type_from":{"header":"constructor"}}',
    "{",
    "",
    "null",
    "[]",
  ),
);

const formBody = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...PROTO_NAMES, "type", "id"), fc.string({ maxLength: 10 })),
      fc.string({ maxLength: 10 }),
    ),
    { maxLength: 6 },
  )
  .map((pairs) => new URLSearchParams(pairs).toString());

const bodyBytes = fc.oneof(
  { weight: 4, arbitrary: jsonBody.map((s) => Buffer.from(s, "utf8")) },
  { weight: 2, arbitrary: formBody.map((s) => Buffer.from(s, "utf8")) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constant(Buffer.from([0xff, 0xfe, 0x7b, 0x7d])) },
);

interface HostileRequest {
  /** `POST /webhooks/{source}`: the operation of /openapi.json it targets. */
  operation: string;
  method: string;
  path: string;
  headers: [string, string][];
  body: Buffer | undefined;
}

/** How fast-check prints a failing request: bodies shortened, bytes shown as JSON text. */
function withPrinter(request: HostileRequest): HostileRequest {
  Object.defineProperty(request, fc.toStringMethod, {
    enumerable: false,
    value: () => {
      const body = request.body;
      const shown =
        body === undefined
          ? "none"
          : `${body.length} bytes ${JSON.stringify(body.subarray(0, 120).toString("latin1"))}`;
      return `${request.method} ${request.path.slice(0, 300)} headers=${JSON.stringify(request.headers).slice(0, 400)} body=${shown}`;
    },
  });
  return request;
}

function renderRequest(request: HostileRequest, host: string): { head: string; body?: Buffer } {
  const lines = [
    `${request.method} ${request.path} HTTP/1.1`,
    `Host: ${host}`,
    "Connection: close",
  ];
  const seen = new Set<string>(["host", "connection"]);
  for (const [name, value] of request.headers) {
    if (seen.has(name) || name === "content-length" || name === "transfer-encoding") continue;
    seen.add(name);
    lines.push(`${name}: ${value}`);
  }
  if (request.body !== undefined) lines.push(`Content-Length: ${request.body.length}`);
  return {
    head: `${lines.join("\r\n")}\r\n\r\n`,
    ...(request.body === undefined ? {} : { body: request.body }),
  };
}

// ---- the running servers

interface Backend {
  name: string;
  enabled: boolean;
  db: () => Promise<{ db: string; cleanup: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "SQLite",
    enabled: true,
    db: async () => ({ db: "herald.db", cleanup: async () => {} }),
  },
  {
    name: "PostgreSQL",
    enabled: pgAvailable,
    db: async () => {
      const schema = uniqueSchemaName("hostile");
      const url = serviceUrl("postgres");
      return {
        db: `${url}${url.includes("?") ? "&" : "?"}schema=${schema}`,
        cleanup: async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await client.end();
        },
      };
    },
  },
];

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`hostile input on ${backend.name}`, () => {
    let herald: HeraldProcess | undefined;
    let cwd: Awaited<ReturnType<typeof makeTempDir>> | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    let base = "";
    let host = "";
    const secret = newStripeSecret();
    const formSecret = newStripeSecret();
    const protoSecret = newStripeSecret();
    let operations: { method: string; path: string }[] = [];
    /** The statuses /openapi.json lists per operation (`200`, `404`, `4XX`…). */
    const listed = new Map<string, Set<string>>();

    beforeAll(async () => {
      cwd = await makeTempDir("hostile");
      const target = await backend.db();
      cleanup = target.cleanup;
      herald = await startHerald({
        cwd: cwd.path,
        args: ["--db", target.db, "--no-worker"],
        env: { HERALD_API_KEY: undefined, HERALD_CONFIG: undefined, HERALD_DB: undefined },
      });
      base = herald.url ?? "";
      host = new URL(base).host;
      await createStripeSource(base, "hostile-stripe", secret);
      await createStripeSource(base, "hostile-form", formSecret, {
        type_from: { fixed: "received" },
      });
      // Header names that are Object.prototype members, as a source may configure them.
      const proto = await api(base, "POST", "/v1/sources", {
        name: "hostile-proto",
        scheme: "stripe",
        secrets: [protoSecret],
        idempotency_header: "constructor",
        type_from: { header: "__proto__" },
      });
      expect(proto.status, proto.text).toBe(201);
      const endpoint = await api(base, "POST", "/v1/endpoints", {
        url: "https://hooks.example.com/in",
        event_types: ["hostile-stripe.*"],
      });
      expect(endpoint.status, endpoint.text).toBe(201);
      const doc = (await send(`${base}/openapi.json`)).json as {
        paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
      };
      operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => {
          listed.set(`${method.toUpperCase()} ${path}`, new Set(Object.keys(op.responses ?? {})));
          return { method: method.toUpperCase(), path };
        }),
      );
    }, 60_000);

    afterAll(async () => {
      await herald?.kill9();
      await cwd?.remove();
      await cleanup?.().catch(() => {});
    }, 30_000);

    async function expectAnswered(request: HostileRequest): Promise<void> {
      const { operation } = request;
      const rendered = renderRequest(request, host);
      const answer = await rawRequest(base, rendered.head, rendered.body, 15_000);
      let reason = problem(answer);
      const statuses = listed.get(operation);
      const status = answer.status ?? 0;
      if (
        reason === undefined &&
        statuses !== undefined &&
        !statuses.has(String(status)) &&
        !(status >= 400 && status < 500 && statuses.has("4XX"))
      ) {
        reason = `status ${status} is not listed for ${operation} in /openapi.json`;
      }
      if (reason !== undefined) {
        throw new Error(
          `${request.method} ${request.path.slice(0, 200)} → ${reason}\n${answer.text.slice(0, 500)}`,
        );
      }
    }

    it("lists the routes it serves", () => {
      expect(operations.length).toBeGreaterThanOrEqual(20);
      expect(operations).toContainEqual({ method: "POST", path: "/webhooks/{source}" });
    });

    it("every route of /openapi.json: hostile paths, queries, headers and bodies", {
      timeout: 240_000,
    }, async () => {
      const request = fc
        .record({
          operation: fc.constantFrom(...operations),
          segments: fc.array(hostileSegment, { minLength: 3, maxLength: 3 }),
          query: hostileQuery,
          contentType: fc.constantFrom(...CONTENT_TYPES),
          headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 }),
          body: fc.option(bodyBytes, { nil: undefined }),
        })
        .map(({ operation, segments, query, contentType, headers, body }): HostileRequest => {
          let i = 0;
          const path = operation.path.replace(/\{[^}]+\}/g, () => segments[i++] ?? "x");
          const all: [string, string][] =
            contentType === "" ? headers : [["content-type", contentType], ...headers];
          return withPrinter({
            operation: `${operation.method} ${operation.path}`,
            method: operation.method,
            path: `${path}${query}`,
            headers: all,
            body,
          });
        });
      await fc.assert(fc.asyncProperty(request, expectAnswered), {
        numRuns: ROUTE_RUNS,
        endOnFailure: true,
      });
    });

    it("validly signed webhooks with hostile bodies, form fields and header names", {
      timeout: 120_000,
    }, async () => {
      const signed = fc
        .record({
          source: fc.constantFrom("hostile-stripe", "hostile-form", "hostile-proto"),
          contentType: fc.constantFrom(
            "application/json",
            "application/x-www-form-urlencoded",
            "application/vnd.x+json",
          ),
          body: bodyBytes,
          extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }),
        })
        .map(({ source, contentType, body, extra }): HostileRequest => {
          const key =
            source === "hostile-stripe"
              ? secret
              : source === "hostile-form"
                ? formSecret
                : protoSecret;
          const signature = signWebhook({
            scheme: "stripe",
            secret: key,
            timestamp: Math.floor(Date.now() / 1000),
            body,
          });
          const headers: [string, string][] = [
            ["content-type", contentType],
            ...Object.entries(signature),
            ...extra.filter(([name]) => name !== "stripe-signature" && name !== "content-type"),
          ];
          return withPrinter({
            operation: "POST /webhooks/{source}",
            method: "POST",
            path: `/webhooks/${source}`,
            headers,
            body,
          });
        });
      await fc.assert(fc.asyncProperty(signed, expectAnswered), {
        numRuns: SIGNED_RUNS,
        endOnFailure: true,
      });
    });

    it("deep JSON is refused with a 4xx on ingest and on /v1, and a shallow one is accepted", async () => {
      for (const depth of [1_000, 5_000, 100_000]) {
        const body = Buffer.from(
          `{"id":"evt_deep_${depth}","type":"deep.x","data":${nested(depth, "array")}}`,
        );
        const r = await send(`${base}/webhooks/hostile-stripe`, {
          method: "POST",
          headers: stripeHeaders(secret, body),
          body,
        });
        expect(r.status, r.text).toBeGreaterThanOrEqual(400);
        expect(r.status, r.text).toBeLessThan(500);
        const v1 = await api(base, "POST", "/v1/messages", undefined, {
          "content-type": "application/json",
        });
        expect(v1.status).toBeLessThan(500);
        const message = await send(`${base}/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: `{"type":"deep.x","payload":{"a":${nested(depth, "object")}}}`,
        });
        expect(message.status, message.text).toBeGreaterThanOrEqual(400);
        expect(message.status, message.text).toBeLessThan(500);
      }
      const shallow = stripeEvent(`evt_shallow_${randomBytes(4).toString("hex")}`);
      const ok = await send(`${base}/webhooks/hostile-stripe`, {
        method: "POST",
        headers: stripeHeaders(secret, shallow),
        body: shallow,
      });
      expect(ok.status, ok.text).toBe(202);
    });

    it("protocol-level faults are answered in the error shape", async () => {
      const cases: { name: string; head: string; body?: Buffer; status: number }[] = [
        {
          name: "headers over 16 KiB",
          head: `GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`,
          status: 431,
        },
        {
          name: "two different Content-Lengths",
          head: `POST /v1/messages HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
          status: 400,
        },
        {
          name: "Content-Length with Transfer-Encoding",
          head: `POST /v1/messages HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
          status: 400,
        },
        {
          name: "bad chunk size",
          head: `POST /v1/messages HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
          status: 400,
        },
        {
          name: "invalid method token",
          head: `G(T /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
          status: 400,
        },
        {
          name: "NUL in a header",
          head: `GET /health HTTP/1.1\r\nHost: ${host}\r\nX-A: a\u0000b\r\n\r\n`,
          status: 400,
        },
        {
          name: "CR in a header",
          head: `GET /health HTTP/1.1\r\nHost: ${host}\r\nX-A: a\rb\r\n\r\n`,
          status: 400,
        },
        { name: "bare LF line ends", head: `GET /health HTTP/1.1\nHost: ${host}\n\n`, status: 400 },
        { name: "no Host", head: "GET /health HTTP/1.1\r\n\r\n", status: 400 },
        {
          name: "Expect: teapot",
          head: `POST /v1/messages HTTP/1.1\r\nHost: ${host}\r\nExpect: teapot\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
          status: 417,
        },
        {
          name: "unknown route with a large announced body",
          head: `POST /nowhere HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{`,
          status: 404,
        },
      ];
      for (const c of cases) {
        const answer = await rawRequest(base, c.head, c.body, 10_000);
        expect(answer.status, `${c.name}: ${answer.text.slice(0, 300)}`).toBe(c.status);
        expect(problem(answer), c.name).toBeUndefined();
      }
    });

    it("is still up: /health 200, and a valid webhook 202 and readable", async () => {
      expect(herald?.child.exitCode).toBeNull();
      expect((await send(`${base}/health`)).status).toBe(200);
      const body = stripeEvent(`evt_after_${randomBytes(4).toString("hex")}`);
      const r = await send(`${base}/webhooks/hostile-stripe`, {
        method: "POST",
        headers: stripeHeaders(secret, body),
        body,
      });
      expect(r.status, r.text).toBe(202);
      const id = (r.json as { message_id: string }).message_id;
      const message = await api(base, "GET", `/v1/messages/${id}`);
      expect(message.status).toBe(200);
    });
  });
}
