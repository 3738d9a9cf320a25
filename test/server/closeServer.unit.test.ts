// The HTTP side of a graceful stop is bounded: a kept-alive connection whose request was being
// answered when the stop began is closed once it is answered (not after the keep-alive timeout,
// 72 s), and a connection still busy when the grace period ends, an upgraded one too, is
// closed, with a warning.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { closeServer, trackConnections } from "../../packages/server/src/server/closeServer.js";

const apps: FastifyInstance[] = [];
const agents: http.Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  for (const app of apps.splice(0)) await app.close().catch(() => {});
});

/** Fastify as Herald's app sets it up for closing, with a route that answers after `waitMs`. */
async function serve(waitMs: number) {
  const app = Fastify({ return503OnClosing: true, forceCloseConnections: "idle" });
  const connections = trackConnections(app.server);
  app.get("/slow", async () => {
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    return { ok: true };
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  apps.push(app);
  return { app, connections, port: (app.server.address() as AddressInfo).port };
}

/** GET /slow on a kept-alive connection: the answer's status and Connection header, or the error. */
function get(port: number): Promise<{ status: number } | { error: string }> {
  const agent = new http.Agent({ keepAlive: true });
  agents.push(agent);
  return new Promise((resolve) => {
    http
      .get({ host: "127.0.0.1", port, path: "/slow", agent }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      })
      .on("error", (error) => resolve({ error: error.message }));
  });
}

/** Closes the server with `graceMs`: how long it took and the warnings it logged. */
async function timedClose(served: Awaited<ReturnType<typeof serve>>, graceMs: number) {
  const warnings: { fields: unknown; message: string }[] = [];
  const logger = {
    warn: (fields: unknown, message: string) => warnings.push({ fields, message }),
  } as never;
  const started = performance.now();
  await closeServer(served.app, { graceMs, connections: served.connections, logger });
  return { took: performance.now() - started, warnings };
}

const GRACE_ENDED = {
  fields: { connections: 1, graceMs: 300 },
  message: "connections still open when the shutdown grace period ended: closing them",
};

describe("closeServer", () => {
  it("closes a kept-alive connection once its request in progress is answered", async () => {
    const served = await serve(300);
    const answer = get(served.port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { took, warnings } = await timedClose(served, 10_000);
    expect(await answer).toEqual({ status: 200 });
    // Without the sweep the idle connection holds close() for the keep-alive timeout (72 s).
    expect(took).toBeGreaterThanOrEqual(200);
    expect(took).toBeLessThan(5_000);
    expect(warnings).toEqual([]);
  });

  it("closes a connection still busy when the grace period ends, and says so", async () => {
    const served = await serve(60_000);
    const answer = get(served.port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { took, warnings } = await timedClose(served, 300);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5_000);
    expect(await answer).toEqual({ error: "socket hang up" });
    expect(warnings).toEqual([GRACE_ENDED]);
  });

  it("destroys an upgraded connection still open when the grace period ends", async () => {
    const served = await serve(0);
    // A protocol that never ends on its own: the server keeps the upgraded socket open.
    served.app.server.on("upgrade", (_request, socket: Duplex) => {
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: forever\r\n\r\n",
      );
    });
    const client = net.connect({ host: "127.0.0.1", port: served.port });
    const switched = new Promise<void>((resolve) => client.once("data", () => resolve()));
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.write("GET / HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: forever\r\n\r\n");
    await switched;
    const { took, warnings } = await timedClose(served, 300);
    expect(took).toBeGreaterThanOrEqual(250);
    await closed;
    expect(warnings).toEqual([GRACE_ENDED]);
  });

  it("ends at once with nothing open", async () => {
    const { took, warnings } = await timedClose(await serve(0), 10_000);
    expect(took).toBeLessThan(1_000);
    expect(warnings).toEqual([]);
  });
});
