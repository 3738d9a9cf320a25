// node:http: receive Standard Webhooks exactly once, sharing dedupe across replicas via Redis.
import { createServer, type Server } from "node:http";
import { createRedisDedupeStore } from "@heraldjs/redis";
import { createReceiver, toNodeHandler } from "@heraldjs/webhooks";

export interface OrderEvent {
  type: string;
  data: { orderId: string };
}

export function createWebhookServer(options: {
  secret: string;
  /** Without it, each process remembers deliveries in memory. */
  redisUrl?: string;
  onEvent: (event: OrderEvent, id: string) => Promise<void> | void;
}): Server {
  const receiver = createReceiver({
    scheme: "standard",
    secrets: [options.secret],
    dedupe: options.redisUrl ? createRedisDedupeStore({ url: options.redisUrl }) : undefined,
    async handler(webhook) {
      await options.onEvent(webhook.json<OrderEvent>(), webhook.id);
    },
    onError(error, { stage, id }) {
      console.error(`webhook ${id ?? "?"} failed at ${stage}: ${error.code}`, error.cause);
    },
  });
  return createServer(toNodeHandler(receiver));
}

// createWebhookServer({ secret: process.env.WEBHOOK_SECRET!, onEvent: console.log }).listen(3000);
