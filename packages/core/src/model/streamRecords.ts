// Live event streams: stream tokens (what a browser presents to read one tenant's events) and
// the stream's cursor, built and checked once here so every adapter stores and orders the same.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import { isValidTypePattern } from "../core/typePattern.js";
import { invalid, text } from "./check.js";
import { DEFAULT_TENANT } from "./constants.js";
import type { MessageRecord, TimeInput } from "./deliveryRecords.js";
import { toIso } from "./time.js";

const CODE = "stream_token.invalid";

/** Default lifetime of a stream token: 15 minutes. */
export const DEFAULT_STREAM_TOKEN_TTL_S = 900;
/** Longest lifetime of a stream token: one day. */
export const MAX_STREAM_TOKEN_TTL_S = 86_400;
/** How long a token stays listed after it expired (revoked or not), before pruning deletes it. */
export const STREAM_TOKEN_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Tokens deleted per prune call by default. */
export const DEFAULT_STREAM_TOKEN_PRUNE_LIMIT = 1000;

/** Most event-type patterns one token may name. */
export const MAX_STREAM_TOKEN_PATTERNS = 100;

/**
 * A stream token as stored: never the token itself, only its SHA-256 (hex), which is what a
 * presented token is looked up and compared by.
 */
export interface StreamTokenRecord {
  /** `stk_<ULID>`. */
  id: string;
  tenant: string;
  /** Event-type patterns (core/typePattern.ts) the token may read. */
  eventTypes: string[];
  /** SHA-256 of the token, lowercase hex. */
  tokenHash: string;
  createdAt: string;
  expiresAt: string;
  /** When it was revoked; null while it is not. */
  revokedAt: string | null;
}

export interface StreamTokenInput {
  id: string;
  tenant?: string;
  eventTypes: readonly string[];
  tokenHash: string;
  expiresAt: TimeInput;
}

/**
 * A position in the stream of stored messages, opaque to clients: decimal digits, or two groups
 * of them joined by a dot (PostgreSQL: transaction, then sequence). Positions of one database
 * order by compareStreamCursors; `0` (or `0.0`) is before every message.
 */
export type StreamCursor = string;

/** One message of the stream with its position. */
export interface StreamItem {
  cursor: StreamCursor;
  message: MessageRecord;
}

export interface StreamReadOptions {
  /** Only messages after this position. */
  after: StreamCursor;
  /** Only messages at or before this position; default: every one committed. */
  until?: StreamCursor;
  /** Only this tenant's; default: every tenant's. */
  tenant?: string;
  /** 1–1000. */
  limit: number;
}

const CURSOR = /^(0|[1-9][0-9]{0,18})(\.(0|[1-9][0-9]{0,18}))?$/;

/** The parts of a cursor as numbers; throws `stream.cursor_invalid`. */
export function parseStreamCursor(cursor: unknown): bigint[] {
  if (typeof cursor !== "string" || !CURSOR.test(cursor)) {
    throw new HeraldError(
      "stream.cursor_invalid",
      "The last event id is not a stream cursor: pass back an id the stream sent",
    );
  }
  return cursor.split(".").map((part) => BigInt(part));
}

/** Negative, zero or positive as `a` is before, at or after `b` (cursors of one database). */
export function compareStreamCursors(a: StreamCursor, b: StreamCursor): number {
  const x = parseStreamCursor(a);
  const y = parseStreamCursor(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? 0n;
    const q = y[i] ?? 0n;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

const HASH = /^[0-9a-f]{64}$/;

/** The record a create stores; throws `stream_token.invalid` naming the field. */
export function newStreamTokenRecord(input: StreamTokenInput, nowIso: string): StreamTokenRecord {
  if (!isPlainObject(input)) throw invalid(CODE, "streamToken", "must be an object");
  if (typeof input.id !== "string" || !/^stk_[0-9A-Z]{26}$/.test(input.id)) {
    throw invalid(CODE, "id", "must be stk_<ULID>");
  }
  if (typeof input.tokenHash !== "string" || !HASH.test(input.tokenHash)) {
    throw invalid(CODE, "tokenHash", "must be a SHA-256 in lowercase hex");
  }
  const eventTypes = streamTokenPatterns(input.eventTypes);
  const expiresAt = toIso(input.expiresAt, "expiresAt", CODE);
  if (expiresAt <= nowIso) throw invalid(CODE, "expiresAt", "must be in the future");
  return {
    id: input.id,
    tenant: text(input.tenant ?? DEFAULT_TENANT, "tenant", CODE),
    eventTypes,
    tokenHash: input.tokenHash,
    createdAt: nowIso,
    expiresAt,
    revokedAt: null,
  };
}

function streamTokenPatterns(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid(CODE, "eventTypes", "must be a non-empty array of event-type patterns");
  }
  if (value.length > MAX_STREAM_TOKEN_PATTERNS) {
    throw invalid(CODE, "eventTypes", `must hold at most ${MAX_STREAM_TOKEN_PATTERNS} patterns`);
  }
  return value.map((pattern, i) => {
    if (!isValidTypePattern(pattern)) {
      throw invalid(CODE, `eventTypes[${i}]`, "is not a valid event-type pattern");
    }
    return pattern as string;
  });
}

/** Whether the token may open a stream at `nowIso`: not revoked, not expired. */
export function isStreamTokenLive(record: StreamTokenRecord, nowIso: string): boolean {
  return record.revokedAt === null && record.expiresAt > nowIso;
}

/** The record revoked at `nowIso`; a revoked one keeps its first revocation time. */
export function revokedStreamToken(record: StreamTokenRecord, nowIso: string): StreamTokenRecord {
  return record.revokedAt === null ? { ...record, revokedAt: nowIso } : record;
}

export function streamTokenNotFound(id: string): HeraldError {
  return new HeraldError("stream_token.not_found", `No stream token ${JSON.stringify(id)}`, {
    details: { id },
  });
}

/** What a prune deletes: tokens that expired before `before` (ISO), at most `limit`. */
export function streamTokenPruning(
  clock: { now(): number },
  options: { now?: TimeInput; limit?: number },
): { before: string; limit: number } {
  const now = options.now === undefined ? clock.now() : Date.parse(toIso(options.now, "now", CODE));
  const limit = options.limit ?? DEFAULT_STREAM_TOKEN_PRUNE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1)
    throw invalid(CODE, "limit", "must be a positive integer");
  return { before: new Date(now - STREAM_TOKEN_RETENTION_MS).toISOString(), limit };
}

/** Clamps a read's limit to 1–1000. */
export function streamReadLimit(limit: number): number {
  return Math.min(Math.max(Math.trunc(limit) || 1, 1), 1000);
}
