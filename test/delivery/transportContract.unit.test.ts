// The transport contract on the in-process peers: http against a node:http server on 127.0.0.1,
// function against a registry of functions.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createFunctionTransport,
  type DeliveryFunction,
} from "../../packages/core/src/delivery/transports/function.js";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import { type PeerSeen, type TransportHarness, transportContract } from "../contracts/transport.js";

transportContract("http", async (): Promise<TransportHarness> => {
  const seen: PeerSeen[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string") headers[k] = v;
      }
      seen.push({
        id: headers["webhook-id"] ?? "",
        headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      if (req.url === "/hang") {
        held.push(res);
        return;
      }
      res.statusCode = req.url === "/succeed" ? 204 : req.url === "/permanent" ? 410 : 503;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    transport: createHttpTransport({ ssrfAllow: ["127.0.0.0/8"] }),
    target: (behaviour) => `http://127.0.0.1:${port}/${behaviour}`,
    received: async () => [...seen],
    release: () => {
      for (const res of held.splice(0)) {
        if (!res.writableEnded && !res.destroyed) {
          res.statusCode = 200;
          res.end();
        }
      }
    },
    dispose: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    capabilities: {
      signs: true,
      transient: { outcome: "retry", reason: "unavailable" },
      permanent: { outcome: "disable_endpoint", reason: "gone" },
      hangs: true,
      idOf: ({ message }) => message.id,
    },
  };
});

transportContract(
  "function",
  async (): Promise<TransportHarness> => {
    const seen: PeerSeen[] = [];
    const held: (() => void)[] = [];
    const record: DeliveryFunction = (message, context) =>
      seen.push({
        id: message.id,
        headers: context.signed?.headers ?? {},
        body: context.signed?.body.toString("utf8") ?? JSON.stringify(message.payload),
      });
    const functions: Record<string, DeliveryFunction> = {
      succeed: (message, context) => {
        record(message, context);
        return { ok: true };
      },
      transient: (message, context) => {
        record(message, context);
        throw new Error("listener unavailable");
      },
      hang: (message, context) => {
        record(message, context);
        return new Promise<void>((resolve) => held.push(resolve));
      },
    };
    return {
      transport: createFunctionTransport({ functions }),
      target: (behaviour) => behaviour,
      received: async () => [...seen],
      release: () => {
        for (const resolve of held.splice(0)) resolve();
      },
      dispose: async () => {},
      capabilities: {
        // The function gets the signed message in its context (`context.signed`).
        signs: true,
        transient: { outcome: "retry", reason: "network_error" },
        // Throwing is the only failure a function has, and it is always retried.
        permanent: null,
        hangs: true,
        idOf: ({ message }) => message.id,
      },
    };
    // A function has no permanent failure: throwing is always retried.
  },
  { permanent: true },
);
