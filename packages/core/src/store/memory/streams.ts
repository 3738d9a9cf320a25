// In-memory live streams: the stream half of the memory DeliveryStore. Messages are never
// removed from the memory store, so a message's position is its place in insertion order.

import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { MessageRecord } from "../../model/deliveryRecords.js";
import {
  newStreamTokenRecord,
  parseStreamCursor,
  revokedStreamToken,
  streamReadLimit,
  streamTokenPruning,
} from "../../model/streamRecords.js";
import { isoNow } from "../../model/time.js";
import type { StreamStore, StreamTokenRecord } from "../deliveryPorts.js";
import { copy } from "./deliveryCatalog.js";

/** Position of the message at `index` (0-based): 1, 2, 3… */
const cursorAt = (index: number) => String(index + 1);

export function memoryStreams(
  messages: ReadonlyMap<string, MessageRecord>,
  clock: Clock,
): StreamStore {
  const tokens = new Map<string, StreamTokenRecord>();
  // The messages in insertion order, caught up with the map when it has grown.
  const order: MessageRecord[] = [];
  const sync = () => {
    if (order.length === messages.size) return;
    let i = 0;
    for (const message of messages.values()) {
      if (i++ >= order.length) order.push(message);
    }
  };
  return {
    async createStreamToken(input) {
      const record = newStreamTokenRecord(input, isoNow(clock));
      tokens.set(record.id, record);
      return copy(record);
    },
    async getStreamToken(id) {
      return copy(tokens.get(id));
    },
    async findStreamToken(tokenHash) {
      for (const record of tokens.values()) {
        if (record.tokenHash === tokenHash) return copy(record);
      }
      return undefined;
    },
    async listStreamTokens(options = {}) {
      const rows = [...tokens.values()].filter(
        (t) => options.tenant === undefined || t.tenant === options.tenant,
      );
      return copy(rows);
    },
    async revokeStreamToken(id, options = {}) {
      const record = tokens.get(id);
      if (record === undefined) return undefined;
      const next = revokedStreamToken(record, isoNow(clock, options.now));
      tokens.set(id, next);
      return copy(next);
    },
    async pruneStreamTokens(options = {}) {
      const { before, limit } = streamTokenPruning(clock, options);
      let pruned = 0;
      for (const [id, record] of tokens) {
        if (pruned >= limit) break;
        if (record.expiresAt >= before) continue;
        tokens.delete(id);
        pruned++;
      }
      return pruned;
    },
    async latestStreamCursor() {
      sync();
      return String(order.length);
    },
    async readStream(options) {
      sync();
      const after = Number(parseStreamCursor(options.after)[0]);
      const until =
        options.until === undefined ? order.length : Number(parseStreamCursor(options.until)[0]);
      const limit = streamReadLimit(options.limit);
      const items = [];
      for (let i = after; i < Math.min(until, order.length) && items.length < limit; i++) {
        const message = order[i]!;
        if (options.tenant !== undefined && message.tenant !== options.tenant) continue;
        items.push({ cursor: cursorAt(i), message: copy(message) });
      }
      return items;
    },
  };
}
