// The HTTP transport against real HTTP servers on 127.0.0.1 (allowlisted): bytes on the wire and the attempt log.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readPackageVersion } from "../../packages/core/src/core/version.js";
import {
  createHttpTransport,
  type HttpTransport,
} from "../../packages/core/src/delivery/transports/http.js";
import type {
  EndpointRecord,
  EndpointSecret,
} from "../../packages/core/src/model/deliveryRecords.js";
import {
  generateSecret,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/signing/sign.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";

interface Received {
  headers: IncomingMessage["headers"];
  body: Buffer;
  url: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function startServer(
  handler: () => Handler,
): Promise<{ server: Server; port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks), url: req.url ?? "" });
      handler()(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port, received };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

let respond: Handler = (_req, res) => res.end("ok");
let receiver: Awaited<ReturnType<typeof startServer>>;
let elsewhere: Awaited<ReturnType<typeof startServer>>;
let transport: HttpTransport;

beforeAll(async () => {
  receiver = await startServer(() => respond);
  elsewhere = await startServer(() => (_req, res) => res.end("redirected"));
  transport = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"] });
});

afterAll(async () => {
  await transport.close();
  await stop(receiver.server);
  await stop(elsewhere.server);
});

afterEach(() => {
  respond = (_req, res) => res.end("ok");
  receiver.received.length = 0;
  elsewhere.received.length = 0;
});

const iso = (ms: number) => new Date(ms).toISOString();
const secretA = generateSecret("standard");

function secret(value: string, createdAgoMs: number, expiresInMs: number | null): EndpointSecret {
  return {
    secret: value,
    createdAt: iso(Date.now() - createdAgoMs),
    expiresAt: expiresInMs === null ? null : iso(Date.now() + expiresInMs),
  };
}

function endpoint(overrides: Partial<EndpointRecord> = {}): EndpointRecord {
  return testEndpoint(
    `http://127.0.0.1:${receiver.port}/hooks`,
    [secret(secretA, 1000, null)],
    overrides,
  );
}

const message = testMessage({ orderId: 42, note: "grüße" });

const delivery = (id = "dlv_01JTESTDELIVERY000000000000") => testDelivery(id);

const send = (ep: EndpointRecord = endpoint(), attemptNumber = 1, t: HttpTransport = transport) =>
  t.send({ delivery: delivery(), message, endpoint: ep, attemptNumber });

function only(): Received {
  expect(receiver.received).toHaveLength(1);
  return receiver.received[0]!;
}

describe("request on the wire", () => {
  it("POSTs the payload as JSON, signed so the receiver's verifyWebhook accepts it", async () => {
    const result = await send();
    const req = only();
    expect(JSON.parse(req.body.toString("utf8"))).toEqual(message.payload);
    expect(req.url).toBe("/hooks");
    expect(req.headers["content-type"]).toBe("application/json");
    const verdict = verifyWebhook({
      scheme: "standard",
      secrets: secretA,
      headers: req.headers,
      body: req.body,
    });
    expect(verdict).toEqual({ ok: true, id: message.id, timestamp: expect.any(Number) });
    expect(result.attempt.succeeded).toBe(true);
    expect(result.classification).toEqual({ outcome: "success" });
  });

  it("sends the Herald headers and the endpoint's extras, which cannot replace signature headers", async () => {
    const ep = endpoint({
      headers: {
        "X-Tenant-Token": "abc",
        "Webhook-Id": "spoofed",
        "User-Agent": "spoof",
        Host: "evil",
      },
    });
    await send(ep);
    const { headers } = only();
    expect(headers["x-herald-delivery-id"]).toBe("dlv_01JTESTDELIVERY000000000000");
    expect(headers["x-herald-event-type"]).toBe("order.created.v1");
    expect(headers["user-agent"]).toBe(`Herald/${readPackageVersion()}`);
    expect(headers["x-tenant-token"]).toBe("abc");
    expect(headers["webhook-id"]).toBe(message.id);
    expect(headers.host).toBe(`127.0.0.1:${receiver.port}`);
  });

  it("keeps webhook-id equal to the message id on every attempt", async () => {
    await send(endpoint(), 1);
    await send(endpoint(), 2);
    expect(receiver.received.map((r) => r.headers["webhook-id"])).toEqual([message.id, message.id]);
  });

  it("signs with every active secret, newest first, and never with an expired one", async () => {
    const newer = generateSecret("standard");
    const expired = generateSecret("standard");
    const ep = endpoint({
      secrets: [
        secret(secretA, 60_000, 3_600_000),
        secret(newer, 1_000, null),
        secret(expired, 120_000, -1_000),
      ],
    });
    await send(ep);
    const req = only();
    const signatures = String(req.headers["webhook-signature"]).split(" ");
    expect(signatures).toHaveLength(2);
    const verify = (s: string) =>
      verifyWebhook({ scheme: "standard", secrets: s, headers: req.headers, body: req.body }).ok;
    expect(verify(secretA)).toBe(true);
    expect(verify(newer)).toBe(true);
    expect(verify(expired)).toBe(false);
    const newestOnly = signWebhook({
      scheme: "standard",
      secret: newer,
      body: req.body,
      id: message.id,
      timestamp: Number(req.headers["webhook-timestamp"]),
    });
    expect(signatures[0]).toBe(newestOnly["webhook-signature"]);
  });

  it("fails without sending when no secret is active", async () => {
    const result = await send(endpoint({ secrets: [secret(secretA, 60_000, -1)] }));
    expect(result.attempt.error).toMatch(/^signing: secret\.missing/);
    expect(receiver.received).toHaveLength(0);
  });
});

describe("other schemes", () => {
  it("signs with the endpoint's hmac scheme options", async () => {
    const schemeOptions = { signatureHeader: "X-Signature", timestampHeader: "X-Timestamp" };
    await send(endpoint({ scheme: "hmac", schemeOptions, secrets: [secret("s3cret", 0, null)] }));
    const req = only();
    expect(req.headers["x-signature"]).toBeDefined();
    const verdict = verifyWebhook({
      scheme: { name: "hmac", ...schemeOptions },
      secrets: "s3cret",
      headers: req.headers,
      body: req.body,
    });
    expect(verdict.ok).toBe(true);
  });
});

describe("usage", () => {
  it("sends one attempt and hands back what the store records", async () => {
    const store: unknown[] = [];
    const guardedEndpoint = endpoint();
    // #region send-attempt
    const http = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"] });
    const { attempt, classification } = await http.send({
      delivery: delivery(),
      message,
      endpoint: guardedEndpoint,
      attemptNumber: 1,
    });
    store.push(attempt); // AttemptInput-shaped: startedAt, durationMs, succeeded, statusCode, …
    if (classification.outcome === "retry") {
      // classification.reason, and classification.retryAfterMs when the receiver sent Retry-After
    }
    await http.close();
    // #endregion send-attempt
    expect(store).toHaveLength(1);
    expect(attempt.succeeded).toBe(true);
  });
});

describe("responses", () => {
  it("logs status, lowercase headers, body and a duration", async () => {
    respond = (_req, res) => {
      res.writeHead(201, { "X-Receiver": "yes" });
      res.end("created");
    };
    const { attempt } = await send();
    expect(attempt).toMatchObject({
      statusCode: 201,
      responseBody: "created",
      error: null,
      succeeded: true,
    });
    expect(attempt.responseHeaders?.["x-receiver"]).toBe("yes");
    expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(attempt.startedAt)).not.toBeNaN();
  });

  it("410 disables the endpoint", async () => {
    respond = (_req, res) => {
      res.statusCode = 410;
      res.end("gone");
    };
    const result = await send();
    expect(result.classification).toEqual({ outcome: "disable_endpoint", reason: "gone" });
    expect(result.attempt.succeeded).toBe(false);
  });

  it("503 with Retry-After: 2 retries after 2000 ms", async () => {
    respond = (_req, res) => {
      res.writeHead(503, { "Retry-After": "2" });
      res.end();
    };
    const result = await send();
    expect(result.classification).toEqual({
      outcome: "retry",
      reason: "unavailable",
      retryAfterMs: 2000,
    });
    expect(result.attempt.statusCode).toBe(503);
  });

  it("302 is a failure and the redirect is not followed", async () => {
    respond = (_req, res) => {
      res.writeHead(302, { Location: `http://127.0.0.1:${elsewhere.port}/` });
      res.end();
    };
    const result = await send();
    expect(result.classification).toEqual({ outcome: "retry", reason: "redirect" });
    expect(result.attempt.statusCode).toBe(302);
    expect(elsewhere.received).toHaveLength(0);
  });

  it("keeps at most 20 KiB of a large body", async () => {
    respond = (_req, res) => res.end("x".repeat(200 * 1024));
    const result = await send();
    expect(result.attempt.responseBody).toHaveLength(20 * 1024);
    expect(result.responseBodyTruncated).toBe(true);
    expect(result.attempt.succeeded).toBe(true);
  });
});

describe("failures become results", () => {
  it("a body that stalls after the status keeps the status and logs the timeout", async () => {
    respond = (_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
    };
    const result = await send(endpoint({ timeoutMs: 200 }));
    expect(result.attempt.statusCode).toBe(200);
    expect(result.attempt.error).toMatch(/^timeout: /);
    expect(result.classification).toEqual({ outcome: "success" });
  });

  it("a receiver that never answers times out after timeoutMs", async () => {
    respond = () => {};
    const result = await send(endpoint({ timeoutMs: 200 }));
    expect(result.attempt.error).toMatch(/^timeout: /);
    expect(result.attempt.statusCode).toBeNull();
    expect(result.classification).toEqual({ outcome: "retry", reason: "timeout" });
    expect(result.attempt.durationMs).toBeGreaterThanOrEqual(150);
    expect(result.attempt.durationMs).toBeLessThan(2000);
  });

  it("connection refused is a network error", async () => {
    const closed = await startServer(() => respond);
    await stop(closed.server);
    const result = await send(endpoint({ target: `http://127.0.0.1:${closed.port}/` }));
    expect(result.attempt.error).toMatch(/^network: .*ECONNREFUSED/);
    expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
  });

  it("the default guard refuses loopback: ssrf.blocked, nothing reaches the server", async () => {
    const guarded = createHttpTransport();
    try {
      const result = await send(endpoint(), 1, guarded);
      expect(result.attempt.error).toMatch(/^ssrf\.blocked: /);
      expect(result.attempt.error).not.toContain(secretA);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });

  it("an unsupported target is refused without a request", async () => {
    const result = await send(endpoint({ target: "ftp://127.0.0.1/" }));
    expect(result.attempt.error).toMatch(/^request\.invalid: /);
  });
});
