// The HTTP transport's own undici handler and shared deadline timer: same wire headers, same
// attempt log, timeouts per endpoint, body cap, against real servers on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { util } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createHttpTransport,
  rawResponseHeaders,
} from "../../packages/core/src/delivery/transports/http.js";
import {
  buildRequestHeaders,
  flattenResponseHeaders,
} from "../../packages/core/src/delivery/transports/requestHeaders.js";
import type {
  DeliveryRecord,
  EndpointRecord,
} from "../../packages/core/src/model/deliveryRecords.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";
import { testEndpoint, testMessage } from "../helpers/deliveryRecords.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let respond: Handler = (_req, res) => res.end("ok");
const seen: IncomingMessage[] = [];
let server: Server;
let port = 0;
const transport = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"], userAgent: "Herald/test" });

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push(req);
      respond(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await transport.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const iso = (ms: number) => new Date(ms).toISOString();
const secret = generateSecret("standard");

function endpoint(overrides: Partial<EndpointRecord> = {}): EndpointRecord {
  return testEndpoint(
    `http://127.0.0.1:${port}/hooks?x=1#frag`,
    [{ secret, createdAt: iso(Date.now() - 1000), expiresAt: null }],
    overrides,
  );
}

const message = testMessage({ orderId: 42 });

const delivery = { id: "dlv_01JTESTDELIVERY000000000000" } as DeliveryRecord;
const send = (ep: EndpointRecord = endpoint()) =>
  transport.send({ delivery, message, endpoint: ep, attemptNumber: 1 });

/** Header names as sent, lowercase, in order, without what undici adds itself. */
function sentNames(req: IncomingMessage): string[] {
  const names: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    if (!["host", "connection", "content-length"].includes(name)) names.push(name);
  }
  return names;
}

describe("request headers", () => {
  it("sends Herald's then the scheme's headers, in buildRequestHeaders order, to pathname+search", async () => {
    seen.length = 0;
    await send();
    const req = seen[0]!;
    expect(req.url).toBe("/hooks?x=1");
    expect(sentNames(req)).toEqual([
      "content-type",
      "user-agent",
      "x-herald-delivery-id",
      "x-herald-event-type",
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
    ]);
    expect(req.headers["user-agent"]).toBe("Herald/test");
  });

  it("with extras (some colliding, some framing) the order and values are the merged record's", async () => {
    seen.length = 0;
    const extra = {
      "X-First": "1",
      "Webhook-Id": "spoofed",
      "USER-AGENT": "theirs",
      "Content-Length": "9",
      "x-last": "2",
    };
    await send(endpoint({ headers: extra }));
    const req = seen[0]!;
    const expected = buildRequestHeaders({
      extra,
      herald: {
        "content-type": "application/json",
        "user-agent": "Herald/test",
        "x-herald-delivery-id": delivery.id,
        "x-herald-event-type": message.type,
      },
      signing: {
        "webhook-id": message.id,
        "webhook-timestamp": String(req.headers["webhook-timestamp"]),
        "webhook-signature": String(req.headers["webhook-signature"]),
      },
    });
    expect(sentNames(req)).toEqual(Object.keys(expected));
    for (const [name, value] of Object.entries(expected)) expect(req.headers[name]).toBe(value);
  });

  it("an invalid extra header value is request.invalid, as undici reports it", async () => {
    const result = await send(endpoint({ headers: { "x-bad": "a\nb" } }));
    expect(result.attempt.error).toMatch(/^request\.invalid: /);
    expect(result.attempt.statusCode).toBeNull();
  });
});

describe("response headers", () => {
  it("rawResponseHeaders equals flattenResponseHeaders(parseHeaders(raw))", () => {
    const b = (s: string) => Buffer.from(s, "latin1");
    const cases: (Buffer | string | Buffer[])[][] = [
      [],
      [b("Date"), b("Sun"), b("Content-Length"), b("0"), b("Connection"), b("keep-alive")],
      [
        b("Set-Cookie"),
        b("a=1"),
        b("X-Y"),
        b("z"),
        b("set-cookie"),
        b("b=2"),
        b("SET-COOKIE"),
        b("c"),
      ],
      [
        b("__proto__"),
        b("p"),
        b("constructor"),
        b("c"),
        b("toString"),
        b("t"),
        b("__proto__"),
        b("q"),
      ],
      [b("x-latin"), b("caf\xe9"), b("123"), b("num"), b("x-multi"), [b("1"), b("2")]],
      ["X-Str", "v", "x-str", "w"],
    ];
    for (const raw of cases) {
      const expected = flattenResponseHeaders(util.parseHeaders(raw as Buffer[]));
      const actual = rawResponseHeaders(raw);
      expect(actual).toEqual(expected);
      expect(Object.keys(actual)).toEqual(Object.keys(expected));
    }
  });

  it("repeated response headers are joined in the attempt log", async () => {
    respond = (_req, res) => {
      res.setHeader("Set-Cookie", ["a=1", "b=2"]);
      res.setHeader("X-Receiver", "yes");
      res.end();
    };
    const { attempt } = await send();
    expect(attempt.responseHeaders?.["set-cookie"]).toBe("a=1, b=2");
    expect(attempt.responseHeaders?.["x-receiver"]).toBe("yes");
    expect(attempt.responseBody).toBe("");
  });

  it("a 1xx before the answer is skipped", async () => {
    respond = (_req, res) => {
      res.writeProcessing();
      res.writeHead(202, { "x-final": "1" });
      res.end("accepted");
    };
    const { attempt } = await send();
    expect(attempt.statusCode).toBe(202);
    expect(attempt.responseBody).toBe("accepted");
    expect(attempt.responseHeaders?.["x-final"]).toBe("1");
  });
});

describe("body limit", () => {
  it("a small limit keeps its prefix, drops the connection, and the next send works", async () => {
    const small = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"], maxResponseBytes: 10 });
    try {
      respond = (_req, res) => {
        res.write("0123456789abcdef");
        setTimeout(() => res.end("more"), 20);
      };
      const first = await small.send({ delivery, message, endpoint: endpoint(), attemptNumber: 1 });
      expect(first.attempt.responseBody).toBe("0123456789");
      expect(first.responseBodyTruncated).toBe(true);
      expect(first.attempt.error).toBeNull();
      respond = (_req, res) => res.end("short");
      const second = await small.send({
        delivery,
        message,
        endpoint: endpoint(),
        attemptNumber: 1,
      });
      expect(second.attempt.responseBody).toBe("short");
      expect(second.responseBodyTruncated).toBe(false);
    } finally {
      await small.close();
      respond = (_req, res) => res.end("ok");
    }
  });
});

describe("deadlines", () => {
  it("each endpoint's timeout aborts its own slow sends; quick sends alongside are untouched", async () => {
    respond = (req, res) => {
      const wait = Number(req.headers["x-wait"] ?? 0);
      if (wait > 0) setTimeout(() => res.end("late"), wait).unref();
      else res.end("fast");
    };
    const started = performance.now();
    const [short, long, quick, longOk] = await Promise.all([
      send(endpoint({ timeoutMs: 150, headers: { "x-wait": "5000" } })),
      send(endpoint({ timeoutMs: 400, headers: { "x-wait": "5000" } })),
      send(endpoint({ timeoutMs: 100 })),
      send(endpoint({ timeoutMs: 2000, headers: { "x-wait": "50" } })),
    ]);
    const elapsed = performance.now() - started;
    expect(short.attempt.error).toBe("timeout: no complete response within 150 ms");
    expect(short.classification).toEqual({ outcome: "retry", reason: "timeout" });
    expect(short.attempt.durationMs).toBeGreaterThanOrEqual(140);
    expect(short.attempt.durationMs).toBeLessThan(400);
    expect(long.attempt.error).toBe("timeout: no complete response within 400 ms");
    expect(long.attempt.durationMs).toBeGreaterThanOrEqual(390);
    expect(quick.attempt).toMatchObject({ statusCode: 200, responseBody: "fast", error: null });
    expect(longOk.attempt).toMatchObject({ statusCode: 200, responseBody: "late", error: null });
    expect(elapsed).toBeLessThan(1500);
    respond = (_req, res) => res.end("ok");
  });

  it("a later send with a shorter timeout still times out on time", async () => {
    respond = (req, res) => {
      const wait = Number(req.headers["x-wait"] ?? 0);
      setTimeout(() => res.end("late"), wait).unref();
    };
    const slow = send(endpoint({ timeoutMs: 1500, headers: { "x-wait": "300" } }));
    const short = await send(endpoint({ timeoutMs: 100, headers: { "x-wait": "5000" } }));
    expect(short.attempt.error).toBe("timeout: no complete response within 100 ms");
    expect(short.attempt.durationMs).toBeLessThan(600);
    expect((await slow).attempt.responseBody).toBe("late");
    respond = (_req, res) => res.end("ok");
  });
  it("a send still queued for a connection when its deadline passes is aborted when it gets one", async () => {
    const single = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"], connections: 1 });
    try {
      respond = (req, res) => {
        const wait = Number(req.headers["x-wait"] ?? 0);
        setTimeout(() => res.end("done"), wait).unref();
      };
      const first = single.send({
        delivery,
        message,
        endpoint: endpoint({ timeoutMs: 2000, headers: { "x-wait": "300" } }),
        attemptNumber: 1,
      });
      const queued = await single.send({
        delivery,
        message,
        endpoint: endpoint({ timeoutMs: 100 }),
        attemptNumber: 1,
      });
      expect(queued.attempt.error).toBe("timeout: no complete response within 100 ms");
      expect(queued.attempt.statusCode).toBeNull();
      expect(queued.classification).toEqual({ outcome: "retry", reason: "timeout" });
      expect((await first).attempt.responseBody).toBe("done");
    } finally {
      await single.close();
      respond = (_req, res) => res.end("ok");
    }
  });
});
