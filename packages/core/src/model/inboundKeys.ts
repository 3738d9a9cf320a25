// Inbound dedupe keys (`CreateMessageInput.dedupe`): the input check and the prune limit, shared
// by every adapter so they accept and refuse the same keys.
import { isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import { invalid, key, positiveInteger, text } from "./check.js";
import type { TimeInput } from "./deliveryRecords.js";
import { toIso } from "./time.js";

/** Longest key in UTF-8 bytes: with a source name it stays well inside a btree index entry. */
const MAX_INBOUND_KEY_BYTES = 1024;

/** Keys deleted by one `pruneInboundKeys` call unless it says otherwise. */
export const DEFAULT_PRUNE_LIMIT = 1000;

/** A dedupe key as stored: `expiresAt` in the canonical ISO form. */
export interface InboundKey {
  source: string;
  key: string;
  expiresAt: string;
}

/** A stored key and the message holding it. */
export interface InboundKeyRow extends InboundKey {
  messageId: string;
}

/** The checked `dedupe` of a CreateMessageInput, or null without one. */
export function inboundKey(value: unknown): InboundKey | null {
  const code = "message.invalid";
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) throw invalid(code, "dedupe", "must be { source, key, expiresAt }");
  const name = text(value.key, "dedupe.key", code, MAX_INBOUND_KEY_BYTES);
  if (Buffer.byteLength(name, "utf8") > MAX_INBOUND_KEY_BYTES) {
    throw invalid(code, "dedupe.key", `must be at most ${MAX_INBOUND_KEY_BYTES} bytes of UTF-8`);
  }
  return {
    source: key(value.source, "dedupe.source", code),
    key: name,
    expiresAt: toIso(value.expiresAt, "dedupe.expiresAt", code),
  };
}

/** True while the key deduplicates (ISO strings of one form compare as times). */
export function isLive(key: { expiresAt: string }, nowIso: string): boolean {
  return key.expiresAt > nowIso;
}

function pruneLimit(limit: unknown): number {
  return limit === undefined
    ? DEFAULT_PRUNE_LIMIT
    : positiveInteger(limit, "limit", "query.invalid");
}

/** The options of `pruneInboundKeys`, checked. */
export function pruneOptions(options: { now?: TimeInput; limit?: number } | undefined): {
  now: TimeInput | undefined;
  limit: number;
} {
  if (options !== undefined && !isPlainObject(options)) {
    throw invalid("query.invalid", "options", "must be an object");
  }
  return { now: options?.now, limit: pruneLimit(options?.limit) };
}
