// The framework-agnostic inbound receiver: verify the raw bytes, claim the dedupe key, run the
// handler once, and answer in HTTP terms. Adapters only translate requests and responses.
import { systemClock } from "../core/clock.js";
import { coerceError, HeraldError } from "../core/errors.js";
import { jsonTextError, scanJsonText } from "../core/jsonText.js";
import { DEFAULT_DEDUPE_TTL_S, DEFAULT_MAX_BODY_BYTES } from "../model/receiveDefaults.js";
import { toBodyBytes } from "../signing/body.js";
import { headerReader } from "../signing/headers.js";
import { resolveScheme } from "../signing/registry.js";
import { DEFAULT_TOLERANCE_SECONDS } from "../signing/sign.js";
import { createMemoryDedupeStore } from "../store/memory/dedupeStore.js";
import { authenticate } from "./authenticate.js";
import {
  errorResponse,
  jsonResponse,
  misconfigurationMessage,
  statusForVerifyCode,
  tooLargeResponse,
} from "./responses.js";
import type {
  HandlerResult,
  Receiver,
  ReceiverErrorContext,
  ReceiverOptions,
  ReceiverRequest,
  ReceiverResponse,
  WebhookContext,
} from "./types.js";

/** How long a processed delivery is remembered: the same 3 days as the service's sources. */
export const DEFAULT_DEDUPE_TTL_SECONDS = DEFAULT_DEDUPE_TTL_S;
export const DEFAULT_PROCESSING_TIMEOUT_SECONDS = 300;

function positive(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new HeraldError("config.invalid", `${name} must be a number > 0, got ${String(value)}`);
  }
  return value;
}

function isStatus(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 200 && value <= 599;
}

function handlerResponse(result: HandlerResult | undefined, id: string): ReceiverResponse {
  const processed = { status: "processed", id };
  const response = jsonResponse(result?.status ?? 200, result?.body ?? processed);
  if (typeof result?.body === "string") {
    response.body = result.body;
    response.headers["content-type"] = "text/plain; charset=utf-8";
  }
  if (result?.headers !== undefined) {
    // fromEntries defines own properties, so any header name (even `__proto__`) is kept.
    response.headers = Object.fromEntries([
      ...Object.entries(response.headers),
      ...Object.entries(result.headers).map(([name, value]) => [name.toLowerCase(), value]),
    ]);
  }
  return response;
}

function webhookContext(fields: Omit<WebhookContext, "text" | "json">): WebhookContext {
  let decoded: string | undefined;
  const text = () => {
    decoded ??= new TextDecoder().decode(fields.rawBody);
    return decoded;
  };
  return {
    ...fields,
    text,
    json<T>(): T {
      // The one bounded-depth rule (MAX_JSON_DEPTH), before the handler recurses into it.
      const problem = scanJsonText(text(), { storableText: false });
      if (problem !== undefined) throw jsonTextError(problem, "The webhook body");
      try {
        return JSON.parse(text()) as T;
      } catch (error) {
        throw new HeraldError("body.invalid_json", "The webhook body is not valid JSON", {
          cause: error,
        });
      }
    },
  };
}

export function createReceiver(options: ReceiverOptions): Receiver {
  const scheme = resolveScheme(options.scheme);
  const {
    secrets,
    clock = systemClock,
    idempotencyHeader,
    handler,
    dedupe = createMemoryDedupeStore({ clock: options.clock }),
    dedupeNamespace = scheme.name,
    whileProcessing = "duplicate",
  } = options;
  if (whileProcessing !== "duplicate" && whileProcessing !== "retry") {
    throw new HeraldError("config.invalid", 'whileProcessing must be "duplicate" or "retry"');
  }
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new HeraldError("config.invalid", "toleranceSeconds must be a number >= 0");
  }
  const maxBodyBytes = positive("maxBodyBytes", options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  const ttlMs =
    positive("dedupeTtlSeconds", options.dedupeTtlSeconds ?? DEFAULT_DEDUPE_TTL_SECONDS) * 1000;
  const leaseMs =
    positive(
      "processingTimeoutSeconds",
      options.processingTimeoutSeconds ?? DEFAULT_PROCESSING_TIMEOUT_SECONDS,
    ) * 1000;
  if (typeof handler !== "function") {
    throw new HeraldError("config.invalid", "createReceiver needs a handler function");
  }

  // Reporting must never change the answer, so a throwing or rejecting onError is ignored.
  function report(error: unknown, context: ReceiverErrorContext): void {
    if (options.onError === undefined) return;
    try {
      const pending = options.onError(coerceError(error), context);
      if (pending instanceof Promise) pending.catch(() => {});
    } catch {}
  }

  async function handle(request: ReceiverRequest): Promise<ReceiverResponse> {
    let body: Uint8Array;
    try {
      body = toBodyBytes(request.body);
    } catch (error) {
      report(error, { stage: "config" });
      return errorResponse(
        500,
        "body.not_raw",
        "Server misconfiguration: the receiver was given a parsed body instead of the raw bytes.",
      );
    }
    if (body.byteLength > maxBodyBytes) {
      return tooLargeResponse(maxBodyBytes);
    }

    // 1. Authenticate the exact bytes before anything else looks at them, and name the delivery.
    const header = headerReader(request.headers);
    let verified: ReturnType<typeof authenticate>;
    try {
      verified = authenticate({
        scheme,
        secrets,
        headers: request.headers,
        header,
        body,
        now: clock.now(),
        receivedAt: request.receivedAt,
        toleranceSeconds,
        url: request.url,
        idempotencyHeader,
      });
    } catch (error) {
      report(error, { stage: "config" });
      return errorResponse(500, "internal", "Server misconfiguration: verification failed to run.");
    }
    if (!verified.ok) {
      const status = statusForVerifyCode(verified.code);
      if (status === 500) {
        report(new HeraldError(verified.code, verified.message), { stage: "config" });
        return errorResponse(500, verified.code, misconfigurationMessage(verified.code));
      }
      return errorResponse(status, verified.code, verified.message);
    }

    // 2. Claim the delivery: exactly one concurrent request gets past this point.
    const { id } = verified.identity;
    const dedupeKey = `${dedupeNamespace}:${verified.identity.key}`;
    let token: string;
    try {
      const claim = await dedupe.claim(dedupeKey, leaseMs);
      if (!claim.claimed) {
        if (claim.state === "processing" && whileProcessing === "retry") {
          const response = errorResponse(
            409,
            "delivery.in_progress",
            "This delivery is being processed; retry later to learn its outcome.",
          );
          response.headers["retry-after"] = String(Math.max(1, Math.ceil(leaseMs / 10_000)));
          return response;
        }
        return jsonResponse(200, { status: "duplicate", id });
      }
      token = claim.token;
    } catch (error) {
      // Never run the handler for a delivery the store could not record.
      report(new HeraldError("store.unavailable", "The dedupe store failed", { cause: error }), {
        stage: "store",
        id,
        dedupeKey,
      });
      return errorResponse(
        503,
        "store.unavailable",
        "The receiver cannot record deliveries right now; the webhook was not processed. Retry later.",
      );
    }

    // 3. Run the handler; only a 2xx answer marks the delivery processed.
    const receivedAt = new Date(request.receivedAt ?? clock.now());
    let response: ReceiverResponse;
    try {
      const result = (await handler(
        webhookContext({
          id,
          dedupeKey,
          headers: header,
          rawBody: body,
          timestamp: verified.timestamp,
          receivedAt,
        }),
      )) as HandlerResult | undefined;
      if (result !== undefined && result.status !== undefined && !isStatus(result.status)) {
        throw new HeraldError("config.invalid", `The handler returned status ${result.status}`);
      }
      response = handlerResponse(result, id);
    } catch (error) {
      // webhook.json() refused the body: the sender's fault (400), not the handler's.
      const badBody =
        error instanceof HeraldError &&
        (error.code === "body.invalid_json" || error.code === "body.too_deep")
          ? error
          : undefined;
      report(
        badBody ?? new HeraldError("handler.failed", "The webhook handler threw", { cause: error }),
        {
          stage: "handler",
          id,
          dedupeKey,
        },
      );
      await release(dedupeKey, token, id);
      return badBody !== undefined
        ? errorResponse(400, badBody.code, badBody.message)
        : errorResponse(
            500,
            "handler.failed",
            "The webhook handler failed; the delivery was not recorded, so a retry will be processed.",
          );
    }

    if (response.status < 200 || response.status > 299) {
      await release(dedupeKey, token, id);
      return response;
    }
    try {
      if (!(await dedupe.complete(dedupeKey, token, ttlMs))) {
        report(
          new HeraldError(
            "dedupe.lease_lost",
            "The handler outlived processingTimeoutSeconds; a retry may have processed it again",
          ),
          { stage: "complete", id, dedupeKey },
        );
      }
    } catch (error) {
      // The work is done: answering 5xx now would only make the sender deliver it again.
      report(error, { stage: "complete", id, dedupeKey });
    }
    return response;
  }

  async function release(dedupeKey: string, token: string, id: string): Promise<void> {
    try {
      await dedupe.release(dedupeKey, token);
    } catch (error) {
      // The lease still expires on its own, after which the retry is processed.
      report(error, { stage: "release", id, dedupeKey });
    }
  }

  return { handle, maxBodyBytes };
}
