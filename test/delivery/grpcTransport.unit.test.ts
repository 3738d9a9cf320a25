// The gRPC transport against real grpc-js servers on loopback: the status mapping, the signed
// headers in metadata and message, the SSRF guard, target checks, TLS with a certificate made
// here by openssl, one connection per target, the listener helper, and a `reject` through the
// delivery worker.
import {
  Client,
  connectivityState,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDeliveryWorker } from "../../packages/core/src/delivery/deliveryWorker.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createSsrfGuard } from "../../packages/core/src/delivery/ssrfGuard.js";
import type { TransportResult } from "../../packages/core/src/delivery/transports/types.js";
import type { EndpointRecord } from "../../packages/core/src/model/deliveryRecords.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import {
  createGrpcConnections,
  MAX_GRPC_CLIENTS,
} from "../../packages/grpc/src/delivery/transports/grpcConnections.js";
import { parseGrpcTarget } from "../../packages/grpc/src/delivery/transports/grpcTarget.js";
import {
  addHeraldListener,
  checkGrpcTarget,
  classifyGrpcStatus,
  createGrpcListener,
  createGrpcTransport,
  type GrpcListenerDelivery,
  listenerService,
} from "../../packages/grpc/src/index.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { isHeraldError } from "../../packages/webhooks/src/core/errors.js";
import {
  generateSecret,
  signWebhook,
  verifyWebhook,
} from "../../packages/webhooks/src/signing/sign.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";
import { docRegionBlocks, testRegion } from "../helpers/docRegions.js";
import { createLocalhostCertificate, opensslAvailable } from "../helpers/localhostCertificate.js";
import { type GrpcAnswer, type GrpcPeer, startGrpcPeer } from "./grpcPeer.js";

const LOOPBACK = ["127.0.0.0/8", "::1/128"];
let serial = 0;

function secretsOf(secret: string) {
  return [{ secret, expiresAt: null, createdAt: new Date(0).toISOString() }];
}

function sendTo(
  transport: ReturnType<typeof createGrpcTransport>,
  target: string,
  secret: string,
  overrides: Partial<EndpointRecord> = {},
): Promise<TransportResult> {
  serial += 1;
  const message = { ...testMessage({ orderId: serial, note: "grüße" }), id: `msg_grpc${serial}` };
  return transport.send({
    delivery: { ...testDelivery(`dlv_grpc${serial}`, 2), messageId: message.id },
    message: { ...message, tenant: "acme" },
    endpoint: testEndpoint(target, secretsOf(secret), {
      transport: "grpc",
      timeoutMs: 2000,
      ...overrides,
    }),
    attemptNumber: 3,
  });
}

describe("gRPC transport", () => {
  const secret = generateSecret("standard");
  let peer: GrpcPeer;
  let reply: GrpcAnswer;
  let transport: ReturnType<typeof createGrpcTransport>;
  let target: string;

  beforeAll(async () => {
    peer = await startGrpcPeer(() => reply);
    target = `grpc://127.0.0.1:${peer.port}`;
  });
  afterAll(() => peer.stop());
  beforeEach(() => {
    reply = { ack: {} };
    peer.seen.length = 0;
    transport = createGrpcTransport({ ssrfAllow: LOOPBACK });
  });
  afterEach(async () => {
    peer.release();
    await transport.close();
  });

  it("OK is a success; the Ack's note is the attempt's response body", async () => {
    reply = { ack: { note: "stored as ord_1" } };
    const result = await sendTo(transport, target, secret);
    expect(result.classification).toEqual({ outcome: "success" });
    expect(result.attempt).toMatchObject({
      succeeded: true,
      error: null,
      statusCode: null,
      responseBody: "stored as ord_1",
    });
    reply = { ack: {} };
    expect((await sendTo(transport, target, secret)).attempt.responseBody).toBeNull();
  });

  it.each([
    [status.UNAVAILABLE, { outcome: "retry", reason: "unavailable" }, "grpc: UNAVAILABLE busy"],
    [
      status.RESOURCE_EXHAUSTED,
      { outcome: "retry", reason: "rate_limited" },
      "grpc: RESOURCE_EXHAUSTED busy",
    ],
    [
      status.DEADLINE_EXCEEDED,
      { outcome: "retry", reason: "timeout" },
      "timeout: no response within 2000 ms",
    ],
    [status.CANCELLED, { outcome: "retry", reason: "network_error" }, "grpc: CANCELLED busy"],
    [
      status.INVALID_ARGUMENT,
      { outcome: "reject", reason: "rejected" },
      "grpc: INVALID_ARGUMENT busy",
    ],
    [status.NOT_FOUND, { outcome: "reject", reason: "rejected" }, "grpc: NOT_FOUND busy"],
    [status.ALREADY_EXISTS, { outcome: "reject", reason: "rejected" }, "grpc: ALREADY_EXISTS busy"],
    [
      status.PERMISSION_DENIED,
      { outcome: "reject", reason: "rejected" },
      "grpc: PERMISSION_DENIED busy",
    ],
    [
      status.FAILED_PRECONDITION,
      { outcome: "reject", reason: "rejected" },
      "grpc: FAILED_PRECONDITION busy",
    ],
    [status.ABORTED, { outcome: "reject", reason: "rejected" }, "grpc: ABORTED busy"],
    [status.OUT_OF_RANGE, { outcome: "reject", reason: "rejected" }, "grpc: OUT_OF_RANGE busy"],
    [status.UNIMPLEMENTED, { outcome: "reject", reason: "rejected" }, "grpc: UNIMPLEMENTED busy"],
    [status.INTERNAL, { outcome: "reject", reason: "rejected" }, "grpc: INTERNAL busy"],
    [status.UNKNOWN, { outcome: "reject", reason: "rejected" }, "grpc: UNKNOWN busy"],
    [status.DATA_LOSS, { outcome: "reject", reason: "rejected" }, "grpc: DATA_LOSS busy"],
    [
      status.UNAUTHENTICATED,
      { outcome: "reject", reason: "rejected" },
      "grpc: UNAUTHENTICATED busy",
    ],
  ])(
    "the listener's status %s is classified and logged as the worker expects",
    async (code, classification, error) => {
      reply = { status: code, details: "busy" };
      const result = await sendTo(transport, target, secret);
      expect(result.classification).toEqual(classification);
      expect(result.attempt).toMatchObject({ succeeded: false, error, statusCode: null });
      expect(peer.seen).toHaveLength(1);
    },
  );

  it("a server without herald.v1.Listener answers UNIMPLEMENTED: rejected", async () => {
    const bare = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      bare.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
        e === null ? resolve(p) : reject(e),
      ),
    );
    try {
      const result = await sendTo(transport, `grpc://127.0.0.1:${port}`, secret);
      expect(result.classification).toEqual({ outcome: "reject", reason: "rejected" });
      expect(result.attempt.error).toMatch(/^grpc: UNIMPLEMENTED /);
    } finally {
      bare.forceShutdown();
    }
  });

  it("no listener on the port: UNAVAILABLE, retried", async () => {
    const gone = await startGrpcPeer(() => ({ ack: {} }));
    gone.stop();
    const result = await sendTo(transport, `grpc://127.0.0.1:${gone.port}`, secret);
    expect(result.classification).toEqual({ outcome: "retry", reason: "unavailable" });
    expect(result.attempt.error).toMatch(/^grpc: UNAVAILABLE .*ECONNREFUSED/);
  });

  it("the status text is kept short and on one line", () => {
    const outcome = classifyGrpcStatus(status.NOT_FOUND, `a\nb ${"x".repeat(2000)}`, 100);
    expect(outcome.error).toMatch(/^grpc: NOT_FOUND a b x+…$/);
    expect(outcome.error?.length).toBeLessThan(600);
    expect(classifyGrpcStatus(99, "", 100).error).toBe("grpc: STATUS_99");
  });

  it("the message and the call metadata carry the signed headers; both verify with the endpoint's secret", async () => {
    const result = await sendTo(transport, target, secret, {
      headers: { "x-team": "billing", "x-note": "grüße" },
    });
    expect(result.attempt.succeeded).toBe(true);
    const [call] = peer.seen;
    if (call === undefined) throw new Error("no call");
    const { request, metadata } = call;
    expect(request).toMatchObject({
      id: `dlv_grpc${serial}`,
      messageId: `msg_grpc${serial}`,
      eventType: "order.created.v1",
      tenant: "acme",
      attempt: 3,
    });
    expect(JSON.parse(request.body.toString("utf8"))).toEqual({ orderId: serial, note: "grüße" });
    for (const headers of [metadata, request.headers]) {
      expect(
        verifyWebhook({ scheme: "standard", secrets: secret, headers, body: request.body }),
      ).toEqual({ ok: true, id: `msg_grpc${serial}`, timestamp: expect.any(Number) });
      expect(
        verifyWebhook({
          scheme: "standard",
          secrets: generateSecret("standard"),
          headers,
          body: request.body,
        }).ok,
      ).toBe(false);
    }
    for (const name of [
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
      "x-herald-message-id",
      "x-herald-delivery-id",
      "x-herald-event-type",
      "x-herald-tenant",
      "x-team",
    ]) {
      expect(metadata[name], name).toBe(request.headers[name]);
    }
    // gRPC sets its own content-type, and metadata text is ASCII: those stay in the message.
    expect(request.headers["content-type"]).toBe("application/json");
    expect(metadata["content-type"]).not.toBe("application/json");
    expect(request.headers["x-note"]).toBe("grüße");
    expect(metadata["x-note"]).toBeUndefined();
    // The listener sees the name it was addressed by.
    expect(call.authority).toBe(`127.0.0.1:${peer.port}`);
  });

  it("sends to one target share one connection", async () => {
    for (let n = 0; n < 3; n++)
      expect((await sendTo(transport, target, secret)).attempt.succeeded).toBe(true);
    expect(new Set(peer.seen.map((call) => call.peer)).size).toBe(1);
  });

  it("a peer that withholds its answer is `timeout:` at the endpoint's timeoutMs", async () => {
    reply = "hold";
    const result = await sendTo(transport, target, secret, { timeoutMs: 200 });
    expect(result.classification).toEqual({ outcome: "retry", reason: "timeout" });
    expect(result.attempt.error).toBe("timeout: no response within 200 ms");
  });

  it("without an allowlist, loopback is refused by the SSRF guard and nothing is sent", async () => {
    const guarded = createGrpcTransport();
    try {
      for (const to of [target, `grpc://localhost:${peer.port}`]) {
        const result = await sendTo(guarded, to, secret);
        expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
        expect(result.attempt.error).toMatch(/^ssrf\.blocked: Refusing to connect to /);
      }
      expect(peer.seen).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });

  it("a name that does not resolve is a `network:` failure", async () => {
    const result = await sendTo(transport, "grpc://no-such-host.invalid:50051", secret);
    expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
    expect(result.attempt.error).toMatch(/^network: .*ENOTFOUND/);
  });

  it("close() is idempotent; a send after it fails as a retry", async () => {
    expect((await sendTo(transport, target, secret)).attempt.succeeded).toBe(true);
    await transport.close();
    await transport.close();
    const after = await sendTo(transport, target, secret);
    expect(after.classification.outcome).toBe("retry");
    expect(after.attempt.error).toMatch(/^network: .*closed/);
  });
});

describe("gRPC connections", () => {
  const guard = createSsrfGuard({ allow: LOOPBACK });

  it("keep at most MAX_GRPC_CLIENTS clients, closing the least recently used", async () => {
    const connections = createGrpcConnections({ guard });
    const target = (n: number) => `grpc://127.0.0.1:${10_000 + n}`;
    const first = await connections.client(target(0), parseGrpcTarget(target(0)));
    const second = await connections.client(target(1), parseGrpcTarget(target(1)));
    for (let n = 2; n <= MAX_GRPC_CLIENTS; n++) {
      await connections.client(target(n), parseGrpcTarget(target(n)));
      if (n === 2) await connections.client(target(0), parseGrpcTarget(target(0))); // used again
    }
    expect(connections.size).toBe(MAX_GRPC_CLIENTS);
    await new Promise((resolve) => setImmediate(resolve));
    expect(second.getChannel().getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    expect(first.getChannel().getConnectivityState(false)).not.toBe(connectivityState.SHUTDOWN);
    expect(await connections.client(target(0), parseGrpcTarget(target(0)))).toBe(first);
    connections.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.getChannel().getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    await expect(connections.client(target(0), parseGrpcTarget(target(0)))).rejects.toThrow(
      /closed/,
    );
  });

  it("a client whose listener went away is kept when the address is the same, and reconnects when it returns", async () => {
    const peer = await startGrpcPeer(() => ({ ack: {} }));
    const target = `grpc://127.0.0.1:${peer.port}`;
    const connections = createGrpcConnections({ guard });
    // An empty Delivery: the peer answers OK to anything.
    const call = (client: Client) =>
      new Promise<number>((resolve) =>
        client.makeUnaryRequest(
          "/herald.v1.Listener/Deliver",
          (x: Buffer) => x,
          (x: Buffer) => x,
          Buffer.alloc(0),
          { deadline: Date.now() + 1000 },
          (error) => resolve(error?.code ?? status.OK),
        ),
      );
    try {
      const before = await connections.client(target, parseGrpcTarget(target));
      expect(await call(before)).toBe(status.OK);
      peer.stop();
      expect(await call(before)).toBe(status.UNAVAILABLE);
      expect(before.getChannel().getConnectivityState(false)).toBe(
        connectivityState.TRANSIENT_FAILURE,
      );
      // Checked again through the guard: same address, so the same client (and its backoff).
      expect(await connections.client(target, parseGrpcTarget(target))).toBe(before);
      const back = await startGrpcPeer(() => ({ ack: {} }), { port: peer.port });
      try {
        let code = await call(before);
        for (let n = 0; n < 60 && code !== status.OK; n++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          code = await call(await connections.client(target, parseGrpcTarget(target)));
        }
        expect(code).toBe(status.OK);
        expect(await connections.client(target, parseGrpcTarget(target))).toBe(before);
      } finally {
        back.stop();
      }
    } finally {
      connections.close();
    }
  });
});

describe("gRPC targets", () => {
  it.each([
    "grpc://127.0.0.1:50051",
    "grpcs://listener.example.com:443",
    "grpc://[::1]:9000",
    "GRPC://Listener.Example.COM:1/",
  ])("accepts %s", (target) => {
    expect(() => checkGrpcTarget(target)).not.toThrow();
  });

  it.each([
    ["http://example.com:80", ""],
    ["grpc://example.com", "the port is required"],
    ["grpc://example.com:0", "port 1–65535"],
    ["grpc://example.com:1/listener", "no path, query or fragment"],
    ["grpc://example.com:1?x=1", "no path, query or fragment"],
    ["grpc://bob:hunter2@example.com:1", "no credentials in the URL"],
    ["grpc://exa_mple%20x:1", "a host name or IP address"],
    ["grpc://:1", ""],
    ["example.com:50051", ""],
  ])("refuses %s with request.invalid on field url, never echoing it", (target, reason) => {
    let thrown: unknown;
    try {
      checkGrpcTarget(target);
    } catch (error) {
      thrown = error;
    }
    expect(isHeraldError(thrown, "request.invalid")).toBe(true);
    const error = thrown as Error & { details?: unknown };
    expect(error.message).toMatch(
      /^url: must be grpc:\/\/host:port \(plaintext\) or grpcs:\/\/host:port \(TLS\)/,
    );
    expect(error.message).toContain(reason);
    expect(error.message).not.toContain("hunter2");
    expect(error.details).toEqual({ field: "url" });
  });

  it("a send to a malformed target is a `request.invalid:` failure", async () => {
    const transport = createGrpcTransport({ ssrfAllow: LOOPBACK });
    const result = await sendTo(
      transport,
      "grpc://bob:hunter2@127.0.0.1:1",
      generateSecret("standard"),
    );
    expect(result.attempt.error).toMatch(/^request\.invalid: url: must be /);
    expect(result.attempt.error).not.toContain("hunter2");
    await transport.close();
  });
});

// Skipped only when the openssl binary is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1)
// opensslAvailable throws instead.
describe.skipIf(!opensslAvailable)("gRPC transport over TLS (grpcs://)", () => {
  const secret = generateSecret("standard");
  let cert: Buffer;
  let peer: GrpcPeer;

  beforeAll(async () => {
    let key: Buffer;
    ({ key, cert } = createLocalhostCertificate());
    peer = await startGrpcPeer(() => ({ ack: { note: "over tls" } }), {
      host: "localhost",
      credentials: ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }]),
    });
  });

  afterAll(() => {
    peer?.stop();
  });

  it("delivers to grpcs://localhost with the certificate as root; the listener verifies", async () => {
    const transport = createGrpcTransport({ ssrfAllow: LOOPBACK, tlsRootCerts: cert });
    try {
      const result = await sendTo(transport, `grpcs://localhost:${peer.port}`, secret);
      expect(result.attempt).toMatchObject({ succeeded: true, responseBody: "over tls" });
      const call = peer.seen.at(-1);
      expect(call?.authority).toBe(`localhost:${peer.port}`);
      expect(
        verifyWebhook({
          scheme: "standard",
          secrets: secret,
          headers: call?.metadata ?? {},
          body: call?.request.body ?? "",
        }).ok,
      ).toBe(true);
    } finally {
      await transport.close();
    }
  });

  it("refuses a certificate the system roots do not trust, and one for another name", async () => {
    const before = peer.seen.length;
    const systemRoots = createGrpcTransport({ ssrfAllow: LOOPBACK });
    const withRoot = createGrpcTransport({ ssrfAllow: LOOPBACK, tlsRootCerts: cert });
    try {
      const untrusted = await sendTo(systemRoots, `grpcs://localhost:${peer.port}`, secret);
      // The same listener by IP address: the certificate names localhost only.
      const otherName = await sendTo(withRoot, `grpcs://127.0.0.1:${peer.port}`, secret);
      for (const result of [untrusted, otherName]) {
        expect(result.classification).toEqual({ outcome: "retry", reason: "unavailable" });
        expect(result.attempt.error).toMatch(/^grpc: UNAVAILABLE /);
      }
      expect(peer.seen.length).toBe(before);
    } finally {
      await systemRoots.close();
      await withRoot.close();
    }
  });
});

describe("gRPC listener helper", () => {
  const secret = generateSecret("standard");
  const orders: { type: string; payload: unknown }[] = [];
  let server: Server;
  let port: number;
  let behaviour: "ok" | "throw" | "refuse" = "ok";

  beforeAll(async () => {
    // #region grpc-listener
    server = new Server();
    addHeraldListener(server, {
      secret, // the endpoint's signing secret (whsec_…)
      onDelivery: async (delivery) => {
        if (behaviour === "throw") throw new Error("database down"); // UNAVAILABLE: retried
        if (behaviour === "refuse") {
          // A gRPC status of your own: anything but UNAVAILABLE / RESOURCE_EXHAUSTED is final.
          throw Object.assign(new Error("no such order"), { code: status.FAILED_PRECONDITION });
        }
        orders.push({ type: delivery.eventType, payload: delivery.payload });
        return "stored"; // the Ack's note, kept in the attempt log
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    // #endregion grpc-listener
  });

  afterAll(() => server.forceShutdown());

  beforeEach(() => {
    behaviour = "ok";
    orders.length = 0;
  });

  it("docs/grpc.md shows this file's listener example verbatim", () => {
    const blocks = docRegionBlocks("docs/grpc.md");
    expect(blocks.length).toBeGreaterThan(0);
    for (const [file, name, code] of blocks) expect(code).toBe(testRegion(file, name));
  });

  it("acknowledges a verified delivery with the handler's note", async () => {
    const transport = createGrpcTransport({ ssrfAllow: LOOPBACK });
    const result = await sendTo(transport, `grpc://127.0.0.1:${port}`, secret);
    await transport.close();
    expect(result.attempt).toMatchObject({ succeeded: true, responseBody: "stored" });
    expect(orders).toEqual([
      { type: "order.created.v1", payload: { orderId: serial, note: "grüße" } },
    ]);
  });

  it("a wrong secret is UNAUTHENTICATED (rejected) and never reaches the handler", async () => {
    const transport = createGrpcTransport({ ssrfAllow: LOOPBACK });
    const result = await sendTo(transport, `grpc://127.0.0.1:${port}`, generateSecret("standard"));
    await transport.close();
    expect(result.classification).toEqual({ outcome: "reject", reason: "rejected" });
    expect(result.attempt.error).toMatch(/^grpc: UNAUTHENTICATED signature\.invalid: /);
    expect(orders).toEqual([]);
  });

  it("a handler that throws answers UNAVAILABLE (retried); one with a gRPC code answers it", async () => {
    const transport = createGrpcTransport({ ssrfAllow: LOOPBACK });
    behaviour = "throw";
    const failed = await sendTo(transport, `grpc://127.0.0.1:${port}`, secret);
    behaviour = "refuse";
    const refused = await sendTo(transport, `grpc://127.0.0.1:${port}`, secret);
    await transport.close();
    expect(failed.classification).toEqual({ outcome: "retry", reason: "unavailable" });
    expect(failed.attempt.error).toBe("grpc: UNAVAILABLE the handler failed");
    expect(refused.classification).toEqual({ outcome: "reject", reason: "rejected" });
    expect(refused.attempt.error).toBe("grpc: FAILED_PRECONDITION no such order");
  });

  describe("called directly", () => {
    let client: Client;
    const method = () => listenerService().Deliver;
    const body = Buffer.from(JSON.stringify({ orderId: 7 }));
    const signed = () => {
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = new Metadata();
      const raw = signWith(secret, "msg_direct", timestamp, body);
      for (const [k, v] of Object.entries(raw)) headers.set(k, v);
      return { headers, raw };
    };
    const call = (request: object, metadata: Metadata) =>
      new Promise<ServiceError | null>((resolve) =>
        client.makeUnaryRequest(
          method().path,
          method().requestSerialize,
          method().responseDeserialize,
          {
            id: "dlv_direct",
            messageId: "msg_direct",
            eventType: "t.v1",
            tenant: "x",
            attempt: 1,
            body,
            ...request,
          },
          metadata,
          (error) => resolve(error),
        ),
      );

    beforeAll(() => {
      client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    });
    afterAll(() => client.close());

    it("verifies from the metadata when the message carries no headers", async () => {
      expect(await call({}, signed().headers)).toBeNull();
      expect(orders).toHaveLength(1);
    });

    it("verifies from the message's headers when the metadata has none", async () => {
      expect(await call({ headers: signed().raw }, new Metadata())).toBeNull();
      expect(orders).toHaveLength(1);
    });

    it("unsigned is UNAUTHENTICATED; a message_id other than the signed id, a stale timestamp, a body that is not JSON are INVALID_ARGUMENT", async () => {
      expect((await call({}, new Metadata()))?.code).toBe(status.UNAUTHENTICATED);
      expect((await call({ messageId: "msg_other" }, signed().headers))?.code).toBe(
        status.INVALID_ARGUMENT,
      );
      const stale = new Metadata();
      for (const [k, v] of Object.entries(signWith(secret, "msg_direct", 1_000_000, body)))
        stale.set(k, v);
      expect((await call({}, stale))?.code).toBe(status.INVALID_ARGUMENT);
      const notJson = Buffer.from("not json");
      const notJsonHeaders = new Metadata();
      for (const [k, v] of Object.entries(
        signWith(secret, "msg_direct", Math.floor(Date.now() / 1000), notJson),
      ))
        notJsonHeaders.set(k, v);
      expect((await call({ body: notJson }, notJsonHeaders))?.code).toBe(status.INVALID_ARGUMENT);
      expect(orders).toEqual([]);
    });

    it("uses the clock and tolerance it is given", async () => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const seen: GrpcListenerDelivery[] = [];
      const other = new Server();
      other.addService(
        listenerService(),
        createGrpcListener({
          secret,
          clock,
          toleranceSeconds: 60,
          onDelivery: (d) => void seen.push(d),
        }),
      );
      const otherPort = await new Promise<number>((resolve, reject) =>
        other.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
          e === null ? resolve(p) : reject(e),
        ),
      );
      const otherClient = new Client(`127.0.0.1:${otherPort}`, credentials.createInsecure());
      const at = (seconds: number) => {
        const m = new Metadata();
        for (const [k, v] of Object.entries(signWith(secret, "msg_direct", seconds, body)))
          m.set(k, v);
        return m;
      };
      const send = (metadata: Metadata) =>
        new Promise<ServiceError | null>((resolve) =>
          otherClient.makeUnaryRequest(
            method().path,
            method().requestSerialize,
            method().responseDeserialize,
            {
              id: "dlv_c",
              messageId: "msg_direct",
              eventType: "t.v1",
              tenant: "x",
              attempt: 2,
              body,
            },
            metadata,
            (error) => resolve(error),
          ),
        );
      try {
        const now = clock.now() / 1000;
        expect(await send(at(now - 30))).toBeNull();
        expect((await send(at(now - 90)))?.code).toBe(status.INVALID_ARGUMENT);
        expect(seen.map((d) => [d.id, d.attempt, d.payload])).toEqual([
          ["dlv_c", 2, { orderId: 7 }],
        ]);
      } finally {
        otherClient.close();
        other.forceShutdown();
      }
    });
  });
});

function signWith(secret: string, id: string, timestamp: number, body: Buffer) {
  return signWebhook({ scheme: "standard", secret, id, timestamp, body });
}

describe("gRPC transport in the delivery worker", () => {
  it("a listener's final refusal dead-letters the delivery at once: reason `rejected: grpc: …`, no retry", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const peer = await startGrpcPeer(() => ({
      status: status.INVALID_ARGUMENT,
      details: "unknown order",
    }));
    const store = createMemoryDeliveryStore({ clock });
    const grpc = createGrpcTransport({ ssrfAllow: LOOPBACK, clock });
    try {
      await store.createEndpoint({
        transport: "grpc",
        target: `grpc://127.0.0.1:${peer.port}`,
        eventTypes: ["order.*"],
        secrets: [{ secret: generateSecret("standard") }],
        retry: { schedule_s: [1, 1, 1] },
      });
      const { deliveryIds } = await createDispatcher({ store, clock }).dispatch({
        type: "order.created.v1",
        payload: { id: "o_1" },
      });
      const worker = createDeliveryWorker({ store, transports: { grpc }, clock });
      expect(await worker.runOnce()).toBe(1);
      clock.advance(60_000);
      expect(await worker.runOnce()).toBe(0);
      await worker.stop();
      const found = await store.getDelivery(deliveryIds[0] ?? "");
      expect(found?.delivery).toMatchObject({ status: "dead_lettered", attempts: 1 });
      expect(found?.delivery.lastError).toMatch(/^rejected: grpc: INVALID_ARGUMENT unknown order/);
      expect(found?.attempts.map((a) => [a.succeeded, a.error])).toEqual([
        [false, "grpc: INVALID_ARGUMENT unknown order"],
      ]);
      expect(peer.seen).toHaveLength(1);
    } finally {
      await grpc.close();
      peer.stop();
    }
  });
});
