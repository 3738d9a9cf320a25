// Express: Stripe webhooks next to a JSON API, verified on the raw bytes.

import { createReceiver, expressReceiver } from "@heraldjs/webhooks";
import express from "express";

export interface StripeEvent {
  id: string;
  type: string;
  data: { object: Record<string, unknown> };
}

export function createApp(options: {
  endpointSecret: string;
  onEvent: (event: StripeEvent) => Promise<void> | void;
}): express.Express {
  const stripe = createReceiver({
    scheme: "stripe",
    secrets: [options.endpointSecret],
    async handler(webhook) {
      await options.onEvent(webhook.json<StripeEvent>());
    },
  });

  const app = express();
  // Before express.json(): a JSON parser would consume the bytes the signature covers.
  app.post("/webhooks/stripe", expressReceiver(stripe));
  app.use(express.json());
  app.post("/api/orders", (req, res) => {
    res.status(201).json({ order: req.body });
  });
  return app;
}

// createApp({ endpointSecret: process.env.STRIPE_WEBHOOK_SECRET!, onEvent: console.log }).listen(3000);
