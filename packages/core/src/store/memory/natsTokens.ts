// In-memory NATS tokens: the NATS-token half of the memory DeliveryStore.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { compareText } from "../../model/listQuery.js";
import { newNatsTokenRecord, revokedNatsToken } from "../../model/natsTokenRecords.js";
import { isoNow } from "../../model/time.js";
import type { NatsTokenRecord, NatsTokenStore } from "../deliveryPorts.js";
import { copy } from "./deliveryCatalog.js";

export function memoryNatsTokens(clock: Clock): NatsTokenStore {
  const tokens = new Map<string, NatsTokenRecord>();
  return {
    async createNatsToken(input) {
      const record = newNatsTokenRecord(input, isoNow(clock));
      tokens.set(record.id, record);
      return copy(record);
    },
    async getNatsToken(id) {
      return copy(tokens.get(id));
    },
    async findNatsToken(tokenHash) {
      for (const record of tokens.values()) {
        if (record.tokenHash === tokenHash) return copy(record);
      }
      return undefined;
    },
    async listNatsTokens(options = {}) {
      const rows = [...tokens.values()]
        .filter(
          (t) =>
            (options.tenant === undefined || t.tenant === options.tenant) &&
            (options.identity === undefined || t.identity === options.identity) &&
            (options.subjectId === undefined || t.subjectId === options.subjectId),
        )
        .sort((a, b) => compareText(a.id, b.id));
      return copy(rows);
    },
    async revokeNatsToken(id, options = {}) {
      const record = tokens.get(id);
      if (record === undefined) return undefined;
      const next = revokedNatsToken(record, isoNow(clock, options.now));
      tokens.set(id, next);
      return copy(next);
    },
  };
}
