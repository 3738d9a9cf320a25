// Public API: signWebhook, verifyWebhook and generateSecret.
import type { Clock } from "../core/clock.js";
import { HeraldError } from "../core/errors.js";
import { DEFAULT_TOLERANCE_SECONDS } from "../core/signatureTolerance.js";
import { toBodyBytes } from "./body.js";
import { headerReader } from "./headers.js";
import { resolveScheme, type SchemeSpec } from "./registry.js";
import { standardScheme, verifyStandardRequest } from "./schemes/standard.js";
import { fail } from "./timestamp.js";
import type { HeadersLike, RawBody, VerifyFailure, VerifyResult } from "./types.js";

export { DEFAULT_TOLERANCE_SECONDS };

export interface SignWebhookOptions {
  scheme: SchemeSpec;
  /** One secret, or several during a rotation (schemes that allow it send every signature). */
  secret: string | readonly string[];
  body: RawBody;
  /** Message / delivery id, for schemes that sign or send one. */
  id?: string;
  /** Unix seconds or a Date; defaults to now. */
  timestamp?: number | Date;
  /** Full URL the request goes to (twilio signs it). */
  url?: string;
  clock?: Clock;
}

export interface VerifyWebhookOptions {
  scheme: SchemeSpec;
  /** Every secret that may have signed the request (rotation). */
  secrets: string | readonly string[];
  headers: HeadersLike;
  /** The raw body, exactly as received. */
  body: RawBody;
  /** Current time; defaults to the clock or the system time. */
  now?: Date | number;
  /** When the request was received, if it is verified later (after a queue): the tolerance applies to it. */
  receivedAt?: Date | number;
  /** Symmetric window around the reference time in seconds; default 300. */
  toleranceSeconds?: number;
  /** The full request URL (twilio). */
  url?: string;
  clock?: Clock;
}

/** Non-empty and not only white space; trims only when the first character is white space. */
function isNonBlank(secret: unknown): boolean {
  if (typeof secret !== "string" || secret.length === 0) return false;
  return secret.charCodeAt(0) > 32 || secret.trim().length > 0;
}

function toMillis(value: Date | number): number {
  return typeof value === "number" ? value : value.getTime();
}

function toSecretList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}

export function signWebhook(options: SignWebhookOptions): Record<string, string> {
  const scheme = resolveScheme(options.scheme);
  const secrets = toSecretList(options.secret);
  if (secrets.length === 0) throw new HeraldError("secret.missing", "signWebhook needs a secret");
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length === 0) {
      throw new HeraldError("secret.invalid", "A signing secret must be a non-empty string");
    }
  }
  const timestamp =
    options.timestamp === undefined
      ? Math.floor((options.clock?.now() ?? Date.now()) / 1000)
      : typeof options.timestamp === "number"
        ? Math.floor(options.timestamp)
        : Math.floor(options.timestamp.getTime() / 1000);
  return scheme.sign({
    secrets,
    body: toBodyBytes(options.body),
    id: options.id,
    timestamp,
    url: options.url,
  });
}

export function verifyWebhook(options: VerifyWebhookOptions): VerifyResult {
  const scheme = resolveScheme(options.scheme);
  const standard = scheme === standardScheme;
  const rawBody = options.body;
  // The standard scheme takes a string body as it is (its HMAC encodes it as UTF-8 itself);
  // every other input is checked and converted as for any scheme.
  const body = standard && typeof rawBody === "string" ? rawBody : toBodyBytes(rawBody);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (typeof tolerance !== "number" || Number.isNaN(tolerance) || tolerance < 0) {
    throw new HeraldError("config.invalid", "toleranceSeconds must be a number >= 0");
  }
  const secrets = toSecretList(options.secrets);
  if (secrets.length === 0) return fail("secret.missing", "No verification secret configured");
  for (const secret of secrets) {
    if (!isNonBlank(secret)) return fail("secret.invalid", "A verification secret is empty");
  }
  const nowMs =
    options.now === undefined ? (options.clock?.now() ?? Date.now()) : toMillis(options.now);
  const referenceMs = options.receivedAt === undefined ? nowMs : toMillis(options.receivedAt);
  if (standard) {
    return verifyStandardRequest(secrets, options.headers, body, referenceMs, tolerance);
  }
  return scheme.verify({
    secrets,
    header: headerReader(options.headers),
    body: typeof body === "string" ? toBodyBytes(body) : body,
    referenceMs,
    toleranceSeconds: tolerance,
    url: options.url,
  });
}

// Failures that neither the body nor the secrets can cause: the request's headers (or URL) are
// enough to refuse it. `signature.invalid` and `body.mismatch` depend on the body, `secret.*` on
// the configuration.
const HEADER_FAILURES = new Set<string>([
  "signature.missing",
  "signature.malformed",
  "signature.unsupported",
  "timestamp.missing",
  "timestamp.invalid",
  "timestamp.stale",
  "timestamp.future",
  "id.missing",
  "url.missing",
]);

const NO_SECRETS: readonly string[] = [];
const NO_BODY = new Uint8Array(0);

/**
 * What the headers (and URL) alone decide, before the body has arrived: the scheme's checks run
 * against no secret and an empty body — so no MAC is computed — and only the failures neither
 * could cause are returned (`signature.missing`, `signature.malformed`, `timestamp.stale`…).
 * undefined: nothing wrong that the headers show; `verifyWebhook` decides the rest.
 */
export function checkWebhookHeaders(
  options: Omit<VerifyWebhookOptions, "secrets" | "body">,
): VerifyFailure | undefined {
  const scheme = resolveScheme(options.scheme);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowMs =
    options.now === undefined ? (options.clock?.now() ?? Date.now()) : toMillis(options.now);
  const referenceMs = options.receivedAt === undefined ? nowMs : toMillis(options.receivedAt);
  const result =
    scheme === standardScheme
      ? verifyStandardRequest(NO_SECRETS, options.headers, NO_BODY, referenceMs, tolerance)
      : scheme.verify({
          secrets: NO_SECRETS,
          header: headerReader(options.headers),
          body: NO_BODY,
          referenceMs,
          toleranceSeconds: tolerance,
          url: options.url,
        });
  return !result.ok && HEADER_FAILURES.has(result.code) ? result : undefined;
}

/** A new random secret in the form the scheme expects (`whsec_…` for standard). */
export function generateSecret(scheme: SchemeSpec = "standard"): string {
  return resolveScheme(scheme).generateSecret();
}
