// Starts each adapter on a real socket (127.0.0.1, ephemeral port) for the adapter suites.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  expressReceiver,
  fastifyReceiver,
  type Receiver,
  toFetchHandler,
  toNodeHandler,
} from "@heraldjs/webhooks";
import { serve } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";

export interface Running {
  /** Origin, e.g. http://127.0.0.1:53817 */
  origin: string;
  close(): Promise<void>;
}

export const WEBHOOK_PATH = "/webhooks/standard";

export function listen(server: Server): Promise<Running> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export type Adapter = "node" | "express" | "fastify" | "hono";

export const start: Record<Adapter, (receiver: Receiver) => Promise<Running>> = {
  node: (receiver) => listen(createServer(toNodeHandler(receiver))),

  async express(receiver) {
    const app = express();
    app.post(WEBHOOK_PATH, expressReceiver(receiver));
    return listen(createServer(app));
  },

  async fastify(receiver) {
    const app = Fastify();
    await app.register(fastifyReceiver, { receiver, path: WEBHOOK_PATH });
    // A JSON route beside it proves the raw parser stays inside the plugin.
    app.post("/json", async (request) => ({ parsed: request.body }));
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    return { origin: address, close: () => app.close() };
  },

  async hono(receiver) {
    const app = new Hono();
    const handler = toFetchHandler(receiver);
    app.post(WEBHOOK_PATH, (c) => handler(c.req.raw));
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
        resolve({
          origin: `http://127.0.0.1:${info.port}`,
          close: () => new Promise((done) => server.close(() => done())),
        });
      });
    });
  },
};
