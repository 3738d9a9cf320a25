// `POST /webhooks/:source` without the HTTP framework: source → content type → signature on the
// raw bytes → dedupe key → payload and type → one durable message with its deliveries. The
// answer is 202 only once the message is committed; a seen dedupe key answers 200 with the
// first message's id; nothing here ever answers 202 for a message that was not stored.
import { type Clock, systemClock } from "../../core/clock.js";
import { HeraldError } from "../../core/errors.js";
import type { SchemeSpec } from "../../signing/registry.js";
import { checkWebhookHeaders, verifyWebhook } from "../../signing/sign.js";
import type { HeadersLike } from "../../signing/types.js";
import type { SourceRecord } from "../../store/deliveryPorts.js";
import { statusForCode } from "../httpErrors.js";
import type { GroupCommitter } from "./groupCommit.js";
import {
  type BodyKind,
  bodyKind,
  dedupeKey,
  type HeaderGetter,
  messageType,
  parsePayload,
} from "./inboundRequest.js";
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

/** What a webhook is known by before its body arrives. */
export type IngestHead = Omit<IngestRequest, "body">;

/** A request whose route, source, content type and signature headers were found acceptable. */
export interface AdmittedIngest {
  readonly head: IngestHead;
  readonly source: SourceRecord;
  readonly scheme: SchemeSpec;
  readonly kind: BodyKind;
  readonly header: HeaderGetter;
}

export type IngestAdmission =
  | { ok: true; admitted: AdmittedIngest }
  | { ok: false; response: IngestResponse };

export interface Ingestor {
  /**
   * Everything that can be decided without the body: the source exists, the content type is
   * one Herald parses, the signature scheme's headers are present and well formed and a signed
   * timestamp is within the tolerance (`checkWebhookHeaders`),
   * a required idempotency header is there. A refusal here costs no body bytes.
   */
  admit(head: IngestHead): Promise<IngestAdmission>;
  /** The rest, once the body is in: signature, dedupe key, payload, type, durable store. */
  complete(admitted: AdmittedIngest, body: Uint8Array | undefined): Promise<IngestResponse>;
  /** `admit` then `complete`. */
  handle(request: IngestRequest): Promise<IngestResponse>;
}

const EMPTY = new Uint8Array(0);

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

  function verify(admitted: AdmittedIngest, body: Uint8Array, receivedAt: number) {
    return verifyWebhook({
      scheme: admitted.scheme,
      secrets: admitted.source.secrets,
      headers: admitted.head.headers as HeadersLike,
      body,
      toleranceSeconds: admitted.source.toleranceS,
      now: new Date(receivedAt),
      url: admitted.head.url,
    });
  }

  async function admit(head: IngestHead): Promise<IngestAdmission> {
    const cached = await sources.get(head.source);
    if (cached === undefined) {
      return {
        ok: false,
        response: rejected(
          new HeraldError("source.not_found", `No source is named ${JSON.stringify(head.source)}`),
        ),
      };
    }
    const { record: source, scheme } = cached;
    const header = headerGetter(head.headers);
    const kind = bodyKind(header("content-type"));
    if (kind === undefined) {
      return {
        ok: false,
        response: rejected(
          new HeraldError(
            "content_type.unsupported",
            "Send the webhook as application/json (or +json) or application/x-www-form-urlencoded",
          ),
          source.name,
        ),
      };
    }
    const admitted: AdmittedIngest = { head, source, scheme, kind, header };
    const early = checkWebhookHeaders({
      scheme: admitted.scheme,
      headers: head.headers as HeadersLike,
      toleranceSeconds: source.toleranceS,
      now: new Date(clock.now()),
      url: head.url,
    });
    if (early !== undefined) {
      return {
        ok: false,
        response: rejected(new HeraldError(early.code, early.message), source.name),
      };
    }
    if (source.idempotencyRequired && source.idempotencyHeader !== null) {
      const value = header(source.idempotencyHeader)?.trim();
      if (value === undefined || value === "") {
        return {
          ok: false,
          response: rejected(
            new HeraldError(
              "idempotency.missing",
              `This source requires the ${source.idempotencyHeader} header`,
            ),
            source.name,
          ),
        };
      }
    }
    return { ok: true, admitted };
  }

  async function complete(
    admitted: AdmittedIngest,
    requestBody: Uint8Array | undefined,
  ): Promise<IngestResponse> {
    const { source, header, kind } = admitted;
    const body = requestBody ?? EMPTY;
    const receivedAt = clock.now();
    const verified = verify(admitted, body, receivedAt);
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

  async function settle(
    run: () => Promise<IngestResponse>,
    knownSource?: string,
  ): Promise<IngestResponse> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof HeraldError)) throw error;
      return rejected(error, knownSource);
    }
  }

  async function safeAdmit(head: IngestHead): Promise<IngestAdmission> {
    try {
      return await admit(head);
    } catch (error) {
      if (!(error instanceof HeraldError)) throw error;
      return { ok: false, response: rejected(error) };
    }
  }

  const completeSafely = (admitted: AdmittedIngest, body: Uint8Array | undefined) =>
    settle(() => complete(admitted, body), admitted.source.name);

  return {
    admit: safeAdmit,
    complete: completeSafely,
    async handle(request) {
      const admission = await safeAdmit(request);
      return admission.ok ? completeSafely(admission.admitted, request.body) : admission.response;
    },
  };
}
