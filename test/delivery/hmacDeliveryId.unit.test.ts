// The hmac scheme's delivery-id header (`id_header`, e.g. X-Delivery-Id) on outbound webhooks:
// it carries the message id, the id subscribers deduplicate by, so it is the same on every
// attempt, retry and replay (the delivery's own id is in X-Herald-Delivery-Id); an endpoint's
// extra headers cannot replace it; and a receiver reads it as the webhook's id.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import { toSchemeOptions } from "../../packages/spec/src/wire/schemeOptions.js";
import type { HmacSchemeSpec } from "../../packages/webhooks/src/signing/registry.js";
import { resolveScheme } from "../../packages/webhooks/src/signing/registry.js";
import { verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";

const SECRET = "hmac-secret-for-the-delivery-id-test";

describe("hmac id_header on outbound deliveries", () => {
  let server: Server;
  let url: string;
  const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/in`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("is configured on the wire as id_header and sends the message id on every attempt", async () => {
    const schemeOptions = toSchemeOptions("hmac", {
      id_header: "X-Delivery-Id",
      signature_header: "X-Signature",
      signature_prefix: "sha256=",
    });
    expect(schemeOptions).toEqual({
      idHeader: "X-Delivery-Id",
      signatureHeader: "X-Signature",
      signaturePrefix: "sha256=",
    });
    const endpoint = testEndpoint(
      url,
      [{ secret: SECRET, expiresAt: null, createdAt: "2025-01-01T00:00:00.000Z" }],
      {
        scheme: "hmac",
        schemeOptions,
        // An endpoint's extra header of the same name does not replace it.
        headers: { "x-delivery-id": "spoofed" },
      },
    );
    const message = testMessage({ order: 1 });
    const transport = createHttpTransport({ ssrfAllow: ["127.0.0.0/8"] });
    try {
      // Two deliveries of one message (two attempts each would be the same): one id.
      for (const [id, attempts] of [
        ["dlv_01JTESTDELIVERYAAAAAAAAAAA", 0],
        ["dlv_01JTESTDELIVERYAAAAAAAAAAA", 1],
        ["dlv_01JTESTDELIVERYBBBBBBBBBBB", 0],
      ] as const) {
        const result = await transport.send({
          delivery: testDelivery(id, attempts),
          message,
          endpoint,
          attemptNumber: attempts + 1,
        });
        expect(result.attempt.succeeded).toBe(true);
      }
    } finally {
      await transport.close();
    }
    expect(received.map((r) => r.headers["x-delivery-id"])).toEqual([
      message.id,
      message.id,
      message.id,
    ]);
    expect(received.map((r) => r.headers["x-herald-delivery-id"])).toEqual([
      "dlv_01JTESTDELIVERYAAAAAAAAAAA",
      "dlv_01JTESTDELIVERYAAAAAAAAAAA",
      "dlv_01JTESTDELIVERYBBBBBBBBBBB",
    ]);
    const spec: HmacSchemeSpec = { name: "hmac", ...(schemeOptions as object) };
    for (const request of received) {
      expect(request.headers["x-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
      const verified = verifyWebhook({
        scheme: spec,
        secrets: SECRET,
        headers: request.headers,
        body: request.body,
      });
      // The receiver's dedupe id is the header's value.
      expect(verified).toEqual({ ok: true, id: message.id });
      const read = (name: string) => request.headers[name] as string | undefined;
      expect(resolveScheme(spec).deliveryId(read, request.body)).toBe(message.id);
    }
  });

  it("refuses an id header that clashes with the signature header, naming the wire option", () => {
    expect(() =>
      toSchemeOptions("hmac", { id_header: "X-Signature", signature_header: "X-Signature" }),
    ).toThrow(/scheme_options\.id_header: must differ from signature_header/);
  });
});
