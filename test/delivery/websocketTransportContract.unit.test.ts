// The transport contract on WebSocket: a real `ws` WebSocketServer on 127.0.0.1 whose answer
// depends on the path the transport connected to (ack, nack retry, nack final, no answer).
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { parseDeliveryFrame } from "../../packages/websocket/src/core/websocketFrames.js";
import { createWebSocketTransport } from "../../packages/websocket/src/delivery/transports/websocket.js";
import { type PeerSeen, type TransportHarness, transportContract } from "../contracts/transport.js";
import { LISTENER_CAPABILITIES } from "./contractHarnesses.js";

transportContract("websocket", async (): Promise<TransportHarness> => {
  const seen: PeerSeen[] = [];
  const held: (() => void)[] = [];
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  server.on("connection", (socket, request) => {
    const behaviour = request.url?.slice(1);
    socket.on("message", (data) => {
      const frame = parseDeliveryFrame(String(data));
      if (frame === null) return;
      seen.push({
        id: frame.headers["webhook-id"] ?? "",
        headers: frame.headers,
        body: frame.body,
      });
      const send = (answer: object) => socket.send(JSON.stringify({ ...answer, id: frame.id }));
      if (behaviour === "succeed") send({ type: "ack" });
      else if (behaviour === "transient") send({ type: "nack", retry: true, error: "busy" });
      else if (behaviour === "permanent")
        send({ type: "nack", retry: false, error: "unknown order" });
      else held.push(() => send({ type: "ack" }));
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    transport: createWebSocketTransport({ ssrfAllow: ["127.0.0.0/8"] }),
    target: (behaviour) => `ws://127.0.0.1:${port}/${behaviour}`,
    received: async () => [...seen],
    release: () => {
      for (const answer of held.splice(0)) answer();
    },
    dispose: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    capabilities: LISTENER_CAPABILITIES,
  };
});
