// `POST /webhooks/:source` without the HTTP framework: source → content type → signature on the
// raw bytes and dedupe key (the inbound pipeline's shared stages, ../../inbound/authenticate.ts)
// → payload and type → store as message: one durable message with its deliveries. The
// answer is 202 only once the message is committed; a seen dedupe key answers 200 with the
// first message's id; nothing here ever answers 202 for a message that was not stored.

import type { SourceRecord } from "@heraldjs/core/internal/model/deliveryRecords.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError, type HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  type AuthenticDelivery,
  authenticate,
} from "@heraldjs/webhooks/internal/inbound/authenticate.js";
import { dedupeIdentity, idempotencyValue } from "@heraldjs/webhooks/internal/inbound/dedupeKey.js";
import { checkCredentials } from "@heraldjs/webhooks/internal/signing/credentials.js";
import { checkWebhookHeaders } from "@heraldjs/webhooks/internal/signing/sign.js";
import type { HeadersLike, VerifyFailure } from "@heraldjs/webhooks/internal/signing/types.js";
import { publicMessage, statusForCode } from "../httpErrors.js";
import type { CatalogGate } from "./closedCatalog.js";
import type { GroupCommitter } from "./groupCommit.js";
import {
  type BodyKind,
  bodyKind,
  checkDedupeKey,
  type HeaderGetter,
  inboundIdempotencyKey,
  messageType,
  parsePayload,
} from "./inboundRequest.js";
import { filterHeaders, type IngestInput } from "./ingestBatches.js";
import type { CachedSource, SourceCache, SourceVerifier } from "./sourceCache.js";

export interface IngestRequest {
  source: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body; undefined when the request had none. */
  body: Uint8Array | undefined;
  /** The full request URL (schemes that sign it: twilio). */
  url: string;
  /** The sender's address (checked against the source's `allowFrom`); undefined = unknown. */
  remoteAddress?: string;
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
  /** The underlying error's text when the answer leaves it out (a 5xx): for the log only. */
  detail?: string;
}

export interface IngestorOptions {
  sources: SourceCache;
  committer: GroupCommitter;
  /** A closed catalogue's gate: webhooks of a type it does not list are refused (400). */
  catalog?: CatalogGate;
  clock?: Clock;
}

/** What a webhook is known by before its body arrives. */
export type IngestHead = Omit<IngestRequest, "body">;

/** A request whose route, source, content type and signature headers were found acceptable. */
export interface AdmittedIngest {
  readonly head: IngestHead;
  readonly source: SourceRecord;
  readonly verifier: SourceVerifier;
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

/** A refusal; a 5xx says only the code's public message, and keeps the underlying text for the log. */
function rejected(error: HeraldError, knownSource?: string): IngestResponse {
  const status = statusForCode(error.code);
  const message = publicMessage(error.code, status, error.message);
  return {
    status,
    body: { error: { code: error.code, message } },
    outcome: "rejected",
    code: error.code,
    ...(message === error.message ? {} : { detail: error.message }),
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

/** A failed credential check as a verification failure; undefined when it passed. */
function failure(
  result: ReturnType<typeof checkCredentials>,
): { code: HeraldErrorCode; message: string } | undefined {
  return result.ok ? undefined : result;
}

/** Refuses a sender outside the source's `allowFrom` (403 `source.sender_not_allowed`). */
function checkSender(cached: CachedSource, address: string | undefined): void {
  if (cached.allowFrom === null) return;
  if (address !== undefined && cached.allowFrom.has(address)) return;
  throw new HeraldError(
    "source.sender_not_allowed",
    "This source does not accept webhooks from the sender's address",
  );
}

export function createIngestor(options: IngestorOptions): Ingestor {
  const { sources, committer } = options;
  const clock = options.clock ?? systemClock;

  /** Throws HeraldError for a refusal; `known.source` names the source once it is found. */
  async function admit(head: IngestHead, known: { source?: string }): Promise<AdmittedIngest> {
    const cached = await sources.get(head.source);
    if (cached === undefined) {
      throw new HeraldError(
        "source.not_found",
        `No source is named ${JSON.stringify(head.source)}`,
      );
    }
    const source = cached.record;
    known.source = source.name;
    checkSender(cached, head.remoteAddress);
    const header = headerGetter(head.headers);
    const kind = bodyKind(header("content-type"));
    if (kind === undefined) {
      throw new HeraldError(
        "content_type.unsupported",
        "Send the webhook as application/json (or +json) or application/x-www-form-urlencoded",
      );
    }
    const { verifier } = cached;
    // Credentials are headers only: a wrong one is refused before the body is read.
    const early =
      verifier.kind === "signature"
        ? checkWebhookHeaders({
            scheme: verifier.scheme,
            headers: head.headers as HeadersLike,
            toleranceSeconds: source.toleranceS,
            now: new Date(clock.now()),
            url: head.url,
          })
        : verifier.kind === "none"
          ? undefined
          : failure(
              checkCredentials({
                scheme: verifier.kind,
                secrets: source.secrets,
                header,
                tokenHeader: verifier.kind === "token" ? verifier.header : null,
              }),
            );
    if (early !== undefined) throw new HeraldError(early.code, early.message);
    if (source.idempotencyRequired && source.idempotencyHeader !== null) {
      if (idempotencyValue(header, source.idempotencyHeader) === undefined) {
        throw new HeraldError(
          "idempotency.missing",
          `This source requires the ${source.idempotencyHeader} header`,
        );
      }
    }
    return { head, source, verifier, kind, header };
  }

  /** The signature on the exact bytes, or (credentials checked at admission) the identity alone. */
  function verify(
    admitted: AdmittedIngest,
    body: Uint8Array,
    receivedAt: number,
  ): AuthenticDelivery | VerifyFailure {
    const { source, header, verifier } = admitted;
    if (verifier.kind !== "signature") {
      const identity = dedupeIdentity({
        scheme: undefined,
        verifiedId: undefined,
        idempotencyHeader: source.idempotencyHeader,
        header,
        body,
      });
      return { ok: true, identity };
    }
    return authenticate({
      scheme: verifier.scheme,
      secrets: source.secrets,
      headers: admitted.head.headers as HeadersLike,
      header,
      body,
      now: receivedAt,
      toleranceSeconds: source.toleranceS,
      url: admitted.head.url,
      idempotencyHeader: source.idempotencyHeader,
    });
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
    checkDedupeKey(source, header, verified.identity);
    const { payload, text } = parsePayload(body, kind);
    const type = messageType(source, header, payload);
    await options.catalog?.admit(type);
    // Store as message: the body's JSON text is stored as received, not serialised again.
    const message = {
      type,
      source: source.name,
      payload,
      payloadText: text,
      inboundIdempotencyKey: inboundIdempotencyKey(verified.identity),
    };
    const input: IngestInput = {
      message,
      deliveries: [],
      dedupe: {
        source: source.name,
        key: verified.identity.key,
        expiresAt: receivedAt + source.dedupeTtlS * 1000,
      },
      // Endpoints' filters see the request headers (routing only: not stored).
      filterHeaders: filterHeaders(admitted.head.headers),
    };
    const result = await committer.submit(input);
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

  async function safeAdmit(head: IngestHead): Promise<IngestAdmission> {
    const known: { source?: string } = {};
    try {
      return { ok: true, admitted: await admit(head, known) };
    } catch (error) {
      if (!(error instanceof HeraldError)) throw error;
      return { ok: false, response: rejected(error, known.source) };
    }
  }

  async function completeSafely(
    admitted: AdmittedIngest,
    body: Uint8Array | undefined,
  ): Promise<IngestResponse> {
    try {
      return await complete(admitted, body);
    } catch (error) {
      if (!(error instanceof HeraldError)) throw error;
      return rejected(error, admitted.source.name);
    }
  }

  return {
    admit: safeAdmit,
    complete: completeSafely,
    async handle(request) {
      const admission = await safeAdmit(request);
      return admission.ok ? completeSafely(admission.admitted, request.body) : admission.response;
    },
  };
}
