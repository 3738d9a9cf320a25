// Types shared by every signing scheme and by the public signWebhook / verifyWebhook API.

/** The request body exactly as it came off (or goes onto) the wire. */
export type RawBody = string | Uint8Array;

export type HeaderValue = string | number | readonly string[] | undefined | null;

/** Node's IncomingHttpHeaders, a plain object in any letter case, or a fetch `Headers`. */
export type HeadersLike =
  | { get(name: string): string | null; has(name: string): boolean }
  | Readonly<Record<string, HeaderValue>>;

/** Case-insensitive header lookup; several values of one header are joined with a space. */
export type HeaderReader = (name: string) => string | undefined;

export type VerifyErrorCode =
  | "signature.missing"
  | "signature.malformed"
  | "signature.invalid"
  | "signature.unsupported"
  | "timestamp.missing"
  | "timestamp.invalid"
  | "timestamp.stale"
  | "timestamp.future"
  | "id.missing"
  | "secret.missing"
  | "secret.invalid"
  | "url.missing"
  | "body.mismatch";

export type VerifyResult = VerifySuccess | VerifyFailure;

export interface VerifySuccess {
  ok: true;
  /** The provider's id for this delivery/event when the scheme carries one (dedupe key). */
  id?: string;
  /** The signed timestamp, in Unix seconds, when the scheme signs one. */
  timestamp?: number;
}

export interface VerifyFailure {
  ok: false;
  code: VerifyErrorCode;
  message: string;
}

/** What a scheme's `sign` receives: already normalised by `signWebhook`. */
export interface SchemeSignInput {
  /** Secrets to sign with; the first is the current one. Never empty. */
  secrets: readonly string[];
  body: Uint8Array;
  id: string | undefined;
  /** Unix seconds. */
  timestamp: number;
  url: string | undefined;
}

/** What a scheme's `verify` receives: already normalised by `verifyWebhook`. */
export interface SchemeVerifyInput {
  /** Never empty; each entry is a non-empty string. */
  secrets: readonly string[];
  header: HeaderReader;
  body: Uint8Array;
  /** Reference time for the tolerance window, in milliseconds since the epoch. */
  referenceMs: number;
  toleranceSeconds: number;
  url: string | undefined;
}

export interface WebhookScheme {
  readonly name: string;
  /** True when the scheme signs a timestamp, so stale deliveries can be refused. */
  readonly timestamped: boolean;
  /** True when one header can carry several signatures (secret rotation on the sender side). */
  readonly multipleSignatures: boolean;
  sign(input: SchemeSignInput): Record<string, string>;
  verify(input: SchemeVerifyInput): VerifyResult;
  /** The provider's own delivery or event id, read without verifying (dedupe key). */
  deliveryId(header: HeaderReader, body: Uint8Array): string | undefined;
  /** A new random secret in the form this scheme expects. */
  generateSecret(): string;
}
