// `herald spec generate` on examples/spec: the same bytes from two processes with another
// working directory and TZ, equal to the committed examples/spec/generated/; the generated
// modules compile under `tsc --strict` against the built @heraldjs/webhooks; a signed request
// through each generated mount (node:http, Express, Fastify, fetch/Hono) reaches the typed
// handler exactly once; and a dispatch through the generated binding, via a running Herald, is
// delivered and verifies.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDispatcher } from "@heraldjs/core/delivery";
import { createMemoryDeliveryStore } from "@heraldjs/core/store";
import { signWebhook, verifyWebhook } from "@heraldjs/webhooks";
import { serve } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  heraldApi,
  OrdersPayloadError,
  ordersBinding,
} from "../../examples/spec/generated/orders.js";
import {
  type StripeEvent,
  type StripeReceiverOptions,
  stripeMounts,
} from "../../examples/spec/generated/stripe.js";
import { startHerald } from "../helpers/heraldServer.js";
import { repoRoot, runHerald, runNode } from "../helpers/spawnNode.js";

const example = join(repoRoot, "examples/spec");
const work = mkdtempSync(join(tmpdir(), "herald-generate-"));
mkdirSync(join(repoRoot, "test-results"), { recursive: true });
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `tsc --strict --noEmit` under NodeNext on `files`, resolving @heraldjs/* from the build. */
const tscStrict = (files: readonly string[]) =>
  runNode([
    join(repoRoot, "node_modules/typescript/bin/tsc"),
    ...["--strict", "--noEmit", "--module", "NodeNext", "--moduleResolution", "NodeNext"],
    ...["--target", "ES2022", "--types", "node", ...files],
  ]);

const readDir = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((file) => [file, readFileSync(join(dir, file), "utf8")]),
  );

describe("herald spec generate", () => {
  it("writes the same bytes from two processes, equal to the committed output", async () => {
    const [a, b] = await Promise.all([
      runHerald(
        ["spec", "generate", "--spec", "examples/spec/webhooks.yaml", "--out", join(work, "a")],
        {
          env: { TZ: "UTC" },
        },
      ),
      runHerald(["spec", "generate", "--spec", "webhooks.yaml", "--out", join(work, "b")], {
        cwd: example,
        env: { TZ: "Asia/Kathmandu" },
      }),
    ]);
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, "", 0, ""]);
    const first = readDir(join(work, "a"));
    expect(readDir(join(work, "b"))).toEqual(first);
    const { "openapi.json": openapi, "asyncapi.json": asyncapi, ...code } = first;
    expect(openapi).toBe(readFileSync(join(example, "openapi.json"), "utf8"));
    expect(asyncapi).toBe(readFileSync(join(example, "asyncapi.json"), "utf8"));
    expect(code).toEqual(readDir(join(example, "generated")));
    for (const text of Object.values(first)) expect(text).not.toContain(repoRoot);
  });

  it("compiles under tsc --strict against the built @heraldjs/webhooks", async () => {
    const run = await tscStrict([
      join(example, "generated/stripe.ts"),
      join(example, "generated/orders.ts"),
    ]);
    expect(run.stdout + run.stderr).toBe("");
    expect(run.code).toBe(0);
  });
});

const secret = "whsec_spec_generate_test";
const invoice = (id: string) =>
  JSON.stringify({
    id,
    type: "invoice.paid",
    data: { object: { id: "in_1", amount_paid: 4200, currency: "eur" } },
  });

async function post(url: string, body: string) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...signWebhook({ scheme: "stripe", secret, body }),
    },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

type Mount = (
  options: StripeReceiverOptions,
) => Promise<{ url: string; close: () => Promise<void> }>;

const listen = (server: Server): Promise<string> =>
  new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
const closing = (server: Server) => () => new Promise<void>((done) => server.close(() => done()));

const mounts: Record<string, Mount> = {
  node: async (options) => {
    const server = createServer(stripeMounts.node(options));
    return { url: `${await listen(server)}/webhooks/stripe`, close: closing(server) };
  },
  express: async (options) => {
    const app = express();
    app.post("/webhooks/stripe", stripeMounts.express(options));
    const server = createServer(app);
    return { url: `${await listen(server)}/webhooks/stripe`, close: closing(server) };
  },
  fastify: async (options) => {
    const app = Fastify();
    await app.register(...stripeMounts.fastify(options));
    const origin = await app.listen({ port: 0, host: "127.0.0.1" });
    return { url: `${origin}/webhooks/stripe`, close: () => app.close() };
  },
  fetch: async (options) => {
    const handler = stripeMounts.fetch(options);
    const app = new Hono();
    app.post("/webhooks/stripe", (c) => handler(c.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/webhooks/stripe`, close: closing(server) };
  },
};

describe.each(Object.keys(mounts))("the generated %s mount", (name) => {
  const open: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((close) => close()));
  });

  it("hands a verified, typed event to the handler once, and refuses what does not match", async () => {
    const events: StripeEvent[] = [];
    const mount = mounts[name] as Mount;
    const { url, close } = await mount({
      secrets: [secret],
      handler: (event) => {
        if (event.type === "invoice.paid") {
          // Typed: amount_paid is a number here, without a cast.
          const amount: number = event.payload.data.object?.amount_paid ?? 0;
          expect(amount).toBe(4200);
        }
        events.push(event);
      },
    });
    open.push(close);
    expect((await post(url, invoice("evt_once"))).status).toBe(200);
    expect((await post(url, invoice("evt_once"))).json).toMatchObject({ status: "duplicate" });
    expect(events.map((e) => e.type)).toEqual(["invoice.paid"]);

    const invalid = await post(
      url,
      JSON.stringify({ id: "evt_bad", type: "invoice.paid", data: { object: { id: 1 } } }),
    );
    expect(invalid).toEqual({
      status: 422,
      json: {
        error: {
          code: "payload.invalid",
          message: "The invoice.paid payload does not match its schema",
        },
      },
    });
    const unknown = await post(
      url,
      JSON.stringify({ id: "evt_new", type: "customer.created", data: {} }),
    );
    expect(unknown).toEqual({ status: 200, json: { status: "ignored", id: "evt_new" } });
    const unsigned = await fetch(url, { method: "POST", body: invoice("evt_forged") });
    expect(unsigned.status).toBe(401);
    expect(events).toHaveLength(1);
  });
});

describe("generated code for webhooks without schemas", () => {
  it("compiles under tsc --strict too", async () => {
    const out = mkdtempSync(join(repoRoot, "test-results", "generate-bare-"));
    try {
      const spec = join(out, "spec.yaml");
      writeFileSync(
        spec,
        "webhooks:\n  - { name: github, direction: in, signing: github, type_from: { header: X-GitHub-Event }, events: [{ type: push }, { type: __proto__ }] }\n  - { name: notices, direction: out, signing: hmac-sha512, events: [{ type: notice.sent }] }\n",
      );
      const run = await runHerald(["spec", "generate", "--spec", spec, "--out", out]);
      expect(run.code).toBe(0);
      const compiled = await tscStrict([join(out, "github.ts"), join(out, "notices.ts")]);
      expect(compiled.stdout + compiled.stderr).toBe("");
      expect(readFileSync(join(out, "github.ts"), "utf8")).toContain(
        'webhook.headers("x-github-event")',
      );
      // An event type named __proto__ is an event like any other, not an object's prototype.
      const generated = (await import(join(out, "github.ts"))) as {
        createGithubReceiver(options: {
          secrets: string[];
          handler: (event: { type: string }) => void;
        }): {
          handle(request: {
            headers: Record<string, string>;
            body: string;
          }): Promise<{ status: number }>;
        };
      };
      const seen: string[] = [];
      const receiver = generated.createGithubReceiver({
        secrets: [secret],
        handler: (event) => void seen.push(event.type),
      });
      for (const type of ["__proto__", "push", "constructor"]) {
        const body = JSON.stringify({ type });
        const headers = {
          ...signWebhook({ scheme: "github", secret, body, id: `d-${type}` }),
          "x-github-event": type,
        };
        expect((await receiver.handle({ headers, body })).status).toBe(200);
      }
      expect(seen).toEqual(["__proto__", "push"]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("the generated receiver's secrets", () => {
  it("come from HERALD_STRIPE_SECRETS, and their absence is an error at creation", () => {
    const saved = process.env.HERALD_STRIPE_SECRETS;
    try {
      delete process.env.HERALD_STRIPE_SECRETS;
      expect(() => stripeMounts.node({ handler: () => {} })).toThrow(
        "HERALD_STRIPE_SECRETS is not set: the stripe webhook needs its secret",
      );
      process.env.HERALD_STRIPE_SECRETS = `${secret}\n`;
      expect(typeof stripeMounts.node({ handler: () => {} })).toBe("function");
    } finally {
      if (saved === undefined) delete process.env.HERALD_STRIPE_SECRETS;
      else process.env.HERALD_STRIPE_SECRETS = saved;
    }
  });
});

describe("the generated orders binding", () => {
  const order = {
    order_id: "ord_1",
    total: { amount: 4200, currency: "EUR" },
    lines: [{ sku: "tea-1", quantity: 2 }],
  };

  it("takes the library dispatcher as its target, and refuses a payload its schema refuses", async () => {
    const store = createMemoryDeliveryStore();
    await store.createEndpoint({ target: "https://hooks.example.com/in", eventTypes: ["order.*"] });
    const orders = ordersBinding(createDispatcher({ store }));
    const sent = (await orders.orderPlaced(order, { idempotencyKey: "ord_1" })) as {
      deliveries: number;
    };
    expect(sent.deliveries).toBe(1);
    const bad = {
      order_id: "ord_2",
      total: { amount: "much" },
      lines: [],
    } as unknown as typeof order;
    expect(() => orders.orderPlaced(bad)).toThrow(OrdersPayloadError);
    expect(() => orders.orderCancelled({ order_id: "ord_1", reason: "whim" as "stock" })).toThrow(
      "The order.cancelled payload does not match its schema",
    );
  });

  it("sends through a running Herald's /v1/messages, delivered signed to the subscriber", async () => {
    const received: Array<{ headers: Record<string, string>; body: string }> = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push({
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        res.end("ok");
      });
    });
    const receiverUrl = await listen(receiver);
    const herald = await startHerald({ cwd: work, env: { HERALD_SSRF_ALLOW: "127.0.0.0/8" } });
    try {
      const created = await fetch(`${herald.url}/v1/endpoints`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: `${receiverUrl}/hook`, event_types: ["order.*"] }),
      });
      const { secret: endpointSecret } = (await created.json()) as { secret: string };
      const orders = ordersBinding(heraldApi({ url: herald.url as string }));
      expect(await orders.orderPlaced(order, { idempotencyKey: "ord_1" })).toMatchObject({
        deliveries: 1,
        duplicate: false,
      });
      for (let i = 0; i < 100 && received.length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(received).toHaveLength(1);
      const [delivery] = received;
      expect(JSON.parse(delivery?.body ?? "")).toEqual(order);
      const verified = verifyWebhook({
        scheme: "standard",
        secrets: [endpointSecret],
        headers: delivery?.headers ?? {},
        body: delivery?.body ?? "",
      });
      expect(verified.ok).toBe(true);
    } finally {
      await herald.stop();
      await closing(receiver)();
    }
  });
});
