// The live streams' Prometheus metrics, on the process's registry: streams open now, and
// streams ended by reason (buffer_full counts the clients cut off for not reading).
import { Counter, Gauge, type Registry } from "prom-client";
import { STREAM_END_REASONS, type StreamEndReason } from "./streamHub.js";

export interface StreamMetrics {
  /** Counts one stream's end. */
  ended(reason: StreamEndReason): void;
  /** Reads the number of open streams at each scrape from `open`. */
  track(open: () => number): void;
}

export function streamMetrics(registry: Registry): StreamMetrics {
  let openNow: () => number = () => 0;
  new Gauge({
    name: "herald_streams_open",
    help: "Live streams (SSE and WebSocket) open in this process",
    registers: [registry],
    collect() {
      this.set(openNow());
    },
  });
  const ended = new Counter({
    name: "herald_streams_ended_total",
    help: "Live streams ended, by reason (buffer_full: cut off for not reading)",
    labelNames: ["reason"],
    registers: [registry],
  });
  // Every reason shows from the start, at 0.
  for (const reason of STREAM_END_REASONS) ended.inc({ reason }, 0);
  return {
    ended: (reason) => ended.inc({ reason }),
    track(open) {
      openNow = open;
    },
  };
}
