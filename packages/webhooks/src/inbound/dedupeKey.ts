// Which key makes two requests "the same delivery", for the receiver and the service alike: the
// scheme's own message id, else the sender's idempotency header, else the body's hash. The
// scheme's id comes first because it is the provider's identity for the event (kept across its
// retries) and, for most schemes, covered by the signature: an attacker replaying a captured
// request cannot change it, whereas an extra header outside the signature can be rewritten on
// every replay to make each copy look new. See docs/inbound.md#dedupe and docs/service.md.
import { createHash } from "node:crypto";
import type { HeaderReader, WebhookScheme } from "../signing/types.js";

/** Where the key came from: the scheme's id, the idempotency header, or the body's hash. */
export type DedupeSource = "id" | "header" | "sha256";

export interface DedupeIdentity {
  /** Shown to the handler and in duplicate answers: the id or header value, or `sha256:<hex>`. */
  id: string;
  /** `id:<id>`, `header:<value>` or `sha256:<hex>`; the receiver prefixes its namespace. */
  key: string;
  from: DedupeSource;
}

/** Longer ids are keyed by their SHA-256: header values are sender-controlled, keys stay bounded. */
const MAX_ID_IN_KEY = 200;

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

function schemeId(scheme: WebhookScheme, header: HeaderReader, body: Uint8Array) {
  try {
    return scheme.deliveryId(header, body) || undefined;
  } catch {
    // A scheme that reads its id from the body (Stripe) may meet a body it cannot parse.
    return undefined;
  }
}

/** The value of the idempotency header `name` (any letter case), trimmed; undefined when blank. */
export function idempotencyValue(header: HeaderReader, name: string | undefined | null) {
  if (name === undefined || name === null) return undefined;
  return header(name.toLowerCase())?.trim() || undefined;
}

/** The identity of a verified delivery (`verifiedId`: the id its verification returned). */
export function dedupeIdentity(options: {
  /** undefined for a source verified by credentials (no scheme id): the header, else the hash. */
  scheme: WebhookScheme | undefined;
  verifiedId: string | undefined;
  idempotencyHeader: string | undefined | null;
  header: HeaderReader;
  body: Uint8Array;
}): DedupeIdentity {
  const { scheme, header, body } = options;
  const fromScheme =
    options.verifiedId || (scheme === undefined ? undefined : schemeId(scheme, header, body));
  let from: DedupeSource;
  let id: string | undefined;
  if (fromScheme !== undefined) {
    from = "id";
    id = fromScheme;
  } else {
    from = "header";
    id = idempotencyValue(header, options.idempotencyHeader);
  }
  if (id === undefined) {
    const hash = `sha256:${sha256(body)}`;
    return { id: hash, key: hash, from: "sha256" };
  }
  const inKey = id.length > MAX_ID_IN_KEY ? `sha256:${sha256(id)}` : id;
  return { id, key: `${from}:${inKey}`, from };
}
