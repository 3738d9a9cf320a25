// The built `herald serve` describes itself and reports what it does: /openapi.json is a valid
// OpenAPI 3.1 document of every route (the management API secured, the bodies documented), and
// /metrics, after real traffic (a webhook accepted, its duplicate, a forged one, an unknown
// source, a delivery to a local receiver), has every family with the counts that traffic makes.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signWebhook } from "@heraldjs/webhooks";
import { Validator } from "@seriousme/openapi-schema-validator";
import parsePrometheusTextFormat, {
  type PrometheusFamily,
  type PrometheusSample,
} from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusForCode } from "../../packages/server/src/server/httpErrors.js";
import { readRepoFile } from "../helpers/docRegions.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";

const API_KEY = "test-key-0123456789";
const SOURCE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  tags?: string[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
  responses?: Record<string, unknown>;
}
type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { securitySchemes?: Record<string, unknown> };
};

/** Every route of the service, with its methods (OpenAPI path syntax). */
const ROUTES: Record<string, string[]> = {
  "/webhooks/{source}": ["post"],
  "/v1/event-types": ["get", "post"],
  "/v1/event-types/{name}": ["delete", "get"],
  "/v1/sources": ["get", "post"],
  "/v1/sources/{name}": ["delete", "get"],
  "/v1/endpoints": ["get", "post"],
  "/v1/endpoints/{id}": ["delete", "get", "patch"],
  "/v1/endpoints/{id}/rotate-secret": ["post"],
  "/v1/endpoints/{id}/recover": ["post"],
  "/v1/endpoints/{id}/enable": ["post"],
  "/v1/endpoints/{id}/disable": ["post"],
  "/v1/messages": ["post"],
  "/v1/messages/{id}": ["get"],
  "/v1/deliveries": ["get"],
  "/v1/deliveries/{id}": ["get"],
  "/v1/deliveries/{id}/replay": ["post"],
  "/v1/secrets": ["get", "post"],
  "/v1/secrets/{name}": ["delete", "get"],
  "/v1/secrets/{name}/rotate": ["post"],
  "/v1/stream-tokens": ["get", "post"],
  "/v1/stream-tokens/{id}": ["delete"],
  "/v1/nats-tokens": ["get", "post"],
  "/v1/nats-tokens/{id}": ["delete", "get"],
  "/v1/stream": ["get"],
  "/v1/stream/ws": ["get"],
  "/health": ["get"],
  "/ready": ["get"],
  "/metrics": ["get"],
};

describe("herald serve: /openapi.json and /metrics", () => {
  const dir = mkdtempSync(join(tmpdir(), "herald-openapi-metrics-"));
  let herald: HeraldProcess;
  let receiver: Server;
  let receiverUrl: string;
  const received: string[] = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      received.push(String(request.headers["webhook-id"]));
      request.resume().on("end", () => response.writeHead(200).end("ok"));
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    herald = await startHerald({
      cwd: dir,
      env: {
        HERALD_SSRF_ALLOW: "127.0.0.0/8",
        HERALD_API_KEY: API_KEY,
        HERALD_LOG_LEVEL: "trace",
        HERALD_DB: undefined,
        HERALD_CONFIG: undefined,
        HERALD_HOST: undefined,
      },
    });
  });

  afterAll(async () => {
    const code = await herald?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${herald.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        "content-type": "application/json",
        ...(init.headers as Record<string, string> | undefined),
      },
    });

  it("/openapi.json is a valid OpenAPI 3.1 document of every route", async () => {
    const response = await fetch(`${herald.url}/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as OpenApiDocument;
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");

    const documented = Object.fromEntries(
      Object.entries(doc.paths).map(([path, item]) => [path, Object.keys(item).sort()]),
    );
    expect(documented).toEqual(ROUTES);

    // The management API is secured by the bearer scheme, the live streams by a stream token;
    // webhooks and operations are not.
    expect(doc.components?.securitySchemes?.bearer).toEqual({ type: "http", scheme: "bearer" });
    expect(doc.components?.securitySchemes?.streamToken).toMatchObject({
      type: "apiKey",
      in: "query",
      name: "token",
    });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const label = `${method.toUpperCase()} ${path}`;
        if (path === "/v1/stream" || path.startsWith("/v1/stream/")) {
          expect(operation.security, label).toEqual([{ streamToken: [] }]);
        } else if (path.startsWith("/v1/"))
          expect(operation.security, label).toEqual([{ bearer: [] }]);
        else expect(operation.security, label).toBeUndefined();
        expect(Object.keys(operation.responses ?? {}), label).not.toHaveLength(0);
      }
    }

    const bodyOf = (path: string) =>
      doc.paths[path]?.post?.requestBody?.content["application/json"]?.schema.properties ?? {};
    expect(Object.keys(bodyOf("/v1/sources"))).toEqual(
      expect.arrayContaining([
        "name",
        "scheme",
        "secrets",
        "tolerance_s",
        "idempotency_header",
        "idempotency_required",
        "dedupe_ttl_s",
        "type_from",
      ]),
    );
    expect(Object.keys(bodyOf("/v1/endpoints"))).toEqual(
      expect.arrayContaining([
        "url",
        "event_types",
        "tenant",
        "scheme",
        "secret",
        "headers",
        "timeout_ms",
        "retry",
        "rate_limit_per_s",
        "max_in_flight",
        "ordered",
      ]),
    );
    expect(doc.paths["/v1/messages"]?.post?.requestBody).toBeDefined();
  });

  it("the /v1 API refuses a request without the key", async () => {
    const response = await fetch(`${herald.url}/v1/sources`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "auth.unauthorized" } });
  });

  it("/metrics counts requests, ingestion outcomes, deliveries, and reads the queue", async () => {
    const source = await api("/v1/sources", {
      method: "POST",
      body: JSON.stringify({
        name: "shop",
        scheme: "standard",
        secrets: [SOURCE_SECRET],
        type_from: { body: "type" },
      }),
    });
    expect(source.status).toBe(201);
    const endpoint = await api("/v1/endpoints", {
      method: "POST",
      body: JSON.stringify({ url: receiverUrl, event_types: ["shop.*"] }),
    });
    expect(endpoint.status).toBe(201);
    const { secret: endpointSecret } = (await endpoint.json()) as { secret: string };

    const body = '{"type":"order.created","id":1}';
    const signed = signWebhook({
      scheme: "standard",
      secret: SOURCE_SECRET,
      id: "msg_hook_1",
      body,
    });
    const headers = { ...signed, "content-type": "application/json" };
    const send = (to: string, extra: Record<string, string> = {}) =>
      fetch(`${herald.url}/webhooks/${to}`, {
        method: "POST",
        headers: { ...headers, ...extra },
        body,
      });
    const accepted = await send("shop");
    expect(accepted.status).toBe(202);
    const { message_id: messageId } = (await accepted.json()) as { message_id: string };
    const duplicate = await send("shop");
    expect(duplicate.status).toBe(200);
    expect(await duplicate.json()).toEqual({
      message_id: messageId,
      status: "duplicate",
      status_url: `/v1/messages/${messageId}`,
    });
    const otherSecret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const forgedSignature = signWebhook({
      scheme: "standard",
      secret: otherSecret,
      id: "msg_hook_1",
      body,
    });
    const forged = await send("shop", {
      "webhook-signature": forgedSignature["webhook-signature"]!,
    });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: "signature.invalid" } });
    expect((await send("nobody")).status).toBe(404);

    // The worker delivers it to the receiver; /metrics then reports that too.
    let families = new Map<string, PrometheusFamily>();
    let series = new Map<string, PrometheusFamily>();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const response = await fetch(`${herald.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      ({ families, series } = parseMetrics(await response.text()));
      if (sample(series, "herald_deliveries_total", { outcome: "succeeded" }) !== undefined) {
        break;
      }
      if (Date.now() > deadline) throw new Error("no delivery succeeded within 15 s");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(received).toEqual([messageId]);
    const message = (await (await api(`/v1/messages/${messageId}`)).json()) as {
      status: string;
      deliveries: { status: string; attempts: number }[];
    };
    expect(message.status).toBe("delivered");
    expect(message.deliveries).toMatchObject([{ status: "delivered", attempts: 1 }]);

    const value = (name: string, labels: Record<string, string> = {}) =>
      Number(sample(series, name, labels)?.value);

    // HTTP requests by method, route pattern (never the raw URL) and status.
    expect(families.get("herald_http_requests_total")?.type).toBe("COUNTER");
    const webhook = { method: "POST", route: "/webhooks/:source" };
    expect(value("herald_http_requests_total", { ...webhook, status: "202" })).toBe(1);
    expect(value("herald_http_requests_total", { ...webhook, status: "200" })).toBe(1);
    expect(value("herald_http_requests_total", { ...webhook, status: "401" })).toBe(1);
    expect(value("herald_http_requests_total", { ...webhook, status: "404" })).toBe(1);
    expect(
      value("herald_http_requests_total", { method: "POST", route: "/v1/sources", status: "201" }),
    ).toBe(1);
    expect(
      value("herald_http_requests_total", { method: "GET", route: "/v1/sources", status: "401" }),
    ).toBe(1);
    const routes = families.get("herald_http_requests_total")?.metrics.map((m) => m.labels?.route);
    expect(routes).not.toContain("/webhooks/shop");
    expect(families.get("herald_http_request_duration_seconds")?.type).toBe("HISTOGRAM");

    // Ingestion outcomes by source; an unknown source is not a label value of its own.
    expect(families.get("herald_ingest_requests_total")?.type).toBe("COUNTER");
    expect(value("herald_ingest_requests_total", { source: "shop", outcome: "accepted" })).toBe(1);
    expect(value("herald_ingest_requests_total", { source: "shop", outcome: "duplicate" })).toBe(1);
    expect(value("herald_ingest_requests_total", { source: "shop", outcome: "rejected" })).toBe(1);
    expect(value("herald_ingest_requests_total", { source: "_unknown", outcome: "rejected" })).toBe(
      1,
    );
    const sources = families.get("herald_ingest_requests_total")?.metrics.map((m) => m.labels);
    expect(sources?.map((l) => l?.source)).not.toContain("nobody");
    expect(families.get("herald_ingest_batch_size")?.type).toBe("HISTOGRAM");
    expect(value("herald_ingest_batch_size_count")).toBeGreaterThanOrEqual(1);
    expect(value("herald_ingest_batch_duration_seconds_count", { result: "committed" })).toBe(
      value("herald_ingest_batch_size_count"),
    );

    // Deliveries and the attempt latency.
    expect(families.get("herald_deliveries_total")?.type).toBe("COUNTER");
    expect(value("herald_deliveries_total", { outcome: "succeeded" })).toBe(1);
    const attempts = families.get("herald_delivery_attempt_duration_seconds");
    expect(attempts?.type).toBe("HISTOGRAM");
    const success = { result: "success" };
    expect(value("herald_delivery_attempt_duration_seconds_count", success)).toBe(1);
    expect(value("herald_delivery_attempt_duration_seconds_sum", success)).toBeGreaterThan(0);
    expect(value("herald_delivery_attempt_duration_seconds_sum", success)).toBeLessThan(15);
    expect(
      value("herald_delivery_attempt_duration_seconds_bucket", { ...success, le: "+Inf" }),
    ).toBe(1);
    expect(
      sample(series, "herald_delivery_attempt_duration_seconds_count", { result: "failure" }),
    ).toBeUndefined();

    // The queue, read from the store at the scrape: nothing waiting, the store up.
    expect(families.get("herald_queue_depth")?.type).toBe("GAUGE");
    const depth = Object.fromEntries(
      families.get("herald_queue_depth")?.metrics.map((m) => [m.labels?.status, m.value]) ?? [],
    );
    expect(depth).toEqual({
      pending: "0",
      delivering: "0",
      retrying: "0",
      dead_lettered: "0",
      cancelled: "0",
    });
    expect(families.get("herald_oldest_due_delivery_age_seconds")?.type).toBe("GAUGE");
    expect(value("herald_oldest_due_delivery_age_seconds")).toBe(0);
    expect(families.get("herald_store_up")?.type).toBe("GAUGE");
    expect(value("herald_store_up")).toBe(1);

    // The JSON log (trace level: everything) ties lines to requests, messages and deliveries,
    // and never holds a secret, a key or a signature.
    const lines = herald
      .stdout()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      lines.find((l) => l.msg === "webhook received" && l.messageId === messageId),
    ).toMatchObject({
      requestId: expect.stringMatching(/^req_/),
      source: "shop",
      outcome: "accepted",
    });
    expect(lines.find((l) => l.msg === "delivery succeeded")).toMatchObject({
      messageId,
      deliveryId: expect.stringMatching(/^dlv_/),
    });
    const log = herald.stdout();
    for (const secret of [
      API_KEY,
      SOURCE_SECRET,
      SOURCE_SECRET.slice("whsec_".length),
      endpointSecret,
      endpointSecret.slice("whsec_".length),
      signed["webhook-signature"]!,
      forgedSignature["webhook-signature"]!,
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});

describe("docs/http-api.md", () => {
  it("documents every route, and error statuses as statusForCode gives them", () => {
    const doc = readRepoFile("docs/http-api.md");
    for (const [path, methods] of Object.entries(ROUTES)) {
      const route = path.replace(/\{(\w+)\}/g, ":$1");
      for (const method of methods) {
        expect(doc, `${method.toUpperCase()} ${route}`).toContain(
          `${method.toUpperCase()} ${route}`,
        );
      }
    }
    const table = doc.slice(doc.indexOf("## Error codes"));
    const rows = [...table.matchAll(/^\| (.+?) \| (\d{3}) \|(?:(.*)\|)?$/gm)];
    expect(rows.length).toBeGreaterThan(8);
    for (const [, codes, status, examples] of rows) {
      const named = [...`${codes} ${examples ?? ""}`.matchAll(/`([a-z_]+(?:\.[a-z_]+)?)`/g)].map(
        (m) => m[1]!,
      );
      for (const code of named) expect(statusForCode(code), code).toBe(Number(status));
    }
  });
});

/**
 * The scrape parsed twice: `families` as exposed (names, types), and `series` with histograms
 * read as plain series (`X_bucket`, `X_sum`, `X_count` with their labels), because the parser
 * folds the samples of a labelled histogram into one and drops the labels, sums and counts.
 */
function parseMetrics(text: string) {
  const byName = (list: PrometheusFamily[]) => new Map(list.map((f) => [f.name, f]));
  return {
    families: byName(parsePrometheusTextFormat(text)),
    series: byName(
      parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, "# TYPE $1 untyped")),
    ),
  };
}

/** The sample of a family whose labels include these. */
function sample(
  families: Map<string, PrometheusFamily>,
  name: string,
  labels: Record<string, string>,
): PrometheusSample | undefined {
  return families
    .get(name)
    ?.metrics.find((m) =>
      Object.entries(labels).every(([label, value]) => m.labels?.[label] === value),
    );
}
