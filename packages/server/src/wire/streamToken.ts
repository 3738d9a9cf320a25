// `/v1/stream-tokens` and the stream's events on the wire: the create body, the token record
// (never its secret nor its hash) and the JSON of one streamed message.

import { DEFAULT_TENANT } from "@heraldjs/core/internal/model/constants.js";
import {
  DEFAULT_STREAM_TOKEN_TTL_S,
  MAX_STREAM_TOKEN_PATTERNS,
  MAX_STREAM_TOKEN_TTL_S,
  type StreamItem,
  type StreamTokenRecord,
} from "@heraldjs/core/internal/model/streamRecords.js";
import { nameSchema, typePatternSchema } from "@heraldjs/spec/internal/wire/common.js";
import type { JsonValue } from "@heraldjs/webhooks/internal/core/json.js";
import { z } from "zod";

export const wireStreamTokenCreateSchema = z.strictObject({
  tenant: nameSchema
    .optional()
    .describe(`The tenant whose events it reads; default ${DEFAULT_TENANT}`),
  event_types: z
    .array(typePatternSchema)
    .min(1)
    .max(MAX_STREAM_TOKEN_PATTERNS)
    .describe('Event-type patterns it may read, e.g. ["order.*"]'),
  ttl_s: z
    .int()
    .min(1)
    .max(MAX_STREAM_TOKEN_TTL_S)
    .default(DEFAULT_STREAM_TOKEN_TTL_S)
    .describe(
      `Lifetime in seconds; default ${DEFAULT_STREAM_TOKEN_TTL_S}, at most ${MAX_STREAM_TOKEN_TTL_S}`,
    ),
});

export type WireStreamTokenCreate = z.output<typeof wireStreamTokenCreateSchema>;

/** A token as listed: never the token, nor its hash. */
export const streamTokenShape = z.object({
  id: z.string().describe("stk_<ULID>"),
  tenant: z.string(),
  event_types: z.array(z.string()),
  created_at: z.string(),
  expires_at: z.string(),
  revoked_at: z.string().nullable(),
});

export const mintedStreamTokenShape = streamTokenShape.extend({
  token: z.string().describe("The token: shown in this response only, never again"),
});

type StreamTokenWire = z.infer<typeof streamTokenShape>;

export function streamTokenToWire(record: StreamTokenRecord): StreamTokenWire {
  return {
    id: record.id,
    tenant: record.tenant,
    event_types: [...record.eventTypes],
    created_at: record.createdAt,
    expires_at: record.expiresAt,
    revoked_at: record.revokedAt,
  };
}

/** One event of the stream: the `data` of an SSE event, a WebSocket frame without `id`. */
export interface StreamEventWire {
  id: string;
  type: string;
  tenant: string;
  created_at: string;
  payload: JsonValue;
}

export function streamEventToWire(item: StreamItem): StreamEventWire {
  const { message } = item;
  return {
    id: message.id,
    type: message.type,
    tenant: message.tenant,
    created_at: message.createdAt,
    payload: message.payload,
  };
}
