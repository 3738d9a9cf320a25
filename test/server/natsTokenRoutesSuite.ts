// `/v1/nats-tokens` through the real app over a real socket, on any delivery store: create (the
// token shown once, only its SHA-256 stored) → list with filters → get → revoke → get shows it
// revoked; a minted token passes checkNatsToken read through another connection, a revoked or
// expired one does not; the token never appears in list/get answers nor in the log; bad and
// hostile input is a 4xx with a stable code (never a 5xx) and stores nothing. Run on SQLite
// (natsTokenRoutes.unit.test.ts) and PostgreSQL (natsTokenRoutes.int.test.ts).
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../../packages/core/src/core/retryPolicy.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { checkNatsToken, natsTokenHash } from "../../packages/core/src/delivery/natsTokens.js";
import { isNatsSubjectToken } from "../../packages/core/src/model/natsTokenRecords.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { buildApp } from "../../packages/server/src/server/app.js";
import { statusForCode } from "../../packages/server/src/server/httpErrors.js";
import { createIngestBatches } from "../../packages/server/src/server/ingest/ingestBatches.js";
import { createIngestor } from "../../packages/server/src/server/ingest/ingestor.js";
import { createSourceCache } from "../../packages/server/src/server/ingest/sourceCache.js";
import { createServiceMetrics } from "../../packages/server/src/server/metrics.js";
import {
  MAX_NATS_TOKEN_EXPIRES_IN_S,
  wireNatsTokenCreateSchema,
} from "../../packages/server/src/wire/natsToken.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";

export interface NatsTokenRoutesHarness {
  /** The store the app serves from. */
  store: DeliveryStore;
  /** Another store on the same database, as the auth callout's process would read through. */
  other: DeliveryStore;
  /** Every stored NATS-token row, as the database holds it. */
  tokenRows(): Promise<unknown[]>;
  close(): Promise<void>;
}

const AGENT = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
const TOKEN = /^hnt_[A-Za-z0-9_-]{43}$/;

interface WireToken {
  id: string;
  identity: string;
  subject_id: string;
  tenant: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  state: string;
  token?: string;
}

export function natsTokenRoutesSuite(
  name: string,
  open: (clock: ManualClock) => Promise<NatsTokenRoutesHarness>,
): void {
  describe(`/v1/nats-tokens (${name})`, () => {
    const API_KEY = "nats-tokens-test-key";
    const clock = new ManualClock(Date.parse("2026-03-01T10:00:00.000Z"));
    const logLines: string[] = [];
    /** Every token this suite minted, to look for in answers and the log. */
    const minted: string[] = [];
    let harness: NatsTokenRoutesHarness;
    let app: Awaited<ReturnType<typeof buildApp>>;
    let base: string;

    beforeAll(async () => {
      harness = await open(clock);
      const { store } = harness;
      const sources = createSourceCache(store, { ttlMs: 0 });
      const committer = createIngestBatches({
        store,
        defaultRetry: DEFAULT_RETRY_POLICY,
        dialect: "sqlite",
      });
      app = await buildApp({
        store,
        metrics: createServiceMetrics(store),
        // Everything the app logs, at its most verbose.
        logger: pino({ level: "trace" }, { write: (line: string) => void logLines.push(line) }),
        version: "0.0.0",
        apiKey: API_KEY,
        ingestor: createIngestor({ sources, committer }),
        dispatcher: createDispatcher({ store, clock }),
        sources,
        clock,
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    });

    afterAll(async () => {
      await app?.close();
      await harness?.close();
    });

    async function api(
      method: string,
      path: string,
      body?: unknown,
      options: { key?: string | null; raw?: string } = {},
    ) {
      const key = options.key === undefined ? API_KEY : options.key;
      const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(payload === undefined ? {} : { body: payload }),
      });
      const text = await response.text();
      return { status: response.status, text, json: text === "" ? null : JSON.parse(text) };
    }

    async function mint(body: Record<string, unknown>): Promise<WireToken & { token: string }> {
      const created = await api("POST", "/v1/nats-tokens", body);
      expect(created.status, created.text).toBe(201);
      const json = created.json as WireToken & { token: string };
      minted.push(json.token);
      return json;
    }

    async function listIds(query = ""): Promise<string[]> {
      const listed = await api("GET", `/v1/nats-tokens${query}`);
      expect(listed.status, listed.text).toBe(200);
      return (listed.json.data as WireToken[]).map((t) => t.id);
    }

    it("create → list → get → revoke → get shows it revoked; the token checks out until revoked", async () => {
      const created = await mint({ identity: "client", id: "user_42", tenant: "acme" });
      expect(created).toEqual({
        id: expect.stringMatching(/^ntk_[0-9A-Z]{26}$/),
        identity: "client",
        subject_id: "user_42",
        tenant: "acme",
        created_at: new Date(clock.now()).toISOString(),
        expires_at: null,
        revoked_at: null,
        state: "live",
        token: expect.stringMatching(TOKEN),
      });
      const { token, ...record } = created;

      // The token lets its holder in, read through another connection as the callout would.
      const check = await checkNatsToken(harness.other, token, { clock });
      expect(check).toMatchObject({
        ok: true,
        record: { id: created.id, identity: "client", subjectId: "user_42", tenant: "acme" },
      });
      // At rest: the hash, never the token.
      const rows = await harness.tokenRows();
      expect(JSON.stringify(rows)).not.toContain(token.slice(4));
      expect(rows).toContainEqual(
        expect.objectContaining({ id: created.id, token_hash: natsTokenHash(token) }),
      );

      const listed = await api("GET", "/v1/nats-tokens?tenant=acme");
      expect(listed.status).toBe(200);
      expect(listed.json).toEqual({ data: [record] });
      expect(listed.text).not.toContain(token);
      expect(listed.text).not.toContain('"token"');

      const got = await api("GET", `/v1/nats-tokens/${created.id}`);
      expect(got.status).toBe(200);
      expect(got.json).toEqual(record);
      expect(got.text).not.toContain(token);

      clock.advance(5_000);
      const revoked = await api("DELETE", `/v1/nats-tokens/${created.id}`);
      expect(revoked.status).toBe(204);
      expect(revoked.text).toBe("");
      const after = await api("GET", `/v1/nats-tokens/${created.id}`);
      expect(after.json).toEqual({
        ...record,
        revoked_at: new Date(clock.now()).toISOString(),
        state: "revoked",
      });
      expect(await checkNatsToken(harness.other, token, { clock })).toEqual({
        ok: false,
        reason: "revoked",
        tokenId: created.id,
      });

      // Revoking again is not an error and keeps the first revocation time.
      clock.advance(5_000);
      expect((await api("DELETE", `/v1/nats-tokens/${created.id}`)).status).toBe(204);
      expect((await api("GET", `/v1/nats-tokens/${created.id}`)).json).toEqual(after.json);
    });

    it("expires_in_s: expires_at follows it, and the token is expired after it (state and check)", async () => {
      const created = await mint({
        identity: "agent.compute",
        id: AGENT,
        tenant: "ops",
        expires_in_s: 60,
      });
      expect(created.tenant).toBe("ops");
      expect(Date.parse(created.expires_at ?? "")).toBe(clock.now() + 60_000);
      expect((await checkNatsToken(harness.other, created.token, { clock })).ok).toBe(true);
      clock.advance(60_000);
      const got = await api("GET", `/v1/nats-tokens/${created.id}`);
      expect(got.json).toMatchObject({ state: "expired", revoked_at: null });
      expect(await checkNatsToken(harness.other, created.token, { clock })).toEqual({
        ok: false,
        reason: "expired",
        tokenId: created.id,
      });
      // The longest lifetime is accepted; an agent's tenant defaults to `default`.
      const longest = await mint({
        identity: "agent.network",
        id: AGENT,
        expires_in_s: MAX_NATS_TOKEN_EXPIRES_IN_S,
      });
      expect(longest.tenant).toBe("default");
      expect(Date.parse(longest.expires_at ?? "")).toBe(
        clock.now() + MAX_NATS_TOKEN_EXPIRES_IN_S * 1000,
      );
    });

    it("lists oldest first, filtered by tenant, identity and id (every filter given must match)", async () => {
      const a = await mint({ identity: "client", id: "u1", tenant: "filt1" });
      const b = await mint({ identity: "client", id: "u2", tenant: "filt1" });
      const c = await mint({ identity: "client", id: "u1", tenant: "filt2" });
      const d = await mint({ identity: "service", id: "filt-backend" });
      const e = await mint({ identity: "agent.storage", id: AGENT, tenant: "filt1" });
      expect(await listIds("?tenant=filt1")).toEqual([a.id, b.id, e.id]);
      expect(await listIds("?tenant=filt1&identity=client")).toEqual([a.id, b.id]);
      expect(await listIds("?tenant=filt1&identity=client&id=u1")).toEqual([a.id]);
      expect(await listIds("?identity=client&id=u1")).toEqual(expect.arrayContaining([a.id, c.id]));
      expect(await listIds("?identity=client&id=u1")).not.toContain(b.id);
      expect(await listIds("?identity=service&id=filt-backend")).toEqual([d.id]);
      expect(await listIds(`?identity=agent.storage&id=${AGENT}`)).toEqual([e.id]);
      expect(await listIds("?tenant=nobody-here")).toEqual([]);
      const all = await listIds();
      for (const token of [a, b, c, d, e]) expect(all).toContain(token.id);
      // Oldest first: ids are ULIDs, so in creation order.
      expect(all).toEqual([...all].sort());

      const listed = await api("GET", "/v1/nats-tokens");
      for (const token of minted) expect(listed.text).not.toContain(token);
      for (const row of listed.json.data as WireToken[]) expect(row).not.toHaveProperty("token");

      for (const query of [
        "?identity=agent.gpu",
        "?identity=",
        "?tenant=a.b",
        "?tenant=%3E",
        `?id=${"x".repeat(129)}`,
        "?tenant=acme%00",
      ]) {
        const refused = await api("GET", `/v1/nats-tokens${query}`);
        expect(refused.status, query).toBe(400);
        expect(refused.json.error.code, query).toMatch(/^(request|text)\.invalid$/);
      }
    });

    it("404 nats_token.not_found for an unknown id (get and revoke)", async () => {
      for (const method of ["GET", "DELETE"]) {
        const unknown = await api(method, "/v1/nats-tokens/ntk_01JAAAAAAAAAAAAAAAAAAAAAAA");
        expect(unknown.status, method).toBe(404);
        expect(unknown.json.error.code).toBe("nats_token.not_found");
      }
      expect(statusForCode("nats_token.not_found")).toBe(404);
      expect(statusForCode("nats_token.invalid")).toBe(400);
    });

    it("every route needs the API key", async () => {
      for (const [method, path, body] of [
        ["POST", "/v1/nats-tokens", { identity: "service", id: "nokey" }],
        ["GET", "/v1/nats-tokens", undefined],
        ["GET", "/v1/nats-tokens/ntk_01JAAAAAAAAAAAAAAAAAAAAAAA", undefined],
        ["DELETE", "/v1/nats-tokens/ntk_01JAAAAAAAAAAAAAAAAAAAAAAA", undefined],
      ] as const) {
        for (const key of [null, "wrong-key"]) {
          const refused = await api(method, path, body, { key });
          expect(refused.status, `${method} ${path}`).toBe(401);
          expect(refused.json.error.code).toBe("auth.unauthorized");
        }
      }
      expect(await listIds("?identity=service&id=nokey")).toEqual([]);
    });

    it("refuses bad input with 400 and the code for it, naming the field; stores nothing", async () => {
      const before = (await harness.tokenRows()).length;
      const cases: [Record<string, unknown>, string, string][] = [
        // The shape: request.invalid.
        [{ id: "u1", tenant: "acme" }, "request.invalid", "body.identity"],
        [{ identity: "agent.gpu", id: AGENT }, "request.invalid", "body.identity"],
        [{ identity: "Client", id: "u1", tenant: "acme" }, "request.invalid", "body.identity"],
        [{ identity: "client", tenant: "acme" }, "request.invalid", "body.id"],
        [{ identity: "client", id: "", tenant: "acme" }, "request.invalid", "body.id"],
        [{ identity: "client", id: "a.b", tenant: "acme" }, "request.invalid", "body.id"],
        [{ identity: "client", id: ">", tenant: "acme" }, "request.invalid", "body.id"],
        [{ identity: "client", id: "u 1", tenant: "acme" }, "request.invalid", "body.id"],
        [{ identity: "client", id: "x".repeat(129), tenant: "acme" }, "request.invalid", "body.id"],
        [{ identity: "client", id: "u1", tenant: "acme.*" }, "request.invalid", "body.tenant"],
        [{ identity: "client", id: "u1", tenant: "" }, "request.invalid", "body.tenant"],
        [{ identity: "service", id: "s", expires_in_s: 0 }, "request.invalid", "body.expires_in_s"],
        [
          { identity: "service", id: "s", expires_in_s: -1 },
          "request.invalid",
          "body.expires_in_s",
        ],
        [
          { identity: "service", id: "s", expires_in_s: 1.5 },
          "request.invalid",
          "body.expires_in_s",
        ],
        [
          { identity: "service", id: "s", expires_in_s: MAX_NATS_TOKEN_EXPIRES_IN_S + 1 },
          "request.invalid",
          "body.expires_in_s",
        ],
        [
          { identity: "service", id: "s", expires_in_s: "60" },
          "request.invalid",
          "body.expires_in_s",
        ],
        [{ identity: "service", id: "s", ttl_s: 60 }, "request.invalid", "ttl_s"],
        // The caller never chooses the token.
        [
          { identity: "service", id: "s", token: `hnt_${"A".repeat(43)}` },
          "request.invalid",
          "token",
        ],
        // What depends on the identity: nats_token.invalid, as the CLI's store refusals.
        [{ identity: "client", id: "u1" }, "nats_token.invalid", "tenant is required"],
        [
          { identity: "agent.compute", id: "agent-7" },
          "nats_token.invalid",
          "id must be a lowercase UUID",
        ],
        [
          { identity: "agent.storage", id: AGENT.toUpperCase() },
          "nats_token.invalid",
          "id must be a lowercase UUID",
        ],
      ];
      for (const [body, code, mentions] of cases) {
        const refused = await api("POST", "/v1/nats-tokens", body);
        const label = JSON.stringify(body).slice(0, 120);
        expect(refused.status, label).toBe(400);
        expect(refused.json.error.code, label).toBe(code);
        expect(refused.json.error.message, label).toContain(mentions);
      }
      expect((await harness.tokenRows()).length).toBe(before);
    });

    it("hostile input gets a 4xx with an error code, never a 5xx, and stores nothing", async () => {
      const before = (await harness.tokenRows()).length;
      let deep = '{"identity":"service","id":"s","x":';
      deep += "[".repeat(5_000) + "]".repeat(5_000);
      deep += "}";
      const raws = [
        JSON.stringify({ identity: "client", id: "u\u0000", tenant: "acme" }),
        JSON.stringify({ identity: "client", id: "u1", tenant: "acme\u0000" }),
        JSON.stringify({ identity: "service\u0000", id: "s" }),
        '{"identity":"client","id":"u1","tenant":"acme","\\u0000":1}',
        '{"identity":"client","id":"\\ud800","tenant":"acme"}',
        '{"identity":"service","id":"s","__proto__":{"tenant":"evil"}}',
        '{"identity":"service","id":"s","constructor":{"prototype":{"x":1}}}',
        '{"__proto__":{"identity":"service","id":"s"}}',
        deep,
        JSON.stringify({ identity: "client", id: "u1", tenant: "a".repeat(200_000) }),
        JSON.stringify({ identity: "service", id: "s".repeat(1_000_000) }),
        JSON.stringify({ identity: "service", id: "s", expires_in_s: 1e308 }),
        '{"identity":"service","id":"s","expires_in_s":1e999}',
        JSON.stringify({ identity: "service", id: "s", expires_in_s: Number.MAX_SAFE_INTEGER + 2 }),
        JSON.stringify({ identity: ["client"], id: "u1", tenant: "acme" }),
        JSON.stringify({ identity: "client", id: 42, tenant: "acme" }),
        JSON.stringify({ identity: "client", id: "u1", tenant: { name: "acme" } }),
        JSON.stringify({ identity: null, id: null }),
        JSON.stringify({ identity: "service", id: "s", expires_in_s: null }),
        JSON.stringify({ identity: "service", id: "s", expires_in_s: true }),
        JSON.stringify([{ identity: "service", id: "s" }]),
        '"service"',
        "null",
        "42",
        "{}",
        "",
        "{not json",
      ];
      for (const raw of raws) {
        const refused = await api("POST", "/v1/nats-tokens", undefined, { raw });
        const label = raw.slice(0, 80);
        expect(refused.status, label).toBeGreaterThanOrEqual(400);
        expect(refused.status, label).toBeLessThan(500);
        expect(typeof refused.json.error.code, label).toBe("string");
        expect(typeof refused.json.error.message, label).toBe("string");
      }
      // The path and the query too.
      for (const path of [
        `/v1/nats-tokens/${"%00"}`,
        `/v1/nats-tokens/${"x".repeat(65)}`,
        `/v1/nats-tokens/${"x".repeat(20_000)}`,
        "/v1/nats-tokens/__proto__",
        "/v1/nats-tokens/constructor",
        "/v1/nats-tokens?__proto__=x",
        "/v1/nats-tokens?tenant=a&tenant=b",
        `/v1/nats-tokens?tenant=${"t".repeat(10_000)}`,
      ]) {
        for (const method of ["GET", "DELETE"]) {
          if (method === "DELETE" && path.includes("?")) continue;
          const answer = await api(method, path);
          const label = `${method} ${path.slice(0, 60)}`;
          if (answer.status === 200) {
            // A harmless unknown query key is ignored, as on every list.
            expect(label).toContain("?__proto__");
            continue;
          }
          expect(answer.status, label).toBeGreaterThanOrEqual(400);
          expect(answer.status, label).toBeLessThan(500);
          expect(typeof answer.json.error.code, label).toBe("string");
        }
      }
      expect((await harness.tokenRows()).length).toBe(before);
    });

    it("the create schema's id and tenant rule is the store's (isNatsSubjectToken)", () => {
      for (const value of ["u1", "a_b-C", AGENT, "x".repeat(128), "x".repeat(129), "a.b", "*"]) {
        const parsed = wireNatsTokenCreateSchema.safeParse({
          identity: "service",
          id: value,
          tenant: value,
        });
        expect(parsed.success, value).toBe(isNatsSubjectToken(value));
      }
    });

    it("no token reached the log (the app logs at trace level here)", () => {
      expect(minted.length).toBeGreaterThan(5);
      expect(logLines.length).toBeGreaterThan(0);
      const log = logLines.join("");
      expect(log).toContain("/v1/nats-tokens");
      for (const token of minted) {
        expect(log).not.toContain(token);
        expect(log).not.toContain(token.slice(4));
      }
      expect(log).not.toContain(API_KEY);
    });
  });
}
