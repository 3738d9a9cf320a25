// What a stream request says, for both carriers: the token (query `token`, or Authorization:
// Bearer), the client's last id (the Last-Event-ID header, else `last_event_id`), `types`
// narrowing the token's patterns, and whether to stay live. Checked before any byte is sent.

import type { IncomingHttpHeaders } from "node:http";
import { compileTypeMatcher } from "@heraldjs/core/internal/core/typePattern.js";
import { authenticateStreamToken } from "@heraldjs/core/internal/delivery/streamTokens.js";
import {
  parseStreamCursor,
  type StreamTokenRecord,
} from "@heraldjs/core/internal/model/streamRecords.js";
import type { StreamStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { Logger } from "pino";
import { z } from "zod";
import type { StreamSettings } from "../../config/streamSettings.js";
import type { StreamHub } from "./streamHub.js";
import { createStreamSession, type StreamSession } from "./streamSession.js";

export const streamQuery = z.object({
  token: z
    .string()
    .max(256)
    .optional()
    .describe("The stream token (EventSource and browsers' WebSocket cannot send headers)"),
  last_event_id: z
    .string()
    .max(64)
    .optional()
    .describe(
      "Resume after this event id (the Last-Event-ID header wins); 0 replays every stored event",
    ),
  types: z
    .string()
    .max(4096)
    .optional()
    .describe("Comma-separated event-type patterns narrowing the token's"),
  live: z
    .enum(["true", "false"])
    .optional()
    .describe("false: send the stored events after last_event_id, then end; default true"),
  event_names: z
    .enum(["true", "false"])
    .optional()
    .describe(
      "SSE only. false: no event: line, so EventSource's onmessage gets every event; default true",
    ),
});

export type StreamQuery = z.infer<typeof streamQuery>;

export interface StreamContext {
  store: Pick<StreamStore, "findStreamToken" | "getStreamToken" | "readStream">;
  hub: StreamHub;
  settings: StreamSettings;
  clock: Clock;
  logger: Logger;
}

/**
 * The query's token, else `Authorization: Bearer <token>`: a token in the URL was put there for
 * the stream, while a header may belong to something in between (a gateway's own key).
 */
function presentedToken(query: StreamQuery, headers: IncomingHttpHeaders): string | undefined {
  if (query.token !== undefined) return query.token;
  const header = headers.authorization;
  const match = typeof header === "string" ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** What a checked request asks for. */
export interface StreamRequest {
  token: StreamTokenRecord;
  /** The client's last id; null to start from now. */
  after: string | null;
  types: string[] | null;
  live: boolean;
}

/**
 * Checks a stream request before anything is sent; throws `stream_token.invalid` (401),
 * `stream.cursor_invalid`, `type_pattern.invalid` (400), `store.unavailable` (503).
 */
export async function checkStreamRequest(
  context: Pick<StreamContext, "store" | "clock">,
  query: StreamQuery,
  headers: IncomingHttpHeaders,
): Promise<StreamRequest> {
  const token = await authenticateStreamToken(context.store, presentedToken(query, headers), {
    clock: context.clock,
  });
  const header = headers["last-event-id"];
  const lastId =
    (typeof header === "string" && header !== "" ? header : undefined) ?? query.last_event_id;
  if (lastId !== undefined) parseStreamCursor(lastId);
  const types =
    query.types === undefined
      ? null
      : query.types
          .split(",")
          .map((t) => t.trim())
          .filter((t) => t !== "");
  if (types !== null) compileTypeMatcher(types);
  return { token, after: lastId ?? null, types, live: query.live !== "false" };
}

/** The session a checked request opens, attached to the hub when live (checkStreamRequest). */
export async function openStreamSession(
  context: StreamContext,
  query: StreamQuery,
  headers: IncomingHttpHeaders,
): Promise<StreamSession> {
  const checked = await checkStreamRequest(context, query, headers);
  const session = createStreamSession({
    hub: context.hub,
    store: context.store,
    ...checked,
    settings: context.settings,
    clock: context.clock,
    logger: context.logger,
  });
  await session.open();
  return session;
}
