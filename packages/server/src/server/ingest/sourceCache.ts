// Sources read per webhook would cost a database round trip each; they change rarely, so each
// process keeps them for a second. A change through this process's API is seen at once
// (invalidate); one made elsewhere (the CLI, another server) within twice `ttlMs`: for one
// `ttlMs` after an entry expired it is still answered while a single read in the background
// renews it. Webhooks never wait for that read, nor does each start one of its own: at 1,000
// webhooks/s, every webhook arriving while the read ran started another, a dozen or more reads
// a second each taking a connection from the pool ingestion commits on.
//
// A stored source that cannot verify anything (a secret its scheme cannot use, bad hmac
// options: written before the API checked them, or straight into the database) is found when it
// is loaded: its webhooks are answered 503 `source.misconfigured`, not 500. The sender did
// nothing wrong and its webhook may be genuine, so the answer must neither blame it (4xx, which
// many providers never retry) nor leak a verification result; a 503 makes providers keep the
// webhook and retry, so nothing is lost once the secret is fixed, and `onUnusable` tells the
// operator why.

import { type CidrList, parseCidrList } from "@heraldjs/core/internal/delivery/ipRanges.js";
import type { SourceRecord } from "@heraldjs/core/internal/model/deliveryRecords.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  credentialSecretProblem,
  isCredentialScheme,
} from "@heraldjs/webhooks/internal/signing/credentials.js";
import { resolveScheme, type SchemeSpec } from "@heraldjs/webhooks/internal/signing/registry.js";
import { secretProblem } from "@heraldjs/webhooks/internal/signing/secretCheck.js";
import type { WebhookScheme } from "@heraldjs/webhooks/internal/signing/types.js";

/** How a source's webhooks are verified: a signature, credentials, or not at all. */
export type SourceVerifier =
  | { kind: "signature"; scheme: WebhookScheme }
  | { kind: "token"; header: string | null }
  | { kind: "basic" }
  | { kind: "none" };

export interface CachedSource {
  record: SourceRecord;
  /** Built once per cached record (the hmac scheme compiles its options once per spec object). */
  verifier: SourceVerifier;
  /** The sender addresses accepted; null = any. */
  allowFrom: CidrList | null;
}

export interface SourceCache {
  /**
   * undefined when no source has this name. Rejects as the store does (store.unavailable), and
   * with `source.misconfigured` for a source that cannot verify any webhook.
   */
  get(name: string): Promise<CachedSource | undefined>;
  invalidate(name?: string): void;
}

export interface SourceCacheOptions {
  /** Default 1000. */
  ttlMs?: number;
  now?: () => number;
  /** Told (once per load) why a stored source cannot verify webhooks. */
  onUnusable?: (source: string, reason: string) => void;
  /** The service allows unsigned sources (`ingest.allow_unsigned`); else they are unusable. */
  allowUnsigned?: boolean;
}

interface Entry {
  value: CachedSource | undefined;
  /** Why the source cannot verify webhooks, when it cannot. */
  unusable: string | undefined;
  expiresAt: number;
}

const MAX_ENTRIES = 1000;

function schemeSpecOf(source: SourceRecord): SchemeSpec {
  if (source.scheme === "hmac") {
    return { name: "hmac", ...(source.schemeOptions ?? {}) } as SchemeSpec;
  }
  return source.scheme as SchemeSpec;
}

function verifierOf(source: SourceRecord): SourceVerifier {
  switch (source.scheme) {
    case "none":
      return { kind: "none" };
    case "basic":
      return { kind: "basic" };
    case "token": {
      const header = source.schemeOptions?.header;
      return { kind: "token", header: typeof header === "string" ? header : null };
    }
    default:
      return { kind: "signature", scheme: resolveScheme(schemeSpecOf(source)) };
  }
}

/** Why credentials (`token`, `basic`) or an unsigned source cannot be used, or undefined. */
function unusableCredentials(source: SourceRecord, allowUnsigned: boolean): string | undefined {
  if (source.scheme === "none") {
    if (!allowUnsigned) {
      return "it is unsigned (scheme none) and this service does not allow unsigned sources (ingest.allow_unsigned)";
    }
    if (source.idempotencyHeader === null) return "an unsigned source needs an idempotency header";
    return undefined;
  }
  if (source.secrets.length === 0) return "it has no secret";
  for (const [i, secret] of source.secrets.entries()) {
    const problem = credentialSecretProblem(source.scheme as "token" | "basic", secret);
    if (problem !== undefined)
      return `secrets[${i}] is not a usable ${source.scheme} credential: ${problem}`;
  }
  return undefined;
}

/** Why `source` cannot verify any webhook (the secret rule of the API, checkSecret), or undefined. */
function unusableSignature(source: SourceRecord): string | undefined {
  if (source.secrets.length === 0) return "it has no secret";
  const scheme = schemeSpecOf(source);
  for (const [i, secret] of source.secrets.entries()) {
    const problem = secretProblem(scheme, secret, "verify");
    if (problem !== undefined)
      return `secrets[${i}] is not a usable ${source.scheme} secret: ${problem}`;
  }
  return undefined;
}

/** The cached form of `record`, or why it cannot verify any webhook. */
function load(
  record: SourceRecord,
  allowUnsigned: boolean,
): { value: CachedSource; unusable?: undefined } | { value?: undefined; unusable: string } {
  try {
    const unusable = isCredentialScheme(record.scheme)
      ? unusableCredentials(record, allowUnsigned)
      : unusableSignature(record);
    if (unusable !== undefined) return { unusable };
    const allowFrom = record.allowFrom.length === 0 ? null : parseCidrList(record.allowFrom);
    return { value: { record, verifier: verifierOf(record), allowFrom } };
  } catch (error) {
    // scheme.unknown, scheme.invalid_options, an allow_from entry that is not a CIDR, …
    if (error instanceof HeraldError) return { unusable: error.message };
    throw error;
  }
}

function misconfigured(name: string): HeraldError {
  return new HeraldError(
    "source.misconfigured",
    `The source ${JSON.stringify(name)} cannot verify webhooks until its configuration is fixed; the webhook was not stored, retry later`,
  );
}

export function createSourceCache(
  store: Pick<DeliveryStore, "getSource">,
  options: SourceCacheOptions = {},
): SourceCache {
  const { ttlMs = 1000, now = () => performance.now(), onUnusable } = options;
  const allowUnsigned = options.allowUnsigned ?? false;
  const entries = new Map<string, Entry>();
  /** The read in flight per name: concurrent callers share it. */
  const reads = new Map<string, Promise<Entry>>();
  /** Moved by invalidate: a read that started before is answered but not kept. */
  let generation = 0;

  function read(name: string): Promise<Entry> {
    const pending = reads.get(name);
    if (pending !== undefined) return pending;
    const startedIn = generation;
    const reading = store.getSource(name).then((record): Entry => {
      const { value, unusable } =
        record === undefined
          ? { value: undefined, unusable: undefined }
          : load(record, allowUnsigned);
      const entry = { value, unusable, expiresAt: now() + ttlMs };
      if (generation === startedIn) {
        // Unknown names are cached too (a flood of them must not each reach the database), in
        // a bounded map: the oldest entry goes first.
        entries.delete(name);
        if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
        entries.set(name, entry);
      }
      if (unusable !== undefined) onUnusable?.(name, unusable);
      return entry;
    });
    reads.set(name, reading);
    const settled = () => {
      if (reads.get(name) === reading) reads.delete(name);
    };
    reading.then(settled, settled);
    return reading;
  }

  function answer(name: string, entry: Entry): CachedSource | undefined {
    if (entry.unusable !== undefined) throw misconfigured(name);
    return entry.value;
  }

  return {
    async get(name) {
      const hit = entries.get(name);
      const at = now();
      if (hit !== undefined && hit.expiresAt > at) return answer(name, hit);
      if (hit !== undefined && hit.expiresAt + ttlMs > at) {
        // Renewed in the background; a failed read leaves the entry as it is, and once it is
        // older than this the callers wait for a read and see its failure.
        read(name).catch(() => {});
        return answer(name, hit);
      }
      return answer(name, await read(name));
    },
    invalidate(name) {
      generation++;
      if (name === undefined) {
        entries.clear();
        reads.clear();
      } else {
        entries.delete(name);
        reads.delete(name);
      }
    },
  };
}
