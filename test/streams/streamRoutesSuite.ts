// The live streams through the real app over real sockets, on any delivery store: stream tokens
// (refusals), SSE and WebSocket replay + live with no gap and no duplicate across reconnects
// while several writers keep storing messages, scoping by tenant and type, the heartbeat,
// revocation. Run on SQLite (streamRoutes.unit.test.ts) and PostgreSQL (streamRoutes.int.test.ts).
import net from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../../packages/core/src/core/retryPolicy.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { streamTokenHash } from "../../packages/core/src/delivery/streamTokens.js";
import { compareStreamCursors } from "../../packages/core/src/model/streamRecords.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { buildApp } from "../../packages/server/src/server/app.js";
import { createIngestBatches } from "../../packages/server/src/server/ingest/ingestBatches.js";
import { createIngestor } from "../../packages/server/src/server/ingest/ingestor.js";
import { createSourceCache } from "../../packages/server/src/server/ingest/sourceCache.js";
import { createServiceMetrics } from "../../packages/server/src/server/metrics.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { openSse, openWs, type ReceivedEvent } from "./streamClients.js";

export interface StreamRoutesHarness {
  /** The store the app serves from. */
  store: DeliveryStore;
  /** Another store on the same database, as another process would write through. */
  writer: DeliveryStore;
  /** Every stored stream-token row, as the database holds it. */
  tokenRows(): Promise<unknown[]>;
  close(): Promise<void>;
}

export function streamRoutesSuite(
  name: string,
  open: (clock: ManualClock) => Promise<StreamRoutesHarness>,
): void {
  describe(`live streams over HTTP (${name})`, () => {
    const API_KEY = "streams-test-key";
    let harness: StreamRoutesHarness;
    let store: DeliveryStore;
    let app: Awaited<ReturnType<typeof buildApp>>;
    let base: string;
    const clock = new ManualClock(Date.now());

    beforeAll(async () => {
      harness = await open(clock);
      store = harness.store;
      const sources = createSourceCache(store, { ttlMs: 0 });
      const committer = createIngestBatches({
        store,
        defaultRetry: DEFAULT_RETRY_POLICY,
        dialect: "sqlite",
      });
      app = await buildApp({
        store,
        metrics: createServiceMetrics(store),
        logger: pino({ level: "silent" }),
        version: "0.0.0",
        apiKey: API_KEY,
        ingestor: createIngestor({ sources, committer }),
        dispatcher: createDispatcher({ store, clock }),
        sources,
        clock,
        streams: { pollMs: 20, heartbeatMs: 150, maxBufferedBytes: 64 * 1024, retryMs: 50 },
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      const address = app.server.address() as { port: number };
      base = `http://127.0.0.1:${address.port}`;
    });

    afterAll(async () => {
      await app.close();
      await harness.close();
    });

    async function api(method: string, path: string, body?: unknown, key: string | null = API_KEY) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, text, json: text === "" ? null : JSON.parse(text) };
    }

    async function mint(body: Record<string, unknown> = {}) {
      const created = await api("POST", "/v1/stream-tokens", {
        tenant: "acme",
        event_types: ["order.*"],
        ...body,
      });
      expect(created.status, created.text).toBe(201);
      return created.json as { id: string; token: string; expires_at: string };
    }

    let n = 0;
    const put = (type: string, tenant = "acme") =>
      store.createMessage({ message: { type, tenant, payload: { n: n++ } }, deliveries: [] });

    const ids = (events: ReceivedEvent[]) => events.map((e) => e.data.id);

    describe("stream tokens", () => {
      it("creates (token shown once), lists without secrets, keeps only the SHA-256, revokes", async () => {
        const minted = await mint({ ttl_s: 60 });
        expect(minted.id).toMatch(/^stk_[0-9A-Z]{26}$/);
        expect(minted.token).toMatch(/^hst_[A-Za-z0-9_-]{43}$/);
        expect(Date.parse(minted.expires_at) - clock.now()).toBe(60_000);
        const listed = await api("GET", "/v1/stream-tokens?tenant=acme");
        expect(listed.status).toBe(200);
        const row = (listed.json.data as Record<string, unknown>[]).find((t) => t.id === minted.id);
        expect(row).toEqual({
          id: minted.id,
          tenant: "acme",
          event_types: ["order.*"],
          created_at: expect.any(String),
          expires_at: minted.expires_at,
          revoked_at: null,
        });
        expect(listed.text).not.toContain(minted.token);
        // At rest: the hash, never the token.
        const rows = await harness.tokenRows();
        expect(JSON.stringify(rows)).not.toContain(minted.token.slice(4));
        expect(rows).toContainEqual(
          expect.objectContaining({ id: minted.id, token_hash: streamTokenHash(minted.token) }),
        );

        expect((await api("DELETE", `/v1/stream-tokens/${minted.id}`)).status).toBe(204);
        const again = await api("GET", "/v1/stream-tokens");
        expect(
          (again.json.data as { id: string; revoked_at: string | null }[]).find(
            (t) => t.id === minted.id,
          )?.revoked_at,
        ).not.toBeNull();
        const unknown = await api("DELETE", "/v1/stream-tokens/stk_01JAAAAAAAAAAAAAAAAAAAAAAA");
        expect(unknown.status).toBe(404);
        expect(unknown.json.error.code).toBe("stream_token.not_found");
      });

      it("refuses bad bodies and requests without the API key", async () => {
        for (const body of [
          { event_types: [] },
          { event_types: ["order..x"] },
          { event_types: ["order.*"], ttl_s: 86_401 },
          { event_types: ["order.*"], ttl_s: 0 },
        ]) {
          expect((await api("POST", "/v1/stream-tokens", body)).status).toBe(400);
        }
        expect((await api("POST", "/v1/stream-tokens", { event_types: ["*"] }, null)).status).toBe(
          401,
        );
      });
    });

    describe("GET /v1/stream refusals", () => {
      it("401 stream_token.invalid for a missing, unknown, revoked or expired token, never echoing it", async () => {
        const revoked = await mint();
        await api("DELETE", `/v1/stream-tokens/${revoked.id}`);
        const expiring = await mint({ ttl_s: 1 });
        clock.advance(1001);
        const bogus = `hst_${"A".repeat(43)}`;
        for (const query of [
          "",
          `?token=${bogus}`,
          `?token=${revoked.token}`,
          `?token=${expiring.token}`,
          "?token=short",
        ]) {
          const reader = await openSse(`${base}/v1/stream${query}`);
          await reader.ended;
          expect(reader.status, query).toBe(401);
          expect(JSON.parse(reader.text).error.code).toBe("stream_token.invalid");
          if (query !== "") expect(reader.text).not.toContain(query.slice(7));
        }
        // Bearer works too (a revoked one is refused the same way).
        const viaHeader = await openSse(`${base}/v1/stream`, {
          authorization: `Bearer ${revoked.token}`,
        });
        await viaHeader.ended;
        expect(viaHeader.status).toBe(401);
      });

      it("400 stream.cursor_invalid for a last id the stream never sent; 400 for a bad types pattern", async () => {
        const { token } = await mint();
        const bad = await openSse(`${base}/v1/stream?token=${token}`, { "last-event-id": "nope" });
        await bad.ended;
        expect(bad.status).toBe(400);
        expect(JSON.parse(bad.text).error.code).toBe("stream.cursor_invalid");
        const pattern = await openSse(`${base}/v1/stream?token=${token}&types=a..b`);
        await pattern.ended;
        expect(pattern.status).toBe(400);
      });

      it("hostile input gets a 4xx with an error code, never a 5xx: NUL bytes, __proto__, deep nesting, huge values", async () => {
        const deep: Record<string, unknown> = {};
        let at = deep;
        for (let i = 0; i < 2000; i++) {
          const next: Record<string, unknown> = {};
          at.x = next;
          at = next;
        }
        for (const body of [
          { tenant: "acme\u0000", event_types: ["order.*"] },
          { tenant: "acme", event_types: ["order.\u0000"] },
          { tenant: "acme", event_types: [] },
          { tenant: "acme", event_types: ["order.*"], ttl_s: 1e12 },
          { tenant: "acme", event_types: ["order.*"], ttl_s: -1 },
          JSON.parse('{"tenant":"acme","event_types":["order.*"],"__proto__":{"x":1}}'),
          { tenant: "acme", event_types: ["order.*"], nested: deep },
          { tenant: "a".repeat(100_000), event_types: ["order.*"] },
        ]) {
          const created = await api("POST", "/v1/stream-tokens", body);
          expect(created.status, created.text.slice(0, 200)).toBeGreaterThanOrEqual(400);
          expect(created.status).toBeLessThan(500);
          expect(typeof created.json.error.code).toBe("string");
          expect(typeof created.json.error.message).toBe("string");
        }
        const { token } = await mint();
        for (const query of [
          `?token=${token}%00`,
          `?token=${"A".repeat(20_000)}`,
          `?token=${token}&types=%00`,
          `?token=${token}&types=__proto__`,
          `?token=${token}&last_event_id=${"9".repeat(500)}`,
          `?token=${token}&last_event_id=%00`,
        ]) {
          const reader = await openSse(`${base}/v1/stream${query}`);
          if (reader.status === 200) {
            // `__proto__` is a type pattern like any other: the stream opens, scoped to it.
            expect(query).toContain("__proto__");
            reader.close();
            continue;
          }
          await reader.ended;
          expect(reader.status, query).toBeGreaterThanOrEqual(400);
          expect(reader.status, query).toBeLessThan(500);
          expect(typeof JSON.parse(reader.text).error.code).toBe("string");
        }
        const unknown = await api("DELETE", `/v1/stream-tokens/${"\u0000"}`);
        expect(unknown.status).toBeGreaterThanOrEqual(400);
        expect(unknown.status).toBeLessThan(500);
      });

      it("a plain GET of the WebSocket route is 426 once the token checks out, 401 before", async () => {
        const { token } = await mint();
        const plain = await fetch(`${base}/v1/stream/ws?token=${token}`);
        expect(plain.status).toBe(426);
        expect(((await plain.json()) as { error: { code: string } }).error.code).toBe(
          "stream.upgrade_required",
        );
        expect((await fetch(`${base}/v1/stream/ws`)).status).toBe(401);
      });
    });

    describe("SSE", () => {
      it("sends only the token's tenant and types (narrowed by ?types=), with id, event and data", async () => {
        const { token } = await mint({ event_types: ["order.*", "user.created"] });
        const all = await openSse(`${base}/v1/stream?token=${token}`);
        const narrow = await openSse(`${base}/v1/stream?token=${token}&types=user.*`);
        expect(all.status).toBe(200);
        expect(all.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
        await put("order.created", "other");
        await put("invoice.paid");
        const a = await put("order.created");
        const b = await put("user.created");
        await put("user.deleted");
        await all.waitFor(2);
        await narrow.waitFor(1);
        // One more poll: nothing else arrives.
        await new Promise((r) => setTimeout(r, 100));
        expect(ids(all.events)).toEqual([a.message.id, b.message.id]);
        expect(all.events[0]).toEqual({
          cursor: expect.stringMatching(/^\d+(\.\d+)?$/),
          name: "order.created",
          data: {
            id: a.message.id,
            type: "order.created",
            tenant: "acme",
            created_at: a.message.createdAt,
            payload: a.message.payload,
          },
        });
        expect(ids(narrow.events)).toEqual([b.message.id]);
        all.close();
        narrow.close();
      });

      it("resumes after Last-Event-ID with no gap and no duplicate while several writers keep storing", async () => {
        const { token } = await mint();
        const start = await store.latestStreamCursor();
        let writing = true;
        const written = new Set<string>();
        // Three writers, one through another connection as another process would; each also
        // stores what the token must not see.
        const writer = async (target: DeliveryStore) => {
          while (writing) {
            const created = await target.createMessage({
              message: { type: "order.created", tenant: "acme", payload: { n: n++ } },
              deliveries: [],
            });
            written.add(created.message.id);
            await target.createMessage({
              message: { type: "order.created", tenant: "other", payload: {} },
              deliveries: [],
            });
            await new Promise((r) => setTimeout(r, 2));
          }
        };
        const writers = Promise.all([writer(store), writer(store), writer(harness.writer)]);
        const got: ReceivedEvent[] = [];
        let last = start;
        for (let round = 0; round < 6; round++) {
          const reader = await openSse(`${base}/v1/stream?token=${token}`, {
            "last-event-id": last,
          });
          expect(reader.status).toBe(200);
          await reader.waitFor(5);
          reader.close();
          got.push(...reader.events);
          last = reader.events.at(-1)!.cursor;
          // Messages go on while the client is away.
          await new Promise((r) => setTimeout(r, 30));
        }
        writing = false;
        await writers;
        // The last reconnect catches up with everything written.
        const final = await openSse(`${base}/v1/stream?token=${token}&live=false`, {
          "last-event-id": last,
        });
        await final.ended;
        got.push(...final.events);
        const received = ids(got);
        expect(new Set(received).size).toBe(received.length);
        expect(new Set(received)).toEqual(written);
        for (let i = 1; i < got.length; i++) {
          expect(compareStreamCursors(got[i - 1]!.cursor, got[i]!.cursor)).toBeLessThan(0);
        }
        // In the store's own order.
        const stored = await store.readStream({ after: start, tenant: "acme", limit: 1000 });
        expect(received).toEqual(stored.map((item) => item.message.id));
      });

      it("last_event_id=0 replays every stored event; live=false then ends", async () => {
        const { token } = await mint({ tenant: "replay", event_types: ["*"] });
        const a = await put("x.one", "replay");
        const b = await put("x.two", "replay");
        const reader = await openSse(`${base}/v1/stream?token=${token}&last_event_id=0&live=false`);
        await reader.ended;
        expect(ids(reader.events)).toEqual([a.message.id, b.message.id]);
        expect(reader.comments).toContain("end replay_done");
      });

      it("ends a stream when its token expires", async () => {
        const { token } = await mint({ ttl_s: 1 });
        const reader = await openSse(`${base}/v1/stream?token=${token}`);
        expect(reader.status).toBe(200);
        await reader.ended;
        expect(reader.comments).toContain("end token_expired");
      });

      it("sends a heartbeat comment, and ends the streams of a token revoked through the API", async () => {
        const { id, token } = await mint();
        const reader = await openSse(`${base}/v1/stream?token=${token}`);
        await reader.waitForComment("ping", 2000);
        expect((await api("DELETE", `/v1/stream-tokens/${id}`)).status).toBe(204);
        await reader.ended;
        expect(reader.comments).toContain("end token_revoked");
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toMatch(/^herald_streams_ended_total\{reason="token_revoked"\} [1-9]/m);
        expect(metrics).toMatch(/^herald_streams_open \d+$/m);
      });
    });

    describe("WebSocket", () => {
      it("frames {id: cursor, message_id, type, tenant, created_at, payload}; resumes with last_event_id; scoped", async () => {
        const { token } = await mint();
        const ws = await openWs(`${base.replace("http", "ws")}/v1/stream/ws?token=${token}`);
        await put("order.created", "other");
        await put("user.created");
        const a = await put("order.created");
        const b = await put("order.paid");
        await ws.waitFor(2);
        expect(ids(ws.events)).toEqual([a.message.id, b.message.id]);
        expect(ws.events[0]!.data).toEqual({
          id: a.message.id,
          type: "order.created",
          tenant: "acme",
          created_at: a.message.createdAt,
          payload: a.message.payload,
        });
        const cursor = ws.events[0]!.cursor;
        ws.close();
        const c = await put("order.created");
        const again = await openWs(
          `${base.replace("http", "ws")}/v1/stream/ws?token=${token}&last_event_id=${cursor}`,
        );
        await again.waitFor(2);
        expect(ids(again.events)).toEqual([b.message.id, c.message.id]);
        again.close();
      });

      it("refuses a revoked token at the upgrade (401), and closes with 4001 on revocation", async () => {
        const { id, token } = await mint();
        const ws = await openWs(`${base.replace("http", "ws")}/v1/stream/ws?token=${token}`);
        await api("DELETE", `/v1/stream-tokens/${id}`);
        expect(await ws.closeCode).toBe(4001);
        await expect(
          openWs(`${base.replace("http", "ws")}/v1/stream/ws?token=${token}`),
        ).rejects.toMatchObject({
          status: 401,
        });
        await expect(openWs(`${base.replace("http", "ws")}/v1/elsewhere`)).rejects.toMatchObject({
          status: 404,
        });
      });
    });

    describe("WebSocket refusals", () => {
      const connections = () =>
        new Promise<number>((resolve, reject) =>
          app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
        );

      it("closes a refused upgrade's connection even when the client keeps its side open", async () => {
        const before = await connections();
        const { port } = app.server.address() as { port: number };
        const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
        let answer = "";
        socket.setEncoding("utf8").on("data", (chunk: string) => {
          answer += chunk;
        });
        const ended = new Promise<void>((resolve) => socket.once("end", resolve));
        socket.write(
          "GET /v1/stream/ws?token=nope HTTP/1.1\r\nHost: herald.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        );
        await ended;
        expect(answer).toMatch(/^HTTP\/1\.1 401 /);
        expect(answer).toContain('"code":"stream_token.invalid"');
        // The client never ends its side; the server's socket is gone all the same.
        await expect.poll(connections, { timeout: 2_000 }).toBeLessThanOrEqual(before);
        socket.destroy();
      });
    });

    describe("WebSocket heartbeat", () => {
      it("drops a connection whose ping went unanswered", async () => {
        const { token } = await mint();
        const { WebSocket } = await import("ws");
        const socket = new WebSocket(`${base.replace("http", "ws")}/v1/stream/ws?token=${token}`, {
          autoPong: false,
        });
        const code = await new Promise<number>((resolve) => socket.on("close", resolve));
        expect(code).toBe(1006);
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toMatch(/^herald_streams_ended_total\{reason="heartbeat_timeout"\} [1-9]/m);
      });
    });

    describe("client script", () => {
      it("serves the ES module", async () => {
        const response = await fetch(`${base}/v1/stream/client.js`);
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
        const text = await response.text();
        expect(text).toContain("export function connect(");
        expect(text).toContain("export class HeraldStream");
      });
    });
  });
}
