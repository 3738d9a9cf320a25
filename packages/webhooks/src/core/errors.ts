// One error type for the whole toolkit: a stable string `code` that callers and the HTTP
// layer switch on, a human message, optional structured details and the underlying cause.

export type HeraldErrorCode =
  | "auth.unauthorized"
  | "body.incomplete"
  | "body.invalid_json"
  | "body.invalid_utf8"
  | "body.mismatch"
  | "body.not_raw"
  | "body.timeout"
  | "body.too_deep"
  | "body.too_large"
  | "bus.message_too_large"
  | "bus.unavailable"
  | "cli.invalid_argument"
  | "cli.missing_argument"
  | "cli.unknown_command"
  | "cli.unknown_option"
  | "cli.usage"
  | "cloudevent.invalid"
  | "config.invalid"
  | "content_type.unsupported"
  | "credentials.invalid"
  | "credentials.missing"
  | "cursor.invalid"
  | "dedupe.lease_lost"
  | "delivery.ambiguous_prefix"
  | "delivery.in_progress"
  | "delivery.invalid"
  | "delivery.lease_lost"
  | "delivery.not_found"
  | "endpoint.already_exists"
  | "endpoint.invalid"
  | "endpoint.not_found"
  | "endpoint.version_changed"
  | "envelope.invalid"
  | "event_type.invalid"
  | "event_type.not_found"
  | "event_type.unknown"
  | "expectation.unsupported"
  | "filter.invalid"
  | "handler.failed"
  | "header.too_large"
  | "id.invalid"
  | "id.missing"
  | "idempotency.invalid"
  | "idempotency.missing"
  | "inbox.invalid_key"
  | "internal"
  | "message.invalid"
  | "message.not_found"
  | "migration.checksum_mismatch"
  | "migration.failed"
  | "migration.invalid"
  | "migration.unknown"
  | "payload.invalid"
  | "query.invalid"
  | "request.invalid"
  | "request.malformed"
  | "request.timeout"
  | "retry.invalid_policy"
  | "route.not_found"
  | "scheme.invalid_options"
  | "scheme.unknown"
  | "secret.already_exists"
  | "secret.invalid"
  | "secret.missing"
  | "secret.not_found"
  | "server.busy"
  | "server.shutting_down"
  | "signature.invalid"
  | "signature.malformed"
  | "signature.missing"
  | "signature.unsupported"
  | "source.already_exists"
  | "source.invalid"
  | "source.misconfigured"
  | "source.not_found"
  | "source.sender_not_allowed"
  | "source.unsigned_not_allowed"
  | "spec.invalid"
  | "ssrf.blocked"
  | "store.unavailable"
  | "store.unsupported"
  | "text.invalid"
  | "timestamp.future"
  | "timestamp.invalid"
  | "timestamp.missing"
  | "timestamp.stale"
  | "type.invalid"
  | "type.missing"
  | "type_pattern.invalid"
  | "url.missing"
  | "url.too_long"
  | (string & {});

export interface HeraldErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class HeraldError extends Error {
  override readonly name = "HeraldError";
  readonly code: HeraldErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: HeraldErrorCode, message: string, options: HeraldErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isHeraldError(value: unknown, code?: HeraldErrorCode): value is HeraldError {
  return value instanceof HeraldError && (code === undefined || value.code === code);
}

/** Turns anything thrown into a HeraldError, keeping the original as `cause`. */
export function coerceError(value: unknown, code: HeraldErrorCode = "internal"): HeraldError {
  if (value instanceof HeraldError) return value;
  if (value instanceof Error) return new HeraldError(code, value.message, { cause: value });
  return new HeraldError(code, typeof value === "string" ? value : "Unknown error", {
    cause: value,
  });
}
