// Framework-specific adapter behaviour over real sockets: Express body parsers, Fastify
// encapsulation and prefixes, and the publicUrl option behind a proxy.
import { createServer } from "node:http";
import {
  createReceiver,
  expressReceiver,
  fastifyReceiver,
  signWebhook,
  toNodeHandler,
  type WebhookContext,
} from "@heraldjs/webhooks";
import express, { type ErrorRequestHandler } from "express";
import Fastify from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { secret, signedHeaders, unusualJson } from "./fixtures.js";
import { listen, type Running } from "./servers.js";

let seen: WebhookContext[];
let running: Running[];
beforeEach(() => {
  seen = [];
  running = [];
});
afterEach(async () => {
  await Promise.all(running.map((server) => server.close()));
});

function receiver(maxBodyBytes = 1024) {
  return createReceiver({
    scheme: "standard",
    secrets: [secret],
    maxBodyBytes,
    handler: (webhook) => {
      seen.push(webhook);
    },
  });
}

async function serve(app: express.Express): Promise<string> {
  const server = await listen(createServer(app));
  running.push(server);
  return server.origin;
}

function signedJson(id: string) {
  const body = Buffer.from(unusualJson, "utf8");
  return {
    method: "POST",
    body,
    headers: { ...signedHeaders(body, { id }), "content-type": "application/json" },
  };
}

describe("expressReceiver and body parsers", () => {
  const captureErrors: (errors: unknown[]) => ErrorRequestHandler =
    (errors) => (error, _req, res, _next) => {
      errors.push(error);
      res.status(500).json({ caught: (error as { code?: string }).code });
    };

  it("after express.json(): the body.not_raw error reaches the app's error handler", async () => {
    const errors: unknown[] = [];
    const app = express();
    app.use(express.json());
    app.post("/webhooks", expressReceiver(receiver()));
    app.use(captureErrors(errors));
    const response = await fetch(`${await serve(app)}/webhooks`, signedJson("msg_json"));
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ caught: "body.not_raw" });
    expect((errors[0] as Error).message).toMatch(/before app\.use\(express\.json\(\)\)/);
    expect(seen).toHaveLength(0);
  });

  it("after express.text(): refused the same way (decoding may have changed the bytes)", async () => {
    const errors: unknown[] = [];
    const app = express();
    app.use(express.text({ type: "*/*" }));
    app.post("/webhooks", expressReceiver(receiver()));
    app.use(captureErrors(errors));
    const response = await fetch(`${await serve(app)}/webhooks`, signedJson("msg_text"));
    expect(await response.json()).toEqual({ caught: "body.not_raw" });
  });

  it("a webhook route registered before express.json() verifies, and other routes get JSON", async () => {
    const app = express();
    app.post("/webhooks", expressReceiver(receiver()));
    app.use(express.json());
    app.post("/api", (req, res) => {
      res.json({ parsed: req.body });
    });
    const origin = await serve(app);
    const response = await fetch(`${origin}/webhooks`, signedJson("msg_before"));
    expect(await response.json()).toEqual({ status: "processed", id: "msg_before" });
    const api = await fetch(`${origin}/api`, {
      method: "POST",
      body: '{"x":1}',
      headers: { "content-type": "application/json" },
    });
    expect(await api.json()).toEqual({ parsed: { x: 1 } });
  });

  it("uses the Buffer from express.raw(), still capped at maxBodyBytes", async () => {
    const app = express();
    app.post("/webhooks", express.raw({ type: "*/*", limit: "1mb" }), expressReceiver(receiver()));
    const origin = await serve(app);
    const ok = await fetch(`${origin}/webhooks`, signedJson("msg_raw"));
    expect(await ok.json()).toEqual({ status: "processed", id: "msg_raw" });
    expect(seen[0]?.json()).toEqual({ a: "é€😀", b: [1, 2] });
    const big = "y".repeat(2048);
    const tooLarge = await fetch(`${origin}/webhooks`, {
      method: "POST",
      body: big,
      headers: signedHeaders(big),
    });
    expect(tooLarge.status).toBe(413);
  });
});

describe("fastifyReceiver", () => {
  it("keeps the raw parser inside the plugin and honours a register prefix", async () => {
    const app = Fastify();
    await app.register(fastifyReceiver, {
      receiver: receiver(),
      path: "/stripe",
      prefix: "/hooks",
    });
    app.post("/api", async (request) => ({ parsed: request.body }));
    const origin = await app.listen({ port: 0, host: "127.0.0.1" });
    running.push({ origin, close: () => app.close() });

    const response = await fetch(`${origin}/hooks/stripe`, signedJson("msg_prefix"));
    expect(await response.json()).toEqual({ status: "processed", id: "msg_prefix" });
    const api = await fetch(`${origin}/api`, {
      method: "POST",
      body: '{"x":1}',
      headers: { "content-type": "application/json" },
    });
    expect(await api.json()).toEqual({ parsed: { x: 1 } });
  });

  it("leaves other errors on the route to the application's error handler", async () => {
    const app = Fastify();
    app.setErrorHandler((_error, _request, reply) => reply.code(418).send({ app: "handled" }));
    app.addHook("preHandler", async (request) => {
      if (request.headers["x-deny"] !== undefined) throw new Error("denied by the app");
    });
    await app.register(fastifyReceiver, { receiver: receiver(), path: "/webhooks" });
    const origin = await app.listen({ port: 0, host: "127.0.0.1" });
    running.push({ origin, close: () => app.close() });
    const denied = await fetch(`${origin}/webhooks`, {
      method: "POST",
      body: "{}",
      headers: { ...signedHeaders("{}"), "x-deny": "1" },
    });
    expect(denied.status).toBe(418);
    expect(await denied.json()).toEqual({ app: "handled" });
    const response = await fetch(`${origin}/webhooks`, {
      method: "POST",
      body: "{}",
      headers: { ...signedHeaders("{}"), "content-type": "application/json" },
    });
    expect(response.status).toBe(200);
  });
});

describe("publicUrl behind a proxy (twilio signs the URL the sender called)", () => {
  const body = "Body=hi&From=%2B15551234567";
  const token = "twilio-auth-token";
  const publicUrl = "https://hooks.example.com";

  function twilioReceiver() {
    return createReceiver({
      scheme: "twilio",
      secrets: [token],
      handler: (webhook) => {
        seen.push(webhook);
      },
    });
  }

  async function send(origin: string) {
    const headers = {
      ...signWebhook({ scheme: "twilio", secret: token, body, url: `${publicUrl}/sms?x=1` }),
      "content-type": "application/x-www-form-urlencoded",
    };
    return (await fetch(`${origin}/sms?x=1`, { method: "POST", body, headers })).status;
  }

  it("node: 401 without publicUrl, 200 with it", async () => {
    const without = await listen(createServer(toNodeHandler(twilioReceiver())));
    const withUrl = await listen(createServer(toNodeHandler(twilioReceiver(), { publicUrl })));
    running.push(without, withUrl);
    expect(await send(without.origin)).toBe(401);
    expect(await send(withUrl.origin)).toBe(200);
  });

  it("express: with publicUrl", async () => {
    const app = express();
    app.post("/sms", expressReceiver(twilioReceiver(), { publicUrl: `${publicUrl}/` }));
    expect(await send(await serve(app))).toBe(200);
  });

  it("fastify: with publicUrl", async () => {
    const app = Fastify();
    await app.register(fastifyReceiver, { receiver: twilioReceiver(), path: "/sms", publicUrl });
    const origin = await app.listen({ port: 0, host: "127.0.0.1" });
    running.push({ origin, close: () => app.close() });
    expect(await send(origin)).toBe(200);
  });
});
