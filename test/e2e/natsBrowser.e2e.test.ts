// Herald's events in a real browser over NATS: a nats-server 2.10 with Herald's auth callout and
// a WebSocket listener (test/helpers/natsPlatform.ts), the callout answering from a SQLite file,
// and the built `herald serve` on the same file publishing with a `service` NATS token to
// `transport: nats-core` endpoints (`client.{tenant}.evt`, and `client.{tenant}.u1.evt` for one
// user) of tenants acme and globex. Debian's Chromium (playwright-core) loads a page that
// connects to the WebSocket port with `wsconnect` from @nats-io/nats-core (the package's own
// files, served by a tiny static server) and a `client` token of acme/u1, subscribes to
// client.acme.evt and client.acme.u1.evt, and gets every acme event dispatched through
// POST /v1/messages — each verifying with its endpoint's secret — and none of globex's (which a
// service subscriber sees published); subscribing to client.globex.evt is a permissions violation.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintNatsToken } from "../../packages/core/src/delivery/natsTokens.js";
import {
  type NatsAuthCallout,
  startNatsAuthCallout,
} from "../../packages/nats/src/platform/authCallout.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { api, makeTempDir, waitUntil } from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";
import {
  type NatsPlatformServer,
  natsServerBinary,
  startNatsPlatform,
} from "../helpers/natsPlatform.js";
import { repoRoot } from "../helpers/spawnNode.js";
import { migratedSqlite } from "../helpers/sqlite.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI === "true")
    throw new Error(`${CHROMIUM} is missing: the browser test cannot run in CI`);
  console.warn(`\n  !!! ${CHROMIUM} is missing: the NATS browser tests are SKIPPED !!!\n`);
}
// natsServerBinary() warns loudly when no nats-server ≥ 2.10 can be had, and throws under CI.
const haveNatsServer = natsServerBinary() !== undefined;

/**
 * The files the page may load, by the name `require` asks for: @nats-io/nats-core 3.x on npm is
 * CommonJS only (no ESM build to put under an import map), so the page runs the package's own
 * files through a small CommonJS loader instead of a bundler.
 */
const PACKAGES: Record<string, string> = {
  "@nats-io/nats-core": "@nats-io/nats-core/lib/mod.js",
  "@nats-io/nuid": "@nats-io/nuid/lib/mod.js",
  "@nats-io/nkeys": "@nats-io/nkeys/lib/mod.js",
  tweetnacl: "tweetnacl/nacl-fast.js",
};
const SERVED_DIRS = ["@nats-io/nats-core/", "@nats-io/nuid/", "@nats-io/nkeys/", "tweetnacl/"];

/** The page: connects with the client token, keeps every message and every async error. */
const page = (wsUrl: string, token: string) => `<!doctype html><meta charset="utf-8">
<script>
// A minimal CommonJS loader over /m/ (the static server's node_modules).
const PACKAGES = ${JSON.stringify(PACKAGES)};
const cache = new Map();
function load(path) {
  const cached = cache.get(path);
  if (cached) return cached.exports;
  const xhr = new XMLHttpRequest();
  xhr.open("GET", "/m/" + path, false);
  xhr.send();
  if (xhr.status !== 200) throw new Error("/m/" + path + ": " + xhr.status);
  const module = { exports: {} };
  cache.set(path, module);
  const dir = path.slice(0, path.lastIndexOf("/") + 1);
  const require = (spec) => {
    if (PACKAGES[spec]) return load(PACKAGES[spec]);
    if (!spec.startsWith(".")) throw new Error("cannot require " + spec);
    const resolved = new URL(spec, "http://x/" + dir).pathname.slice(1);
    return load(resolved.endsWith(".js") ? resolved : resolved + ".js");
  };
  new Function("exports", "require", "module", xhr.responseText + "\\n//# sourceURL=/m/" + path)(
    module.exports, require, module);
  return module.exports;
}
window.require = (name) => load(PACKAGES[name]);
</script>
<script type="module">
const { wsconnect } = window.require("@nats-io/nats-core");
window.received = [];
window.errors = [];
try {
  const nc = await wsconnect({ servers: ${JSON.stringify(wsUrl)}, token: ${JSON.stringify(token)}, reconnect: false });
  window.nc = nc;
  (async () => {
    for await (const status of nc.status()) {
      if (status.type === "error") window.errors.push(String(status.error?.message ?? status.error));
    }
  })();
  const keep = (_error, msg) => {
    const headers = {};
    for (const [name, values] of msg.headers ?? []) headers[name.toLowerCase()] = values.join(",");
    window.received.push({ subject: msg.subject, headers, body: msg.string() });
  };
  nc.subscribe("client.acme.evt", { callback: keep });
  nc.subscribe("client.acme.u1.evt", { callback: keep });
  await nc.flush();
  window.ready = true;
} catch (error) {
  window.failed = String(error?.message ?? error);
}
</script>`;

/** What the page's scripts leave on its global object (this file has no DOM types). */
interface PageGlobals {
  received: Array<{ subject: string; headers: Record<string, string>; body: string }>;
  errors: string[];
  ready?: boolean;
  failed?: string;
  nc: { subscribe(subject: string): { closed: Promise<unknown> }; flush(): Promise<void> };
}

/** Serves the page at / and the allowed packages' files under /m/. */
function staticServer(html: () => string): Promise<Server> {
  const modules = join(repoRoot, "node_modules");
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html());
      return;
    }
    const file = normalize(path.slice("/m/".length));
    if (
      path.startsWith("/m/") &&
      SERVED_DIRS.some((dir) => file.startsWith(dir)) &&
      !file.includes("..") &&
      existsSync(join(modules, file))
    ) {
      res
        .writeHead(200, { "content-type": "text/javascript; charset=utf-8" })
        .end(readFileSync(join(modules, file)));
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// Skipped only when chromium or a nats-server ≥ 2.10 is missing; under CI=true both fail instead.
describe.skipIf(!haveChromium || !haveNatsServer)("NATS events in Chromium (nats-core)", () => {
  let browser: Browser;
  let server: NatsPlatformServer;
  let callout: NatsAuthCallout;
  let herald: HeraldProcess;
  let statics: Server;
  let observer: NatsConnection;
  let cleanupSqlite: () => void;
  let dir: { path: string; remove(): Promise<void> };
  let html = "";

  beforeAll(async () => {
    server = await startNatsPlatform();
    const sqlite = migratedSqlite();
    cleanupSqlite = sqlite.cleanup;
    const store = createSqliteDeliveryStore(sqlite.db);
    callout = await startNatsAuthCallout({
      servers: server.url,
      issuerSeed: server.keys.issuer.seed,
      authUserSeed: server.keys.authUser.seed,
      xkeySeed: server.keys.xkey.seed,
      tokens: store,
    });
    const service = await mintNatsToken(store, { identity: "service", id: "herald" });
    dir = await makeTempDir("nats-browser");
    writeFileSync(join(dir.path, "herald.yaml"), "worker:\n  poll_interval_ms: 50\n");
    herald = await startHerald({
      cwd: dir.path,
      args: ["--db", sqlite.path, "--config", join(dir.path, "herald.yaml")],
      env: { HERALD_NATS_URL: server.url, HERALD_NATS_TOKEN: service.token },
    });
    // A service connection sees what Herald publishes for globex (so "nothing of globex's" on
    // the page is not just "nothing published").
    observer = await connect({
      servers: server.url,
      token: (await mintNatsToken(store, { identity: "service", id: "observer" })).token,
    });
    const client = await mintNatsToken(store, { identity: "client", id: "u1", tenant: "acme" });
    html = page(server.wsUrl, client.token);
    statics = await staticServer(() => html);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (statics ? statics.close(resolve) : resolve(undefined)));
    await observer?.close();
    await herald?.stop();
    await callout?.stop();
    await server?.stop();
    cleanupSqlite?.();
    await dir?.remove();
  });

  it("a tenant's page gets its events (verified with the endpoint's secret), none of another tenant's, and cannot subscribe to them", async () => {
    const base = herald.url as string;
    const secrets: Record<string, string> = {};
    const endpoints = [
      { id: "ep_acme", tenant: "acme", url: "client.{tenant}.evt", types: ["order.*"] },
      { id: "ep_acme_u1", tenant: "acme", url: "client.{tenant}.u1.evt", types: ["direct.*"] },
      { id: "ep_globex", tenant: "globex", url: "client.{tenant}.evt", types: ["order.*"] },
      { id: "ep_globex_u1", tenant: "globex", url: "client.{tenant}.u1.evt", types: ["direct.*"] },
    ];
    for (const ep of endpoints) {
      secrets[ep.id] = generateSecret("standard");
      const created = await api(base, "POST", "/v1/endpoints", {
        id: ep.id,
        tenant: ep.tenant,
        transport: "nats-core",
        url: ep.url,
        event_types: ep.types,
        secret: secrets[ep.id],
      });
      expect(created.status, created.text).toBe(201);
    }
    // The template is checked at creation.
    const bad = await api(base, "POST", "/v1/endpoints", {
      transport: "nats-core",
      url: "client.{tenant}.>",
      event_types: ["*"],
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: "request.invalid" } });

    const globexSeen: string[] = [];
    observer.subscribe("client.globex.>", {
      callback: (_e, msg) => {
        globexSeen.push(msg.subject);
      },
    });
    await observer.flush();

    const tab: Page = await browser.newPage();
    const pageErrors: string[] = [];
    tab.on("pageerror", (error) => pageErrors.push(error.message));
    const staticPort = (statics.address() as AddressInfo).port;
    await tab.goto(`http://127.0.0.1:${staticPort}/`);
    await tab.waitForFunction(() => {
      const g = globalThis as unknown as PageGlobals;
      return g.ready === true || g.failed !== undefined;
    });
    expect(await tab.evaluate(() => (globalThis as unknown as PageGlobals).failed)).toBeUndefined();

    // Dispatched through Herald: 3 orders and 2 direct messages per tenant.
    const expected = new Map<string, string>(); // message id → endpoint id
    const dispatched: string[] = [];
    const dispatch = async (tenant: string, type: string, n: number) => {
      const sent = await api(base, "POST", "/v1/messages", {
        tenant,
        type,
        payload: { n, tenant, note: "grüße", nonce: randomUUID() },
      });
      expect(sent.status, sent.text).toBe(202);
      const id = (sent.json as { message_id: string }).message_id;
      dispatched.push(id);
      return id;
    };
    for (let n = 0; n < 3; n++) {
      expected.set(await dispatch("acme", "order.created.v1", n), "ep_acme");
      await dispatch("globex", "order.created.v1", n);
    }
    for (let n = 0; n < 2; n++) {
      expected.set(await dispatch("acme", "direct.message", n), "ep_acme_u1");
      await dispatch("globex", "direct.message", n);
    }

    const received = () => tab.evaluate(() => (globalThis as unknown as PageGlobals).received);
    await waitUntil(
      async () => (await received()).length >= expected.size && globexSeen.length >= 5,
      15_000,
      () =>
        `${expected.size} acme events on the page and 5 globex ones published:\n${herald.stderr()}`,
    );
    // A moment more: nothing else arrives.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const got = await received();
    expect(got).toHaveLength(expected.size);
    expect(globexSeen.sort()).toEqual([
      "client.globex.evt",
      "client.globex.evt",
      "client.globex.evt",
      "client.globex.u1.evt",
      "client.globex.u1.evt",
    ]);

    const ids = new Set<string>();
    for (const copy of got) {
      const messageId = copy.headers["x-herald-message-id"] ?? "";
      const endpointId = expected.get(messageId);
      expect(endpointId, `unexpected message ${messageId} on ${copy.subject}`).toBeDefined();
      ids.add(messageId);
      expect(copy.subject).toBe(
        endpointId === "ep_acme" ? "client.acme.evt" : "client.acme.u1.evt",
      );
      expect(copy.headers["x-herald-tenant"]).toBe("acme");
      expect(JSON.parse(copy.body)).toMatchObject({ tenant: "acme", note: "grüße" });
      const verdict = verifyWebhook({
        scheme: "standard",
        secrets: secrets[endpointId ?? ""] ?? "",
        headers: copy.headers,
        body: Buffer.from(copy.body, "utf8"),
      });
      expect(verdict).toMatchObject({ ok: true, id: messageId });
      // Another endpoint's secret does not verify it.
      const forged = verifyWebhook({
        scheme: "standard",
        secrets: secrets.ep_globex ?? "",
        headers: copy.headers,
        body: Buffer.from(copy.body, "utf8"),
      });
      expect(forged.ok).toBe(false);
    }
    expect(ids).toEqual(new Set(expected.keys()));

    // Every delivery, globex's too, is recorded as delivered by Herald (one per message).
    const statuses = async () => {
      const all: string[] = [];
      for (const id of dispatched) {
        const { json } = await api(base, "GET", `/v1/messages/${id}`);
        all.push(
          ...(json as { deliveries: Array<{ status: string }> }).deliveries.map((d) => d.status),
        );
      }
      return all;
    };
    await waitUntil(
      async () => {
        const all = await statuses();
        return all.length === 10 && all.every((status) => status === "delivered");
      },
      10_000,
      () => "ten deliveries delivered",
    );

    // Another tenant's subject: the server refuses the subscription.
    const refused = await tab.evaluate(async () => {
      const g = globalThis as unknown as PageGlobals;
      const sub = g.nc.subscribe("client.globex.evt");
      const closed = await Promise.race([
        sub.closed.then((e) => String((e as Error | undefined)?.message ?? e)),
        new Promise((resolve) => setTimeout(() => resolve("still open"), 5000)),
      ]);
      return { closed, errors: g.errors };
    });
    expect(refused.closed).toMatch(
      /Permissions Violation for Subscription to "client\.globex\.evt"/,
    );
    expect(refused.errors.join("\n")).toMatch(
      /Permissions Violation for Subscription to "client\.globex\.evt"/,
    );
    expect(pageErrors).toEqual([]);
    await tab.close();
  }, 60_000);
});
