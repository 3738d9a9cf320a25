// Inbound verifiers that are not signatures: a shared token (a header of the source's choosing,
// or `Authorization: Bearer`), HTTP Basic, or nothing at all (`none`, for senders that cannot
// sign; the service allows it only with an explicit opt-in). They check headers only, so a
// wrong credential is refused before the body is read.
//
// Every comparison is constant-time: the presented value and each accepted secret are hashed
// with SHA-256 and the digests compared with timingSafeEqual, for every secret (no early exit),
// so the time taken depends neither on how much of a secret matched nor on which one did.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { HeaderReader } from "../signing/types.js";

export const CREDENTIAL_SCHEMES = ["token", "basic", "none"] as const;
export type CredentialScheme = (typeof CREDENTIAL_SCHEMES)[number];

/** Shortest token accepted as a secret: 16 characters (with a generated token, 43). */
export const MIN_TOKEN_LENGTH = 16;
/** Shortest Basic password accepted as a secret. */
export const MIN_BASIC_PASSWORD_LENGTH = 12;
/** Longest credential read from a request (longer ones are refused unread). */
const MAX_CREDENTIAL_LENGTH = 4096;

export type CredentialErrorCode = "credentials.missing" | "credentials.invalid";

export type CredentialResult =
  | { ok: true }
  | { ok: false; code: CredentialErrorCode; message: string };

export function isCredentialScheme(name: string): name is CredentialScheme {
  return (CREDENTIAL_SCHEMES as readonly string[]).includes(name);
}

export interface CredentialCheck {
  scheme: "token" | "basic";
  /** Every accepted secret: tokens, or `user:password` pairs for basic. Never empty. */
  secrets: readonly string[];
  header: HeaderReader;
  /** For `token`: the header carrying the bare token; null or undefined = `Authorization: Bearer`. */
  tokenHeader?: string | null;
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** True when `presented` equals one of `secrets`; every secret is compared. */
function matchesAny(presented: string, secrets: readonly string[]): boolean {
  const given = digest(presented);
  let matched = false;
  for (const secret of secrets) {
    // Non-short-circuit OR: each secret costs the same whether or not one matched before.
    matched = timingSafeEqual(given, digest(secret)) || matched;
  }
  return matched;
}

/** The credential after `prefix` in Authorization (case-insensitive scheme word), else undefined. */
function authorization(header: HeaderReader, prefix: "bearer" | "basic"): string | undefined {
  const value = header("authorization")?.trim();
  if (value === undefined) return undefined;
  const space = value.indexOf(" ");
  if (space < 0 || value.slice(0, space).toLowerCase() !== prefix) return undefined;
  return value.slice(space + 1).trim() || undefined;
}

function presentedToken(check: CredentialCheck): string | undefined {
  if (check.tokenHeader !== undefined && check.tokenHeader !== null) {
    return check.header(check.tokenHeader.toLowerCase())?.trim() || undefined;
  }
  return authorization(check.header, "bearer");
}

function presentedBasic(header: HeaderReader): string | undefined {
  const encoded = authorization(header, "basic");
  if (encoded === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  return decoded.includes(":") ? decoded : undefined;
}

function where(check: CredentialCheck): string {
  if (check.scheme === "basic") return "an Authorization: Basic header";
  return check.tokenHeader === undefined || check.tokenHeader === null
    ? "an Authorization: Bearer header"
    : `the ${check.tokenHeader} header`;
}

/**
 * Checks the request's credential against the source's secrets. `credentials.missing` when the
 * request carries none (or one that is not well formed), `credentials.invalid` when it matches
 * no secret; the message never contains what was presented or expected.
 */
export function checkCredentials(check: CredentialCheck): CredentialResult {
  const presented = check.scheme === "basic" ? presentedBasic(check.header) : presentedToken(check);
  if (presented === undefined) {
    return {
      ok: false,
      code: "credentials.missing",
      message: `This source requires credentials in ${where(check)}`,
    };
  }
  if (presented.length > MAX_CREDENTIAL_LENGTH || !matchesAny(presented, check.secrets)) {
    return {
      ok: false,
      code: "credentials.invalid",
      message: `The credentials in ${where(check)} are not valid for this source`,
    };
  }
  return { ok: true };
}

/**
 * Why `secret` cannot serve as a credential of `scheme`, or undefined. Tokens: at least
 * MIN_TOKEN_LENGTH visible ASCII characters; basic: `user:password`, a user without `:` and a
 * password of at least MIN_BASIC_PASSWORD_LENGTH characters; none takes no secrets.
 */
export function credentialSecretProblem(
  scheme: CredentialScheme,
  secret: string,
): string | undefined {
  if (scheme === "none") return "an unsigned source takes no secrets";
  if (secret.length > 1024) return "must be at most 1024 characters";
  if (scheme === "token") {
    if (!/^[\x21-\x7e]+$/.test(secret)) return "must be visible ASCII characters without spaces";
    if (secret.length < MIN_TOKEN_LENGTH) {
      return `must be at least ${MIN_TOKEN_LENGTH} characters long`;
    }
    return undefined;
  }
  const colon = secret.indexOf(":");
  if (colon <= 0) return 'must be "user:password"';
  if ([...secret].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return "must not contain control characters";
  }
  if (secret.length - colon - 1 < MIN_BASIC_PASSWORD_LENGTH) {
    return `the password must be at least ${MIN_BASIC_PASSWORD_LENGTH} characters long`;
  }
  return undefined;
}

/** A new random credential: a 43-character token, or `herald:<token>` for basic. */
export function generateCredential(scheme: "token" | "basic"): string {
  const token = randomBytes(32).toString("base64url");
  return scheme === "token" ? token : `herald:${token}`;
}
