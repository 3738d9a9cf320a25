// `POST /webhooks/:source` without the HTTP framework: source → content type → signature on the
// raw bytes → dedupe key → payload and type → one durable message with its deliveries. The
// answer is 202 only once the message is committed; a seen dedupe key answers 200 with the
// first message's id; nothing here ever answers 202 for a message that was not stored.
import { type Clock, systemClock } from "../../core/clock.js";
import { HeraldError } from "../../core/errors.js";
import { verifyWebhook } from "../../signing/sign.js";
import type { HeadersLike } from "../../signing/types.js";
import { statusForCode } from "../httpErrors.js";
import type { GroupCommitter } from "./groupCommit.js";
import { bodyKind, dedupeKey, messageType, parsePayload } from "./inboundRequest.js";
import type { SourceCache } from "./sourceCache.js";

export interface IngestRequest {
  source: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body; undefined when the request had none. */
  body: Uint8Array | undefined;
  /** The full request URL (schemes that sign it: twilio). */
  url: string;
}

export type IngestOutcome = "accepted" | "duplicate" | "rejected";

export interface IngestResponse {
  status: number;
  body:
    | { message_id: string; status: "accepted" | "duplicate" }
    | { error: { code: string; message: string } };
  outcome: IngestOutcome;
  /** The stored (or first) message, when there is one. */
  messageId?: string;
  /** The source's name when it exists (metrics label); undefined for unknown sources. */
  knownSource?: string;
  code?: string;
}

export interface IngestorOptions {
  sources: SourceCache;
  committer: GroupCommitter;
  clock?: Clock;
}

export interface Ingestor {
  handle(request: IngestRequest): Promise<IngestResponse>;
}

function rejected(error: HeraldError, knownSource?: string): IngestResponse {
  return {
    status: statusForCode(error.code),
    body: { error: { code: error.code, message: error.message } },
    outcome: "rejected",
    code: error.code,
    ...(knownSource === undefined ? {} : { knownSource }),
  };
}

function headerGetter(headers: IngestRequest["headers"]): (name: string) => string | undefined {
  return (name) => {
    // Own headers only: a source whose header is named `constructor` reads that header, never
    // Object.prototype.constructor.
    const key = name.toLowerCase();
    if (!Object.hasOwn(headers, key)) return undefined;
    const value = headers[key];
    return Array.isArray(value) ? value.join(", ") : typeof value === "string" ? value : undefined;
  };
}

export function createIngestor(options: IngestorOptions): Ingestor {
  const { sources, committer } = options;
  const clock = options.clock ?? systemClock;

  async function handle(
    request: IngestRequest,
    known: { source?: string },
  ): Promise<IngestResponse> {
    const cached = await sources.get(request.source);
    if (cached === undefined) {
      throw new HeraldError(
        "source.not_found",
        `No source is named ${JSON.stringify(request.source)}`,
      );
    }
    const { record: source, scheme } = cached;
    known.source = source.name;
    const header = headerGetter(request.headers);
    const kind = bodyKind(header("content-type"));
    if (kind === undefined) {
      throw new HeraldError(
        "content_type.unsupported",
        "Send the webhook as application/json (or +json) or application/x-www-form-urlencoded",
      );
    }
    const body = request.body ?? new Uint8Array(0);
    const receivedAt = clock.now();
    const verified = verifyWebhook({
      scheme,
      secrets: source.secrets,
      headers: request.headers as HeadersLike,
      body,
      toleranceSeconds: source.toleranceS,
      now: new Date(receivedAt),
      url: request.url,
    });
    if (!verified.ok) throw new HeraldError(verified.code, verified.message);
    const key = dedupeKey(source, header, verified.id, body);
    const payload = parsePayload(body, kind);
    const type = messageType(source, header, payload);
    const result = await committer.submit({
      message: { type, source: source.name, payload },
      deliveries: [],
      dedupe: { source: source.name, key, expiresAt: receivedAt + source.dedupeTtlS * 1000 },
    });
    const messageId = result.message.id;
    return result.created
      ? {
          status: 202,
          body: { message_id: messageId, status: "accepted" },
          outcome: "accepted",
          messageId,
          knownSource: source.name,
        }
      : {
          status: 200,
          body: { message_id: messageId, status: "duplicate" },
          outcome: "duplicate",
          messageId,
          knownSource: source.name,
        };
  }

  return {
    async handle(request) {
      const known: { source?: string } = {};
      try {
        return await handle(request, known);
      } catch (error) {
        if (!(error instanceof HeraldError)) throw error;
        return rejected(error, known.source);
      }
    },
  };
}
