// The options every transport that dials its endpoints' hosts itself takes (gRPC, WebSocket,
// RabbitMQ, Redis Streams): what the SSRF guard lets through, and the clock of its attempts.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";

export interface NetworkTransportOptions {
  /** CIDRs the SSRF guard lets through (`ssrf.allow`); default none. */
  ssrfAllow?: readonly string[];
  /** `startedAt` of each attempt. */
  clock?: Clock;
}
