// docs/inbound.md shows the examples/ files verbatim, and each example app, started on a real
// socket, accepts a signed webhook once and answers its copy as a duplicate.
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { signWebhook } from "@heraldjs/webhooks";
import { serve } from "@hono/node-server";
import { afterEach, describe, expect, it } from "vitest";
import { createApp as createExpressApp } from "../../examples/inbound-express.js";
import { buildApp as buildFastifyApp } from "../../examples/inbound-fastify.js";
import { createApp as createHonoApp } from "../../examples/inbound-hono.js";
import { createWebhookServer } from "../../examples/inbound-node.js";
import { secret, unusualJson } from "../inbound/fixtures.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("docs/inbound.md examples", () => {
  const doc = read("docs/inbound.md");
  const blocks = [...doc.matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```/g)];
  const exampleFiles = readdirSync(new URL("examples/", root))
    .filter((name) => name.startsWith("inbound-") && name.endsWith(".ts"))
    .map((name) => `examples/${name}`);

  it("shows every inbound example, one per adapter", () => {
    expect(blocks.map((block) => block[1]).sort()).toEqual(exampleFiles.sort());
    expect(exampleFiles).toHaveLength(4);
  });

  it.each(blocks.map((block) => [block[1]!, block[2]!]))("%s matches its file", (file, code) => {
    expect(code).toBe(read(file));
  });
});

describe("the example apps on a real socket", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  async function listenOn(server: ReturnType<typeof createServer>): Promise<string> {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((done) => server.close(() => done())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function deliverTwice(url: string, headers: Record<string, string>, body: string) {
    const send = async () => {
      const response = await fetch(url, { method: "POST", headers, body: Buffer.from(body) });
      return { status: response.status, json: await response.json() };
    };
    const first = await send();
    return [first, await send()] as const;
  }

  it("node: processes a Standard Webhook once", async () => {
    const events: unknown[] = [];
    const origin = await listenOn(
      createWebhookServer({ secret, onEvent: (event, id) => void events.push([event.type, id]) }),
    );
    const body = '{"type":"order.created","data":{"orderId":"o_1"}}';
    const headers = signWebhook({ scheme: "standard", secret, id: "msg_node", body });
    const [first, second] = await deliverTwice(`${origin}/webhooks`, headers, body);
    expect(first).toEqual({ status: 200, json: { status: "processed", id: "msg_node" } });
    expect(second).toEqual({ status: 200, json: { status: "duplicate", id: "msg_node" } });
    expect(events).toEqual([["order.created", "msg_node"]]);
  });

  it("express: processes a Stripe event once, and the JSON API still parses JSON", async () => {
    const events: unknown[] = [];
    const endpointSecret = "whsec_example";
    const origin = await listenOn(
      createServer(
        createExpressApp({ endpointSecret, onEvent: (event) => void events.push(event.id) }),
      ),
    );
    const body = '{ "id" : "evt_1",\n "type":"charge.succeeded", "data":{"object":{"d":"é"}} }';
    const headers = {
      ...signWebhook({ scheme: "stripe", secret: endpointSecret, body }),
      "content-type": "application/json",
    };
    const [first, second] = await deliverTwice(`${origin}/webhooks/stripe`, headers, body);
    expect(first).toEqual({ status: 200, json: { status: "processed", id: "evt_1" } });
    expect(second.json).toEqual({ status: "duplicate", id: "evt_1" });
    expect(events).toEqual(["evt_1"]);
    const api = await fetch(`${origin}/api/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"sku":"A"}',
    });
    expect(await api.json()).toEqual({ order: { sku: "A" } });
  });

  it("fastify: processes a GitHub delivery once with the handler's 202", async () => {
    const events: unknown[] = [];
    const app = await buildFastifyApp({
      secret: "gh-secret",
      onEvent: (name, _payload, id) => void events.push([name, id]),
    });
    const origin = await app.listen({ port: 0, host: "127.0.0.1" });
    closers.push(() => app.close());
    const headers = {
      ...signWebhook({ scheme: "github", secret: "gh-secret", body: unusualJson }),
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": "d-1",
    };
    const [first, second] = await deliverTwice(`${origin}/webhooks/github`, headers, unusualJson);
    expect(first).toEqual({ status: 202, json: { accepted: "push" } });
    expect(second).toEqual({ status: 200, json: { status: "duplicate", id: "d-1" } });
    expect(events).toEqual([["push", "d-1"]]);
  });

  it("hono: processes a Standard Webhook once through @hono/node-server", async () => {
    const events: unknown[] = [];
    const app = createHonoApp({
      secret,
      onEvent: (event, id) => void events.push([event.type, id]),
    });
    const origin = await new Promise<string>((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
        resolve(`http://127.0.0.1:${info.port}`),
      );
      closers.push(() => new Promise((done) => server.close(() => done())));
    });
    const body = '{"type":"user.created"}';
    const headers = signWebhook({ scheme: "standard", secret, id: "msg_hono", body });
    const [first, second] = await deliverTwice(`${origin}/webhooks`, headers, body);
    expect(first).toEqual({ status: 200, json: { status: "processed", id: "msg_hono" } });
    expect(second.json).toEqual({ status: "duplicate", id: "msg_hono" });
    expect(events).toEqual([["user.created", "msg_hono"]]);
  });
});
