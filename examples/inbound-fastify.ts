// Fastify: GitHub webhooks on one route; the rest of the app keeps Fastify's JSON parser.

import { createReceiver, fastifyReceiver } from "@heraldjs/webhooks";
import Fastify, { type FastifyInstance } from "fastify";

export async function buildApp(options: {
  secret: string;
  onEvent: (name: string, payload: unknown, deliveryId: string) => Promise<void> | void;
}): Promise<FastifyInstance> {
  const github = createReceiver({
    scheme: "github",
    secrets: [options.secret],
    async handler(webhook) {
      const name = webhook.headers("x-github-event") ?? "unknown";
      await options.onEvent(name, webhook.json(), webhook.id);
      return { status: 202, body: { accepted: name } };
    },
  });

  const app = Fastify();
  await app.register(fastifyReceiver, { receiver: github, path: "/webhooks/github" });
  app.get("/health", async () => ({ ok: true }));
  return app;
}

// (await buildApp({ secret: process.env.GITHUB_WEBHOOK_SECRET!, onEvent: console.log })).listen({ port: 3000 });
