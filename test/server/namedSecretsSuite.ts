// `/v1/secrets` and ad-hoc dispatch (`POST /v1/messages` with url + secret_name) through the
// running service (startService, real sockets, a worker): values are write-only, and an ad-hoc
// message is delivered signed with the named secret, retried after a 500 (a rotation applying
// to the pending retry), dead-lettered, and replayed. Run on SQLite (namedSecrets.unit) and
// PostgreSQL (namedSecrets.int).
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseTarget } from "../../packages/server/src/store/openDatabase.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { type LocalService, startLocalService } from "../helpers/localService.js";

export interface NamedSecretsSuiteDatabase {
  target: DatabaseTarget;
  cleanup(): Promise<void>;
}

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function testNamedSecrets(name: string, open: () => Promise<NamedSecretsSuiteDatabase>) {
  describe(`named secrets and ad-hoc dispatch on ${name}`, () => {
    let database: NamedSecretsSuiteDatabase;
    let service: LocalService;
    let receiver: Server;
    let receiverUrl: string;
    const received: Received[] = [];
    /** Status of each next request by path, in order; 200 once empty. */
    const statuses = new Map<string, number[]>();

    async function call(method: string, path: string, body?: unknown) {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return {
        status: response.status,
        text,
        json: text === "" ? undefined : JSON.parse(text),
      };
    }

    const at = (path: string) => received.filter((r) => r.path === path);
    const verify = (request: Received, secret: string) =>
      verifyWebhook({
        scheme: "standard",
        secrets: secret,
        headers: request.headers,
        body: request.body,
      });

    beforeAll(async () => {
      database = await open();
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const path = req.url ?? "";
          received.push({
            path,
            headers: req.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          });
          res.statusCode = statuses.get(path)?.shift() ?? 200;
          res.end("ok");
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      service = await startLocalService({
        database: database.target,
        worker: true,
        ssrfAllow: ["127.0.0.0/8"],
        pollIntervalMs: 50,
      });
    });

    afterAll(async () => {
      await service?.stop();
      receiver?.closeAllConnections();
      await new Promise<void>((resolve) => receiver?.close(() => resolve()));
      await database?.cleanup();
    });

    it("creates a secret, returning a generated value once and a given one never", async () => {
      const generated = await call("POST", "/v1/secrets", { name: "generated" });
      expect(generated.status).toBe(201);
      expect(generated.json).toMatchObject({
        name: "generated",
        tenant: "default",
        scheme: "standard",
        scheme_options: null,
        versions: [{ expires_at: null }],
      });
      expect(generated.json.secret).toMatch(/^whsec_/);
      const value = generated.json.secret as string;
      const read = await call("GET", "/v1/secrets/generated");
      expect(read.status).toBe(200);
      expect(read.json).not.toHaveProperty("secret");
      expect(read.text).not.toContain(value);

      const given = generateSecret("standard");
      const created = await call("POST", "/v1/secrets", {
        name: "given",
        tenant: "acme",
        secret: given,
      });
      expect(created.status).toBe(201);
      expect(created.json).not.toHaveProperty("secret");
      expect(created.text).not.toContain(given);
      const list = await call("GET", "/v1/secrets");
      expect(
        list.json.data.map((s: { tenant: string; name: string }) => `${s.tenant}/${s.name}`),
      ).toEqual(["acme/given", "default/generated"]);
      expect(list.text).not.toContain(given);
      expect(list.text).not.toContain(value);
      expect((await call("GET", "/v1/secrets?tenant=acme")).json.data).toHaveLength(1);
      expect((await call("GET", "/v1/secrets/given?tenant=acme")).status).toBe(200);
      expect((await call("GET", "/v1/secrets/given")).json.error.code).toBe("secret.not_found");
    });

    it("refuses a taken name (409), bad values and options (400) without echoing a value", async () => {
      await call("POST", "/v1/secrets", { name: "taken" });
      const taken = await call("POST", "/v1/secrets", { name: "taken" });
      expect(taken.status).toBe(409);
      expect(taken.json.error.code).toBe("secret.already_exists");
      const badValue = "not-a-standard-secret";
      const bad = await call("POST", "/v1/secrets", { name: "bad", secret: badValue });
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatchObject({ code: "request.invalid" });
      expect(bad.json.error.message).toMatch(/^secret: is not a usable standard secret/);
      expect(bad.text).not.toContain(badValue);
      const tooLong = `whsec_${"A".repeat(2000)}`;
      const long = await call("POST", "/v1/secrets", { name: "long", secret: tooLong });
      expect(long.status).toBe(400);
      expect(long.text).not.toContain("AAAAAAAAAA");
      for (const body of [
        { name: "bad name" },
        { name: "x", scheme: "nope" },
        { name: "x", scheme_options: { id_header: "X-Delivery-Id" } },
        { name: "x", scheme: "hmac", scheme_options: { template: "{id}.{body}" } },
        { name: "x", extra: true },
      ]) {
        const refused = await call("POST", "/v1/secrets", body);
        expect(refused.status, JSON.stringify(body)).toBe(400);
        expect(refused.json.error.code).toBe("request.invalid");
      }
      expect((await call("GET", "/v1/secrets/x")).status).toBe(404);
    });

    it("rotates (old versions expire after the overlap) and deletes", async () => {
      const first = generateSecret("standard");
      await call("POST", "/v1/secrets", { name: "rotating", secret: first });
      const rotated = await call("POST", "/v1/secrets/rotating/rotate", { overlap_s: 60 });
      expect(rotated.status).toBe(200);
      expect(rotated.json.secret).toMatch(/^whsec_/);
      expect(rotated.json.versions).toHaveLength(2);
      expect(rotated.json.versions[0].expires_at).toBeNull();
      const expiresAt = Date.parse(rotated.json.versions[1].expires_at);
      expect(expiresAt - Date.parse(rotated.json.versions[0].created_at)).toBe(60_000);
      expect(rotated.text).not.toContain(first);

      const next = generateSecret("standard");
      const given = await call("POST", "/v1/secrets/rotating/rotate", { secret: next });
      expect(given.status).toBe(200);
      expect(given.json).not.toHaveProperty("secret");
      expect(given.json.versions).toHaveLength(3);
      const refused = await call("POST", "/v1/secrets/rotating/rotate", { secret: "short" });
      expect(refused.status).toBe(400);
      expect(refused.json.error.message).toMatch(/^body\.secret: /);
      expect((await call("GET", "/v1/secrets/rotating")).json.versions).toHaveLength(3);
      const missing = await call("POST", "/v1/secrets/nobody/rotate", {});
      expect(missing.status).toBe(404);
      expect(missing.json.error.code).toBe("secret.not_found");

      expect((await call("DELETE", "/v1/secrets/rotating")).status).toBe(204);
      expect((await call("DELETE", "/v1/secrets/rotating")).status).toBe(404);
      expect((await call("GET", "/v1/secrets/rotating")).status).toBe(404);
    });

    it("refuses incomplete ad-hoc dispatches and unknown secrets, storing nothing", async () => {
      const url = `${receiverUrl}/never`;
      for (const [extra, status, code] of [
        [{ url, secret_name: "nobody" }, 404, "secret.not_found"],
        [{ url }, 400, "request.invalid"],
        [{ secret_name: "generated" }, 400, "request.invalid"],
        [{ retry: { schedule_s: [1] } }, 400, "request.invalid"],
        [{ url: "ftp://example.com/x", secret_name: "generated" }, 400, "request.invalid"],
        [{ url, secret_name: "generated", retry: { schedule_s: [-1] } }, 400, "request.invalid"],
      ] as const) {
        const refused = await call("POST", "/v1/messages", {
          type: "adhoc.refused.v1",
          payload: {},
          ...extra,
        });
        expect(refused.status, JSON.stringify(extra)).toBe(status);
        expect(refused.json.error.code).toBe(code);
      }
      expect((await call("GET", "/v1/deliveries")).json.data).toEqual([]);
    });

    it("delivers an ad-hoc message signed with the named secret, retries it after a 500 with the rotated secret", async () => {
      const oldSecret = generateSecret("standard");
      await call("POST", "/v1/secrets", { name: "partner", secret: oldSecret });
      statuses.set("/partner", [500]);
      const sent = await call("POST", "/v1/messages", {
        type: "invoice.paid.v1",
        payload: { invoice: "in_1" },
        url: `${receiverUrl}/partner`,
        secret_name: "partner",
        retry: { schedule_s: [1.5], jitter: 0 },
      });
      expect(sent.status).toBe(202);
      expect(sent.json).toMatchObject({ deliveries: 1, duplicate: false });
      const [first] = await until(async () =>
        at("/partner").length > 0 ? at("/partner") : undefined,
      );
      expect(verify(first!, oldSecret)).toMatchObject({ ok: true, id: sent.json.message_id });

      const newSecret = generateSecret("standard");
      const rotated = await call("POST", "/v1/secrets/partner/rotate", {
        secret: newSecret,
        overlap_s: 0,
      });
      expect(rotated.status).toBe(200);
      const message = await until(async () => {
        const m = await call("GET", `/v1/messages/${sent.json.message_id}`);
        return m.json.deliveries[0]?.status === "delivered" ? m.json : undefined;
      });
      expect(message.deliveries[0]).toMatchObject({ attempts: 2 });
      const [, second] = at("/partner");
      expect(verify(second!, newSecret)).toMatchObject({ ok: true, id: sent.json.message_id });
      expect(verify(second!, oldSecret)).toMatchObject({ ok: false, code: "signature.invalid" });

      const endpointId = message.deliveries[0].endpoint_id as string;
      expect(endpointId).toMatch(/^adhoc_/);
      const endpoint = await call("GET", `/v1/endpoints/${endpointId}`);
      expect(endpoint.json).toMatchObject({ adhoc: true, secret_name: "partner", secret_count: 0 });
      const listed = await call("GET", "/v1/endpoints");
      expect(listed.json.data.map((e: { id: string }) => e.id)).not.toContain(endpointId);
      const log = await call("GET", `/v1/deliveries/${message.deliveries[0].id}`);
      expect(log.json.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([
        500, 200,
      ]);
    });

    it("dead-letters an ad-hoc delivery after its last attempt, and replay delivers it", async () => {
      const secret = generateSecret("standard");
      await call("POST", "/v1/secrets", { name: "flaky", secret });
      statuses.set("/flaky", [500, 502]);
      const sent = await call("POST", "/v1/messages", {
        type: "invoice.paid.v1",
        payload: { invoice: "in_2" },
        url: `${receiverUrl}/flaky`,
        secret_name: "flaky",
        retry: { schedule_s: [0.2] },
      });
      expect(sent.status).toBe(202);
      const dead = await until(async () => {
        const m = await call("GET", `/v1/messages/${sent.json.message_id}`);
        return m.json.deliveries[0]?.status === "dead_lettered" ? m.json.deliveries[0] : undefined;
      });
      expect(dead).toMatchObject({ attempts: 2, max_attempts: 2 });
      expect(dead.last_error).toMatch(/HTTP 502/);
      const replay = await call("POST", `/v1/deliveries/${dead.id}/replay`);
      expect(replay.status).toBe(202);
      await until(async () => {
        const d = await call("GET", `/v1/deliveries/${dead.id}`);
        return d.json.status === "delivered" ? d.json : undefined;
      });
      const requests = at("/flaky");
      expect(requests).toHaveLength(3);
      for (const request of requests) expect(verify(request, secret)).toMatchObject({ ok: true });
    });
  });
}
