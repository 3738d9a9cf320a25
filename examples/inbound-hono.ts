// Hono (and any fetch runtime: Next.js route handlers, Bun, Deno, workers): Request → Response.
import { createReceiver, toFetchHandler } from "@heraldjs/webhooks";
import { Hono } from "hono";

export function createApp(options: {
  secret: string;
  onEvent: (event: { type: string }, id: string) => Promise<void> | void;
}): Hono {
  const receive = toFetchHandler(
    createReceiver({
      scheme: "standard",
      secrets: [options.secret],
      async handler(webhook) {
        await options.onEvent(webhook.json<{ type: string }>(), webhook.id);
      },
    }),
  );

  const app = new Hono();
  app.post("/webhooks", (c) => receive(c.req.raw));
  return app;
}

// Node: serve({ fetch: createApp(…).fetch, port: 3000 }) from @hono/node-server.
// Next.js (app/api/webhooks/route.ts): export const POST = toFetchHandler(receiver);
