// The WebSocket transport against real `ws` servers on loopback: the frame on the wire, acks
// matched by id, nack classes, timeouts, dropped connections, reconnects with backoff after the
// listener restarts, limits, the heartbeat, the SSRF guard, target checks, and the listener helper.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { reconnectDelayMs } from "../../packages/core/src/delivery/transports/connectionSlots.js";
import type {
  EndpointRecord,
  MessageRecord,
} from "../../packages/core/src/model/deliveryRecords.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import {
  type DeliveryFrame,
  parseDeliveryFrame,
} from "../../packages/websocket/src/core/websocketFrames.js";
import {
  checkWebSocketTarget,
  createWebSocketTransport,
  type WebSocketTransport,
  type WebSocketTransportOptions,
} from "../../packages/websocket/src/delivery/transports/websocket.js";
import {
  createWebSocketListener,
  DeliveryRejection,
  type HeraldDelivery,
  handleHeraldSocket,
} from "../../packages/websocket/src/inbound/websocketListener.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";
import { docRegionBlocks, testRegion } from "../helpers/docRegions.js";
import { createLocalhostCertificate, opensslAvailable } from "../helpers/localhostCertificate.js";
import { expectTargetForms, TARGET_PASSWORD } from "./targetChecks.js";

type OnFrame = (frame: DeliveryFrame, socket: WebSocket) => void;

interface Peer {
  port: number;
  url: string;
  frames: DeliveryFrame[];
  /** Raw text of every frame received. */
  texts: string[];
  /** The upgrade request of every connection. */
  requests: IncomingMessage[];
  onFrame: OnFrame;
  close(): Promise<void>;
}

const ack: OnFrame = (frame, socket) => socket.send(JSON.stringify({ type: "ack", id: frame.id }));

async function startPeer(
  port = 0,
  onFrame: OnFrame = ack,
  options: { autoPong?: boolean } = {},
): Promise<Peer> {
  const server = new WebSocketServer({ port, host: "127.0.0.1", ...options });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const bound = (server.address() as AddressInfo).port;
  const peer: Peer = {
    port: bound,
    url: `ws://127.0.0.1:${bound}/hooks`,
    frames: [],
    texts: [],
    requests: [],
    onFrame,
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on("connection", (socket, request) => {
    peer.requests.push(request);
    socket.on("message", (data) => {
      const text = String(data);
      peer.texts.push(text);
      const frame = parseDeliveryFrame(text);
      if (frame === null) return;
      peer.frames.push(frame);
      peer.onFrame(frame, socket);
    });
  });
  peers.push(peer);
  return peer;
}

const peers: Peer[] = [];
const transports: WebSocketTransport[] = [];
const secret = generateSecret("standard");

function transport(options: WebSocketTransportOptions = {}): WebSocketTransport {
  const created = createWebSocketTransport({ ssrfAllow: ["127.0.0.0/8", "::1/128"], ...options });
  transports.push(created);
  return created;
}

afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  for (const p of peers.splice(0)) await p.close();
});

function endpoint(target: string, overrides: Partial<EndpointRecord> = {}): EndpointRecord {
  return testEndpoint(target, [{ secret, expiresAt: null, createdAt: new Date(0).toISOString() }], {
    transport: "websocket",
    timeoutMs: 2000,
    ...overrides,
  });
}

function send(
  t: WebSocketTransport,
  ep: EndpointRecord,
  options: { deliveryId?: string; attempts?: number; message?: MessageRecord } = {},
) {
  const message = options.message ?? {
    ...testMessage({ order: 7, note: "grüße" }),
    id: `msg_${randomUUID().replaceAll("-", "")}`,
  };
  const delivery = {
    ...testDelivery(
      options.deliveryId ?? `dlv_${randomUUID().replaceAll("-", "")}`,
      options.attempts,
    ),
    messageId: message.id,
  };
  return t.send({ delivery, message, endpoint: ep, attemptNumber: delivery.attempts + 1 });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("WebSocket transport: the wire", () => {
  it("sends one JSON text frame with the delivery's fields, the signed headers and the exact body", async () => {
    const peer = await startPeer();
    const t = transport();
    const message = {
      ...testMessage({ order: 7, note: "grüße" }),
      id: "msg_frame1",
      tenant: "acme",
    };
    const ep = endpoint(peer.url, { headers: { "x-team": "billing" } });
    const result = await send(t, ep, { deliveryId: "dlv_frame1", attempts: 2, message });
    expect(result.classification).toEqual({ outcome: "success" });
    expect(result.attempt).toMatchObject({ succeeded: true, error: null, statusCode: null });
    expect(JSON.parse(result.attempt.responseBody ?? "")).toEqual({
      type: "ack",
      id: "dlv_frame1",
    });

    expect(peer.texts).toHaveLength(1);
    const wire = JSON.parse(peer.texts[0] ?? "") as Record<string, unknown>;
    expect(Object.keys(wire).sort()).toEqual(
      ["attempt", "body", "event_type", "headers", "id", "message_id", "type"].sort(),
    );
    expect(wire).toMatchObject({
      type: "delivery",
      id: "dlv_frame1",
      message_id: "msg_frame1",
      event_type: "order.created.v1",
      attempt: 3,
      body: JSON.stringify(message.payload),
    });
    const headers = wire.headers as Record<string, string>;
    expect(headers).toMatchObject({
      "content-type": "application/json",
      "x-team": "billing",
      "x-herald-message-id": "msg_frame1",
      "x-herald-delivery-id": "dlv_frame1",
      "x-herald-event-type": "order.created.v1",
      "x-herald-tenant": "acme",
      "webhook-id": "msg_frame1",
    });
    const verdict = verifyWebhook({
      scheme: "standard",
      secrets: secret,
      headers,
      body: Buffer.from(String(wire.body), "utf8"),
    });
    expect(verdict).toMatchObject({ ok: true, id: "msg_frame1" });
  });

  it("holds one connection per target, keeps the URL's host in the Host header, and matches acks by id", async () => {
    // Answers the two deliveries in reverse order, after noise the transport must ignore.
    const held: { frame: DeliveryFrame; socket: WebSocket }[] = [];
    const peer = await startPeer(0, (frame, socket) => {
      held.push({ frame, socket });
      if (held.length < 2) return;
      socket.send("not json");
      socket.send(Buffer.from([1, 2, 3]), { binary: true });
      socket.send(JSON.stringify({ type: "ack", id: "dlv_nobody" }));
      socket.send(JSON.stringify({ type: "hello", id: held[0]?.frame.id }));
      for (const h of [...held].reverse()) ack(h.frame, h.socket);
    });
    const t = transport();
    const ep = endpoint(`ws://localhost:${peer.port}/hooks`);
    const [a, b] = await Promise.all([
      send(t, ep, { deliveryId: "dlv_a" }),
      send(t, ep, { deliveryId: "dlv_b" }),
    ]);
    expect(JSON.parse(a.attempt.responseBody ?? "")).toEqual({ type: "ack", id: "dlv_a" });
    expect(JSON.parse(b.attempt.responseBody ?? "")).toEqual({ type: "ack", id: "dlv_b" });
    expect(peer.requests).toHaveLength(1);
    expect(peer.requests[0]?.headers.host).toBe(`localhost:${peer.port}`);
    expect(peer.requests[0]?.url).toBe("/hooks");
    expect(t.stats()).toMatchObject({ connections: 1, connects: 1, unacked: 0, ignoredFrames: 4 });
    // The connection is reused by the next send.
    expect((await send(t, ep)).attempt.succeeded).toBe(true);
    expect(peer.requests).toHaveLength(1);
  });

  it("classifies a nack: retry true (or absent) is retried, retry false is a final refusal", async () => {
    const peer = await startPeer(0, (frame, socket) => {
      const answers: Record<string, object> = {
        dlv_retry: { type: "nack", id: frame.id, retry: true, error: "database busy" },
        dlv_final: { type: "nack", id: frame.id, retry: false, error: "unknown order" },
        dlv_bare: { type: "nack", id: frame.id },
      };
      socket.send(JSON.stringify(answers[frame.id]));
    });
    const t = transport();
    const ep = endpoint(peer.url);
    const retry = await send(t, ep, { deliveryId: "dlv_retry" });
    expect(retry.classification).toEqual({ outcome: "retry", reason: "unavailable" });
    expect(retry.attempt).toMatchObject({
      succeeded: false,
      error: "websocket: nack: database busy",
    });
    const final = await send(t, ep, { deliveryId: "dlv_final" });
    expect(final.classification).toEqual({ outcome: "reject", reason: "rejected" });
    expect(final.attempt.error).toBe("websocket: nack (retry: false): unknown order");
    const bare = await send(t, ep, { deliveryId: "dlv_bare" });
    expect(bare.classification).toEqual({ outcome: "retry", reason: "unavailable" });
    expect(bare.attempt.error).toBe("websocket: nack");
  });
});

describe("WebSocket transport: failures", () => {
  it("a withheld ack is a timeout; the late ack is ignored and the connection stays in use", async () => {
    const late: (() => void)[] = [];
    const peer = await startPeer(0, (frame, socket) => {
      if (frame.id === "dlv_slow") late.push(() => ack(frame, socket));
      else ack(frame, socket);
    });
    const t = transport();
    const result = await send(t, endpoint(peer.url, { timeoutMs: 200 }), {
      deliveryId: "dlv_slow",
    });
    expect(result.classification).toEqual({ outcome: "retry", reason: "timeout" });
    expect(result.attempt.error).toBe("timeout: no ack within 200 ms");
    expect(t.stats().unacked).toBe(0);
    for (const answer of late) answer();
    expect((await send(t, endpoint(peer.url))).attempt.succeeded).toBe(true);
    expect(t.stats()).toMatchObject({ ignoredFrames: 1, connects: 1 });
  });

  it("a connection that drops with deliveries awaiting acks fails each of them as a retry", async () => {
    let frames = 0;
    const peer = await startPeer(0, (_frame, socket) => {
      frames += 1;
      if (frames === 3) socket.terminate();
    });
    const t = transport();
    const ep = endpoint(peer.url);
    const results = await Promise.all([send(t, ep), send(t, ep), send(t, ep)]);
    for (const result of results) {
      expect(result.attempt.succeeded).toBe(false);
      expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
      expect(result.attempt.error).toMatch(
        /^websocket: connection closed \(1006\).* before the listener answered$/,
      );
    }
    expect(t.stats()).toMatchObject({ connections: 0, unacked: 0 });
  });

  it("reconnects after the listener restarts on the same port, waiting a growing backoff in between", async () => {
    const first = await startPeer();
    const port = first.port;
    const t = transport({ reconnectBaseMs: 400, reconnectMaxMs: 5000, random: () => 0.99 });
    const ep = endpoint(`ws://127.0.0.1:${port}/hooks`, { timeoutMs: 150 });
    expect((await send(t, ep)).attempt.succeeded).toBe(true);

    await first.close();
    peers.splice(peers.indexOf(first), 1);
    await sleep(20);
    // The drop counts as a failure: the next connect waits ~400 ms, longer than this attempt.
    const during = await send(t, ep);
    expect(during.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect(during.attempt.error).toMatch(
      /^websocket: connection closed \(1006\).*\(next connect in \d+ ms\)$/,
    );
    await sleep(420);
    // Nobody listens: the connect is refused, and the wait doubles (~800 ms).
    const refused = await send(t, ep);
    expect(refused.attempt.error).toMatch(/^network: connect ECONNREFUSED/);
    const waiting = await send(t, ep);
    const wait = Number(/next connect in (\d+) ms/.exec(waiting.attempt.error ?? "")?.[1]);
    expect(waiting.attempt.error).toMatch(
      /^network: connect ECONNREFUSED .*\(next connect in \d+ ms\)$/,
    );
    expect(wait).toBeGreaterThan(400);
    expect(wait).toBeLessThanOrEqual(800);

    const second = await startPeer(port);
    await sleep(wait + 20);
    const back = await send(t, ep);
    expect(back.attempt.succeeded).toBe(true);
    expect(second.frames).toHaveLength(1);
    expect(t.stats()).toMatchObject({ connects: 2, connections: 1 });
  });

  it("waits out a backoff shorter than the attempt's timeout instead of failing", async () => {
    const first = await startPeer();
    const port = first.port;
    const t = transport({ reconnectBaseMs: 200, random: () => 0.5 });
    const ep = endpoint(`ws://127.0.0.1:${port}/`, { timeoutMs: 2000 });
    expect((await send(t, ep)).attempt.succeeded).toBe(true);
    await first.close();
    peers.splice(peers.indexOf(first), 1);
    await startPeer(port);
    await sleep(20);
    const result = await send(t, ep);
    expect(result.attempt.succeeded).toBe(true);
    expect(result.attempt.durationMs).toBeGreaterThanOrEqual(100);
  });

  it("refuses a loopback listener without the SSRF allowlist, before connecting", async () => {
    const peer = await startPeer();
    const t = createWebSocketTransport();
    transports.push(t);
    // By address, and by a name that resolves to loopback.
    for (const target of [peer.url, `ws://localhost:${peer.port}/hooks`]) {
      const result = await send(t, endpoint(target));
      expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
      expect(result.attempt.error).toMatch(/^ssrf\.blocked: /);
    }
    expect(peer.requests).toHaveLength(0);
    expect(t.stats().connects).toBe(0);
  });

  it("a target that is not a ws(s) URL is a request.invalid attempt, never echoing a password", async () => {
    const t = transport();
    const result = await send(t, endpoint("http://user:hunter2@example.com/x"));
    expect(result.attempt.error).toBe(
      "request.invalid: url: must be an absolute ws:// or wss:// URL",
    );
    expect(JSON.stringify(result)).not.toContain("hunter2");
  });
});

describe("WebSocket transport: limits", () => {
  it("caps the deliveries awaiting acks on one connection", async () => {
    const held: (() => void)[] = [];
    const peer = await startPeer(0, (frame, socket) => held.push(() => ack(frame, socket)));
    const t = transport({ maxUnackedPerConnection: 2 });
    const ep = endpoint(peer.url);
    const first = send(t, ep);
    const second = send(t, ep);
    while (peer.frames.length < 2) await sleep(5);
    const third = await send(t, ep);
    expect(third.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect(third.attempt.error).toBe(
      "websocket: 2 deliveries already await an ack on this connection",
    );
    expect(peer.frames).toHaveLength(2);
    for (const answer of held) answer();
    expect((await first).attempt.succeeded).toBe(true);
    expect((await second).attempt.succeeded).toBe(true);
  });

  it("drops a connection whose listener sends a frame larger than maxFrameBytes", async () => {
    const peer = await startPeer(0, (frame, socket) =>
      socket.send(JSON.stringify({ type: "ack", id: frame.id, padding: "x".repeat(4096) })),
    );
    const t = transport({ maxFrameBytes: 1024 });
    const result = await send(t, endpoint(peer.url));
    expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect(result.attempt.error).toMatch(
      /^websocket: connection closed \(\d+\): Max payload size exceeded/,
    );
  });

  it("drops a connection that stops answering pings", async () => {
    // The listener neither pongs nor acks: the heartbeat, not the attempt's timeout, ends it.
    const peer = await startPeer(0, () => {}, { autoPong: false });
    const t = transport({ heartbeatIntervalMs: 50 });
    const result = await send(t, endpoint(peer.url, { timeoutMs: 5000 }));
    expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect(result.attempt.error).toMatch(/^websocket: connection closed \(1006\)/);
    expect(result.attempt.durationMs).toBeLessThan(5000);
  });

  it("close() is idempotent and a send after it fails as a retry", async () => {
    const peer = await startPeer();
    const t = transport();
    expect((await send(t, endpoint(peer.url))).attempt.succeeded).toBe(true);
    await Promise.all([t.close(), t.close()]);
    await t.close();
    const after = await send(t, endpoint(peer.url));
    expect(after.attempt.error).toBe("websocket: the transport is closed");
    expect(t.stats().connections).toBe(0);
  });
});

// Skipped only when the openssl binary is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1)
// opensslAvailable throws instead.
describe.skipIf(!opensslAvailable)("WebSocket transport over TLS (wss://)", () => {
  let cert: Buffer;
  let server: HttpsServer;
  let port: number;
  const serverNames: (string | false | null)[] = [];
  const hosts: (string | undefined)[] = [];

  beforeAll(async () => {
    let key: Buffer;
    ({ key, cert } = createLocalhostCertificate());
    server = createHttpsServer({ key, cert });
    server.on("secureConnection", (socket: TLSSocket) => serverNames.push(socket.servername));
    const wss = new WebSocketServer({ server });
    wss.on("connection", (socket, request) => {
      hosts.push(request.headers.host);
      socket.on("message", (data) => {
        const frame = parseDeliveryFrame(String(data));
        if (frame !== null) ack(frame, socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "localhost", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("connects to the guarded address with the URL's name as SNI and Host, and verifies the certificate", async () => {
    const t = transport({ tlsRootCerts: cert });
    const result = await send(t, endpoint(`wss://localhost:${port}/hooks`));
    expect(result.attempt.succeeded).toBe(true);
    expect(serverNames.at(-1)).toBe("localhost");
    expect(hosts.at(-1)).toBe(`localhost:${port}`);
  });

  it("refuses a certificate the system roots do not trust, and one for another name", async () => {
    const untrusted = await send(transport(), endpoint(`wss://localhost:${port}/hooks`));
    // The same listener by IP address: the certificate names localhost only.
    const otherName = await send(
      transport({ tlsRootCerts: cert }),
      endpoint(`wss://127.0.0.1:${port}/hooks`),
    );
    for (const result of [untrusted, otherName]) {
      expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
      expect(result.attempt.error).toMatch(/^network: /);
    }
    expect(untrusted.attempt.error).toMatch(/self-signed certificate/);
    expect(otherName.attempt.error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });
});

describe("WebSocket target check and backoff", () => {
  it("accepts ws:// and wss:// URLs and refuses the rest with request.invalid naming url", () => {
    expectTargetForms(
      checkWebSocketTarget,
      ["ws://127.0.0.1:8080/hooks", "wss://user:pw@listener.example.com/herald?x=1"],
      [
        "http://example.com/",
        "example.com",
        "ws://",
        "ws://example.com/#part",
        `wss://user:${TARGET_PASSWORD}@exa mple.com/`,
        "",
      ],
    );
  });

  it("backs off exponentially with jitter, capped", () => {
    const backoff = { baseMs: 100, maxMs: 1000 };
    expect(reconnectDelayMs(0, backoff)).toBe(0);
    expect([1, 2, 3, 4, 5, 10, 80].map((n) => reconnectDelayMs(n, backoff, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500, 500,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => reconnectDelayMs(n, backoff, () => 0.999999))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
    // Without a jitter source the wait is the ceiling itself (the broker transports).
    expect([1, 2, 3, 4, 5, 80].map((n) => reconnectDelayMs(n, backoff))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });
});

describe("WebSocket listener helper", () => {
  it("docs/websocket.md shows this file's listener example verbatim", () => {
    const blocks = docRegionBlocks("docs/websocket.md");
    expect(blocks.length).toBeGreaterThan(0);
    for (const [file, name, code] of blocks) expect(code).toBe(testRegion(file, name));
  });

  it("verifies, hands over and acks; a thrown error nacks for retry; a DeliveryRejection or a bad signature nacks for good", async () => {
    const orders: { type: string; payload: unknown }[] = [];
    const handled: HeraldDelivery[] = [];
    // #region websocket-listener
    const seen = new Set<string>();
    const listener = await createWebSocketListener({
      port: 0, // any free port; the endpoint's URL is listener.url
      secret, // the endpoint's signing secret (whsec_…)
      onDelivery: async (delivery) => {
        const { note } = delivery.payload as { note: string };
        if (note === "fail") throw new Error("disk full"); // nack, retry: true
        if (note === "refuse") throw new DeliveryRejection("order unknown"); // nack, retry: false
        if (seen.has(delivery.messageId)) return; // at-least-once: a retry may repeat a message
        seen.add(delivery.messageId);
        orders.push({ type: delivery.eventType, payload: delivery.payload });
        handled.push(delivery);
      }, // returning acks the delivery
    });
    // #endregion websocket-listener
    try {
      const t = transport();
      const ep = endpoint(`${listener.url}/`);
      const message = { ...testMessage({ note: "ok" }), id: "msg_listener" };
      const ok = await send(t, ep, { deliveryId: "dlv_ok", message });
      expect(ok.classification).toEqual({ outcome: "success" });
      expect(orders).toEqual([{ type: "order.created.v1", payload: { note: "ok" } }]);
      expect(handled[0]).toMatchObject({
        id: "dlv_ok",
        messageId: "msg_listener",
        eventType: "order.created.v1",
        attempt: 1,
        body: JSON.stringify({ note: "ok" }),
      });
      expect(handled[0]?.headers["webhook-signature"]).toMatch(/^v1,/);
      // A retry of the same message is acked again but handled once.
      const again = await send(t, ep, { deliveryId: "dlv_ok", attempts: 1, message });
      expect(again.classification).toEqual({ outcome: "success" });
      expect(orders).toHaveLength(1);

      const failing = await send(t, ep, {
        message: { ...testMessage({ note: "fail" }), id: "msg_f" },
      });
      expect(failing.classification).toEqual({ outcome: "retry", reason: "unavailable" });
      expect(failing.attempt.error).toBe("websocket: nack: disk full");

      const refused = await send(t, ep, {
        message: { ...testMessage({ note: "refuse" }), id: "msg_r" },
      });
      expect(refused.classification).toEqual({ outcome: "reject", reason: "rejected" });
      expect(refused.attempt.error).toBe("websocket: nack (retry: false): order unknown");

      const forged = endpoint(`${listener.url}/`, {
        secrets: [
          {
            secret: generateSecret("standard"),
            expiresAt: null,
            createdAt: new Date(0).toISOString(),
          },
        ],
      });
      const bad = await send(t, forged, {
        message: { ...testMessage({ note: "forged" }), id: "msg_x" },
      });
      expect(bad.classification).toEqual({ outcome: "reject", reason: "rejected" });
      expect(bad.attempt.error).toBe(
        "websocket: nack (retry: false): signature: signature.invalid",
      );
      expect(orders).toHaveLength(1);
    } finally {
      await listener.close();
    }
  });

  it("handleHeraldSocket serves a socket of the application's own server and ignores other frames", async () => {
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const got: string[] = [];
    server.on("connection", (socket) => {
      socket.on("message", (data) => {
        if (String(data) === "probe") socket.send("probe received");
      });
      handleHeraldSocket(socket, {
        secret: [generateSecret("standard"), secret], // a rotation: either secret verifies
        onDelivery: (delivery) => {
          got.push(delivery.messageId);
        },
      });
    });
    try {
      const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const raw = new WebSocket(url);
      await new Promise((resolve) => raw.once("open", resolve));
      const replies: string[] = [];
      raw.on("message", (data) => replies.push(String(data)));
      // Frames that are not deliveries get no answer (one would arrive before the probe's).
      raw.send("{not json");
      raw.send(JSON.stringify({ type: "delivery", id: "dlv_half" }));
      raw.send(Buffer.from([0, 1]), { binary: true });
      raw.send("probe");
      while (replies.length < 1) await sleep(5);
      raw.close();
      expect(replies).toEqual(["probe received"]);

      const result = await send(transport(), endpoint(url), {
        message: { ...testMessage({ note: "ok" }), id: "msg_own" },
      });
      expect(result.classification).toEqual({ outcome: "success" });
      expect(got).toEqual(["msg_own"]);
    } finally {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
