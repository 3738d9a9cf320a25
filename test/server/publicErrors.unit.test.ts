// A 5xx answer never carries the underlying error's text (a database's or a driver's message):
// the client gets the stable code and a generic message, the log gets the detail. Faults are
// injected from here (a throwing route, a committer that fails as a store would).
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { handleError } from "../../packages/server/src/server/httpErrors.js";
import type { GroupCommitter } from "../../packages/server/src/server/ingest/groupCommit.js";
import { createIngestor } from "../../packages/server/src/server/ingest/ingestor.js";
import { createSourceCache } from "../../packages/server/src/server/ingest/sourceCache.js";
import type { ServiceMetrics } from "../../packages/server/src/server/metrics.js";
import { ingestRoutes } from "../../packages/server/src/server/routes/ingest.js";
import { coerceError, HeraldError } from "../../packages/webhooks/src/core/errors.js";
import { signWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { sourceRecord } from "./sourceRecord.js";

const DATABASE_TEXT = [
  "CHECK constraint failed: json_valid(payload)",
  'invalid byte sequence for encoding "UTF8": 0x00',
  "invalid input syntax for type json",
];

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { lines, logger: logger as unknown as FastifyBaseLogger };
}

describe("5xx messages", () => {
  it.each(DATABASE_TEXT)("/v1-style handler: %j stays in the log", async (text) => {
    const { lines, logger } = capture();
    app = Fastify({ loggerInstance: logger });
    app.setErrorHandler(handleError);
    app.get("/thrown", async () => {
      throw new Error(text);
    });
    app.get("/coerced", async () => {
      throw coerceError(new Error(text));
    });
    app.get("/unavailable", async () => {
      throw new HeraldError("store.unavailable", `PostgreSQL: ${text} (10.0.0.5:5432)`);
    });
    for (const [url, status, code] of [
      ["/thrown", 500, "internal"],
      ["/coerced", 500, "internal"],
      ["/unavailable", 503, "store.unavailable"],
    ] as const) {
      const response = await app.inject({ method: "GET", url });
      expect(response.statusCode).toBe(status);
      expect(response.json().error.code).toBe(code);
      expect(response.body).not.toContain(text);
      expect(response.body).not.toContain("10.0.0.5");
      expect(response.json().error.message).toContain("request id in the x-request-id header");
    }
    expect(JSON.stringify(lines)).toContain(JSON.stringify(text).slice(1, -1));
  });

  it("the webhook route: a store failure is 500 internal without the database's text", async () => {
    const { lines, logger } = capture();
    const secret = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
    const source = sourceRecord({
      name: "std",
      scheme: "standard",
      secrets: [secret],
      typeFrom: { body: "type" },
    });
    const committer: GroupCommitter = {
      submit: () => Promise.reject(coerceError(new Error(DATABASE_TEXT[0]))),
      drain: async () => {},
      pending: 0,
    };
    const ingestor = createIngestor({
      sources: createSourceCache({ getSource: async () => source }),
      committer,
    });
    app = Fastify({ loggerInstance: logger });
    app.setErrorHandler(handleError);
    const metrics = { ingest() {} } as unknown as ServiceMetrics;
    await app.register(ingestRoutes, { ingestor, metrics, bodyLimitBytes: 1024 });
    const body = '{"type":"a"}';
    const response = await app.inject({
      method: "POST",
      url: "/webhooks/std",
      headers: {
        "content-type": "application/json",
        ...signWebhook({ scheme: "standard", secret, body, id: "msg_1" }),
      },
      payload: body,
    });
    expect(response.statusCode).toBe(500);
    expect(response.json().error.code).toBe("internal");
    expect(response.body).not.toContain("CHECK");
    const logged = lines.find((l) => l.msg === "webhook not stored");
    expect(logged).toMatchObject({ level: 50, source: "std", code: "internal" });
    expect(JSON.stringify(logged)).toContain(DATABASE_TEXT[0]);
  });
});
