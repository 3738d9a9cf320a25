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

function recordingLogger() {
  const warnings: { fields: unknown; message: string }[] = [];
  return {
    warnings,
    logger: {
      warn: (fields: unknown, message: string) => warnings.push({ fields, message }),
    } as never,
  };
}

describe("closeServer", () => {
  it("closes a kept-alive connection once its request in progress is answered", async () => {
    const { app, connections, port } = await serve(300);
    const answer = get(port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { logger, warnings } = recordingLogger();
    const started = performance.now();
    await closeServer(app, { graceMs: 10_000, connections, logger });
    const took = performance.now() - started;
    expect(await answer).toEqual({ status: 200 });
    // Without the sweep the idle connection holds close() for the keep-alive timeout (72 s).
    expect(took).toBeGreaterThanOrEqual(200);
    expect(took).toBeLessThan(5_000);
    expect(warnings).toEqual([]);
  });

  it("closes a connection still busy when the grace period ends, and says so", async () => {
    const { app, connections, port } = await serve(60_000);
    const answer = get(port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { logger, warnings } = recordingLogger();
    const started = performance.now();
    await closeServer(app, { graceMs: 300, connections, logger });
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5_000);
    expect(await answer).toEqual({ error: "socket hang up" });
    await expect.poll(() => warnings.length).toBe(1);
    expect(warnings[0]).toEqual({
      fields: { connections: 1, graceMs: 300 },
      message: "connections still open when the shutdown grace period ended: closing them",
    });
  });

  it("destroys an upgraded connection still open when the grace period ends", async () => {
    const { app, connections, port } = await serve(0);
    // A protocol that never ends on its own: the server keeps the upgraded socket open.
    app.server.on("upgrade", (_request, socket: Duplex) => {
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: forever\r\n\r\n",
      );
    });
    const client = net.connect({ host: "127.0.0.1", port });
    const switched = new Promise<void>((resolve) => client.once("data", () => resolve()));
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.write("GET / HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: forever\r\n\r\n");
    await switched;
    const { logger, warnings } = recordingLogger();
    const started = performance.now();
    await closeServer(app, { graceMs: 300, connections, logger });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    await closed;
    expect(warnings).toEqual([
      {
        fields: { connections: 1, graceMs: 300 },
        message: "connections still open when the shutdown grace period ended: closing them",
      },
    ]);
  });

  it("ends at once with nothing open", async () => {
    const { app, connections } = await serve(0);
    const { logger, warnings } = recordingLogger();
    const started = performance.now();
    await closeServer(app, { graceMs: 10_000, connections, logger });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(warnings).toEqual([]);
  });
});
