// The input rules of the service, on a given database, through the HTTP surface only (Fastify
// inject, or fetch where a header Node handles specially must cross a real socket): the same
// answer on SQLite (inputRules.unit) and PostgreSQL (inputRules.int) for
// - text no store can hold (U+0000, unpaired surrogates) in path parameters, query values,
//   JSON bodies and webhook payloads: 400 text.invalid before any query, never a 500;
// - JSON nested deeper than MAX_JSON_DEPTH (64): 400 body.too_deep, for webhooks and /v1;
// - header and form-field names that are Object.prototype members: just names;
// - source secrets the scheme cannot use: refused with 400 on create; a stored one answers its
//   webhooks 503 source.misconfigured (never 500), and says why in the log only.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningService, startService } from "../../packages/server/src/server/service.js";
import { type SchemeSpec, signWebhook } from "../../packages/webhooks/src/signing/index.js";
import { rawRequest } from "../helpers/e2eHttp.js";
import type { ServiceSuiteDatabase } from "./serviceSuite.js";

interface Answer {
  status: number;
  /** Parsed JSON, read field by field. */
  json: ReturnType<typeof JSON.parse>;
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const nested = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
const PROTO_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

export function testInputRules(name: string, open: () => Promise<ServiceSuiteDatabase>): void {
  describe(`input rules on ${name}`, () => {
    let database: ServiceSuiteDatabase;
    let service: RunningService;
    const logs: LogLine[] = [];
    const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    let sequence = 0;

    async function call(
      method: string,
      url: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<Answer> {
      const response = await service.app!.inject({
        method: method as "GET",
        url,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        ...(body === undefined
          ? {}
          : { payload: typeof body === "string" ? body : JSON.stringify(body) }),
      });
      return {
        status: response.statusCode,
        json: response.body === "" ? undefined : response.json(),
      };
    }

    /**
     * A signed webhook, sent over a raw socket so that every header arrives as written (fetch
     * drops a header named `__proto__`).
     */
    async function hook(
      source: string,
      body: string,
      options: { type?: string; headers?: Record<string, string>; scheme?: SchemeSpec } = {},
    ): Promise<Answer> {
      const signed = signWebhook({
        scheme: options.scheme ?? "standard",
        secret,
        body,
        id: `msg_rule_${sequence++}`,
      });
      const headers = [
        ["Host", new URL(service.url!).host],
        ["Content-Type", options.type ?? "application/json"],
        ...Object.entries(signed),
        ...Object.entries(options.headers ?? {}),
        ["Content-Length", String(Buffer.byteLength(body))],
        ["Connection", "close"],
      ];
      const lines = headers.map(([n, v]) => `${n}: ${v}\r\n`).join("");
      const head = `POST /webhooks/${source} HTTP/1.1\r\n${lines}\r\n`;
      const response = await rawRequest(service.url!, head, Buffer.from(body));
      const text = response.text.slice(response.text.indexOf("\r\n\r\n") + 4);
      return { status: response.status ?? 0, json: text === "" ? undefined : JSON.parse(text) };
    }

    /** Messages stored so far: each has one delivery to the catch-all endpoint. */
    async function storedCount(): Promise<number> {
      return (await call("GET", "/v1/deliveries?endpoint=ep_all&limit=1000")).json.data.length;
    }

    /** The payload stored for an accepted webhook, as the API returns it (JSON text parsed). */
    async function payloadOf(answer: Answer): Promise<unknown> {
      expect(answer.status, JSON.stringify(answer.json)).toBe(202);
      const response = await service.app!.inject({
        method: "GET",
        url: `/v1/messages/${answer.json.message_id}`,
      });
      return (JSON.parse(response.body) as { payload: unknown }).payload;
    }

    const errorsLogged = () => logs.filter((line) => line.level >= 50);

    beforeAll(async () => {
      database = await open();
      service = await startService({
        database: database.target,
        http: true,
        worker: false,
        host: "127.0.0.1",
        port: 0,
        apiKey: null,
        logger: pino(
          { level: "info" },
          { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
        ),
        version: "test",
      });
      const std = { scheme: "standard", secrets: [secret], type_from: { body: "type" } };
      expect((await call("POST", "/v1/sources", { name: "std", ...std })).status).toBe(201);
      const endpoint = { id: "ep_all", url: "https://hooks.example.com/all", event_types: ["*"] };
      expect((await call("POST", "/v1/endpoints", endpoint)).status).toBe(201);
    });

    afterAll(async () => {
      await service?.stop();
      await database?.cleanup();
    });

    describe("text no store can hold", () => {
      // Every route with a path parameter, and the query filters that reach a query.
      const routes: [string, string, unknown?][] = [
        ["POST", "/webhooks/%00", {}],
        ["POST", "/webhooks/std%00", {}],
        ["GET", "/v1/event-types/%00"],
        ["DELETE", "/v1/event-types/a%00"],
        ["GET", "/v1/sources/std%00"],
        ["DELETE", "/v1/sources/%00"],
        ["GET", "/v1/endpoints/ep_all%00"],
        ["PATCH", "/v1/endpoints/%00", { timeout_ms: 1000 }],
        ["DELETE", "/v1/endpoints/%00"],
        ["POST", "/v1/endpoints/%00/enable", {}],
        ["POST", "/v1/endpoints/%00/disable", {}],
        ["POST", "/v1/endpoints/%00/rotate-secret", {}],
        ["POST", "/v1/endpoints/%00/recover", { since: "2026-01-01T00:00:00Z" }],
        ["GET", "/v1/messages/msg_%00"],
        ["GET", "/v1/deliveries/%00"],
        ["POST", "/v1/deliveries/%00/replay", {}],
        ["GET", "/v1/deliveries?endpoint=%00"],
        ["GET", "/v1/deliveries?message=msg%00"],
        ["GET", "/v1/endpoints?tenant=a%00b"],
      ];
      it.each(routes)(
        "%s %s → 400 text.invalid, nothing logged as an error",
        async (method, url, body) => {
          const before = errorsLogged().length;
          const answer = await call(method, url, body);
          expect(answer).toMatchObject({ status: 400, json: { error: { code: "text.invalid" } } });
          expect(answer.json.error.message).toContain("U+0000");
          expect(errorsLogged().length).toBe(before);
        },
      );

      const bodies: [string, string, string][] = [
        ["POST", "/v1/messages", '{"type":"a.b","payload":{"x":"\\u0000"}}'],
        ["POST", "/v1/messages", '{"type":"a.b","payload":{"x":"\\ud800"}}'],
        ["POST", "/v1/messages", '{"type":"a.b","payload":{"\\udc00":1}}'],
        ["POST", "/v1/messages", '{"type":"a.b","tenant":"a\\u0000","payload":{}}'],
        ["POST", "/v1/messages", '{"type":"a.b","tenant":"a\\udfff","payload":{}}'],
        [
          "POST",
          "/v1/endpoints",
          '{"url":"https://x.example.com/","event_types":["*"],"headers":{"X-A":"\\ud800"}}',
        ],
        [
          "POST",
          "/v1/endpoints",
          '{"url":"https://x.example.com/","event_types":["*"],"description":"\\u0000"}',
        ],
        ["PATCH", "/v1/endpoints/ep_all", '{"description":"\\udbff"}'],
        ["POST", "/v1/event-types", '{"name":"a.b","description":"\\ud800"}'],
        ["POST", "/v1/event-types", '{"name":"a.b","schema":{"title":"\\u0000"}}'],
      ];
      it.each(bodies)("%s %s %s → 400 text.invalid", async (method, url, body) => {
        const before = await storedCount();
        const answer = await call(method, url, body);
        expect(answer).toMatchObject({ status: 400, json: { error: { code: "text.invalid" } } });
        expect(await storedCount()).toBe(before);
        expect((await call("GET", "/v1/endpoints/ep_all")).json.description).toBe("");
      });

      it.each([
        ['{"type":"a","x":"\\u0000"}', "application/json"],
        ['{"type":"a","x":"\\ud800"}', "application/json"],
        ['{"type":"a","\\udc00":true}', "application/json"],
        ['{"type":"a","x":["\\ud83d\\u0041"]}', "application/json"],
        ["type=a&x=%00", "application/x-www-form-urlencoded"],
        ["type=a&%00=x", "application/x-www-form-urlencoded"],
      ])("a signed webhook %s (%s) → 400 text.invalid, nothing stored", async (body, type) => {
        const before = await storedCount();
        expect(await hook("std", body, { type })).toMatchObject({
          status: 400,
          json: { error: { code: "text.invalid" } },
        });
        expect(await storedCount()).toBe(before);
      });

      it("stores text that only looks like NUL, and surrogate pairs, exactly", async () => {
        const body = '{"type":"a","s":"\\\\u0000 is six characters","e":"\\ud83d\\ude00 😀"}';
        expect(await payloadOf(await hook("std", body))).toEqual(JSON.parse(body));
      });
    });

    describe("JSON depth", () => {
      it("accepts a webhook nested 64 levels and stores it", async () => {
        const body = `{"type":"a","x":${nested(63)}}`;
        expect(await payloadOf(await hook("std", body))).toEqual(JSON.parse(body));
      });

      it.each([65, 1000, 5000])(
        "refuses a webhook nested %i levels: 400 body.too_deep",
        async (levels) => {
          const before = await storedCount();
          const answer = await hook("std", `{"type":"a","x":${nested(levels - 1)}}`);
          expect(answer).toMatchObject({ status: 400, json: { error: { code: "body.too_deep" } } });
          expect(answer.json.error.message).toContain("deeper than 64 levels");
          expect(await storedCount()).toBe(before);
        },
      );

      it.each([
        ["/v1/messages", (n: number) => `{"type":"a.b","payload":{"x":${nested(n)}}}`],
        ["/v1/event-types", (n: number) => `{"name":"deep.t","schema":{"x":${nested(n)}}}`],
        [
          "/v1/endpoints",
          (n: number) => `{"url":"https://x.example.com/","event_types":${nested(n)}}`,
        ],
      ])(
        "refuses %s bodies nested 1,000 and 5,000 levels: 400 body.too_deep",
        async (url, body) => {
          for (const levels of [1000, 5000]) {
            const answer = await call("POST", url, body(levels));
            expect(answer).toMatchObject({
              status: 400,
              json: { error: { code: "body.too_deep" } },
            });
          }
        },
      );

      it("logged no error for any of it", () => {
        expect(errorsLogged()).toEqual([]);
      });
    });

    describe("names of Object.prototype members", () => {
      it("reads idempotency and type headers named constructor, toString… as headers", async () => {
        for (const header of PROTO_NAMES) {
          const source = `proto_${header.replaceAll("_", "")}`;
          // A scheme without a message id of its own: the idempotency header is the dedupe key.
          const created = await call("POST", "/v1/sources", {
            name: source,
            scheme: "hmac",
            secrets: [secret],
            idempotency_header: header,
            type_from: { header },
          });
          expect(created.status, JSON.stringify(created.json)).toBe(201);
          const scheme = "hmac";
          // Without the header: the source's own answer (no type), never a 500.
          expect(await hook(source, "{}", { scheme })).toMatchObject({
            status: 400,
            json: { error: { code: "type.missing" } },
          });
          const headers = { [header]: "kind.one" };
          const first = await hook(source, "{}", { headers, scheme });
          expect(first.status, `${header}: ${JSON.stringify(first.json)}`).toBe(202);
          const again = await hook(source, '{"other":1}', { headers, scheme });
          expect(again).toMatchObject({ status: 200, json: { status: "duplicate" } });
          const message = await call("GET", `/v1/messages/${first.json.message_id}`);
          expect(message.json.type).toBe(`${source}.kind.one`);
        }
      });

      it("verifies an hmac source whose signature and timestamp headers have such names", async () => {
        for (const [signatureHeader, timestampHeader] of [
          ["constructor", "__proto__"],
          ["__proto__", "toString"],
        ] as const) {
          const source = `hmac_${signatureHeader.replaceAll("_", "")}`;
          const created = await call("POST", "/v1/sources", {
            name: source,
            scheme: "hmac",
            scheme_options: {
              signature_header: signatureHeader,
              timestamp_header: timestampHeader,
            },
            secrets: [secret],
          });
          expect(created.status, JSON.stringify(created.json)).toBe(201);
          const scheme = { name: "hmac", signatureHeader, timestampHeader } as SchemeSpec;
          expect(await hook(source, '{"n":1}', { scheme })).toMatchObject({ status: 202 });
          expect(await hook(source, '{"n":2}')).toMatchObject({
            status: 401,
            json: { error: { code: "signature.missing" } },
          });
        }
      });

      it("stores form fields with such names as fields; __proto__ replaces no prototype", async () => {
        const created = await call("POST", "/v1/sources", {
          name: "form",
          scheme: "standard",
          secrets: [secret],
          type_from: { body: "toString" },
        });
        expect(created.status).toBe(201);
        const fields = PROTO_NAMES.map((n, i) => `${n}=v${i}`).join("&");
        const payload = (await payloadOf(
          await hook("form", `${fields}&constructor=again`, {
            type: "application/x-www-form-urlencoded",
          }),
        )) as Record<string, unknown>;
        expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
        expect(Object.keys(payload).sort()).toEqual([...PROTO_NAMES].sort());
        expect(Object.hasOwn(payload, "__proto__")).toBe(true);
        expect(Object.entries(payload).sort()).toEqual(
          [
            ["constructor", ["v0", "again"]],
            ["__proto__", "v1"],
            ["toString", "v2"],
            ["hasOwnProperty", "v3"],
            ["valueOf", "v4"],
          ].sort(),
        );
        // The type came from the field `toString`, not from Object.prototype.toString.
        const read = await call("GET", "/v1/deliveries?endpoint=ep_all&limit=1");
        const message = await call("GET", `/v1/messages/${read.json.data[0].message_id}`);
        expect(message.json.type).toBe("form.v2");
      });

      it("takes a type from a body field named like a prototype member only when the body has it", async () => {
        const created = await call("POST", "/v1/sources", {
          name: "typed",
          scheme: "standard",
          secrets: [secret],
          type_from: { body: "constructor.name" },
        });
        expect(created.status).toBe(201);
        expect(await hook("typed", '{"x":1}')).toMatchObject({
          status: 400,
          json: { error: { code: "type.missing" } },
        });
        const answer = await hook("typed", '{"constructor":{"name":"made"}}');
        expect((await call("GET", `/v1/messages/${answer.json.message_id}`)).json.type).toBe(
          "typed.made",
        );
      });
    });

    describe("source secrets", () => {
      it.each([
        ["standard", undefined, "not base64!"],
        ["standard", undefined, "whsec_***"],
        ["standard", undefined, "whpk_AAAA"],
        ["hmac", { secret_encoding: "hex" }, "not-hex"],
        ["hmac", { secret_encoding: "base64" }, "%%%"],
        ["stripe", undefined, "whsec_with space"],
        ["github", undefined, "   "],
      ])(
        "refuses a %s source (%j) with an unusable secret: 400 request.invalid",
        async (scheme, options, bad) => {
          const answer = await call("POST", "/v1/sources", {
            name: "badsecret",
            scheme,
            ...(options === undefined ? {} : { scheme_options: options }),
            secrets: [scheme === "hmac" ? "00ff" : secret.replace("whsec_", ""), bad],
          });
          expect(answer).toMatchObject({
            status: 400,
            json: { error: { code: "request.invalid" } },
          });
          expect(answer.json.error.message).toContain(
            `secrets[1]: is not a usable ${scheme} secret`,
          );
          expect(JSON.stringify(answer.json)).not.toContain(bad.trim() === "" ? "   " : bad);
          expect((await call("GET", "/v1/sources/badsecret")).status).toBe(404);
        },
      );

      it("accepts what each scheme can verify with, a whpk_ public key included", async () => {
        const publicKey = `whpk_${Buffer.alloc(32, 3).toString("base64")}`;
        for (const [scheme, secrets, options] of [
          ["standard", [publicKey, secret], undefined],
          ["hmac", ["00ff"], { secret_encoding: "hex" }],
          ["stripe", ["whsec_abc"], undefined],
        ] as const) {
          const answer = await call("POST", "/v1/sources", {
            name: `good_${scheme}`,
            scheme,
            secrets,
            ...(options === undefined ? {} : { scheme_options: options }),
          });
          expect(answer.status, JSON.stringify(answer.json)).toBe(201);
        }
      });

      it("answers webhooks to a stored source it cannot use 503 source.misconfigured, never 500", async () => {
        // Stored without the API's check (an older version, a database edit).
        await service.store.upsertSource({
          name: "legacy",
          scheme: "standard",
          secrets: ["not base64!"],
          typeFrom: { body: "type" },
        });
        const before = errorsLogged().length;
        const answer = await hook("legacy", '{"type":"a"}');
        expect(answer).toMatchObject({
          status: 503,
          json: { error: { code: "source.misconfigured" } },
        });
        expect(JSON.stringify(answer.json)).not.toMatch(/not base64|whsec_|base64/);
        const logged = errorsLogged().slice(before);
        expect(logged.map((l) => l.msg).join("\n")).toContain("cannot verify webhooks");
        expect(
          logged.find((l) => l.source === "legacy" && typeof l.reason === "string")?.reason,
        ).toContain("secrets[0] is not a usable standard secret");
        // Fixed through the API: accepted at once.
        const fixed = {
          name: "legacy",
          scheme: "standard",
          secrets: [secret],
          type_from: { body: "type" },
        };
        expect((await call("POST", "/v1/sources", fixed)).status).toBe(200);
        expect((await hook("legacy", '{"type":"a"}')).status).toBe(202);
      });
    });
  });
}
