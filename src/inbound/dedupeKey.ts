// Which key makes two requests "the same delivery": the provider's own id, else the
// sender's idempotency header, else the body's hash. Namespaced so ids from two schemes never
// collide in a shared store.
import { createHash } from "node:crypto";
import type { HeaderReader, WebhookScheme } from "../signing/types.js";

export interface DedupeIdentity {
  /** Shown to the handler and in duplicate answers. */
  id: string;
  /** Claimed in the store. */
  key: string;
}

// Header values are sender-controlled; long ones are hashed so store keys stay bounded.
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

export function dedupeIdentity(options: {
  namespace: string;
  scheme: WebhookScheme;
  verifiedId: string | undefined;
  idempotencyHeader: string | undefined;
  header: HeaderReader;
  body: Uint8Array;
}): DedupeIdentity {
  const { namespace, scheme, header, body } = options;
  const fromScheme = options.verifiedId || schemeId(scheme, header, body);
  const fromHeader =
    options.idempotencyHeader === undefined
      ? undefined
      : header(options.idempotencyHeader.toLowerCase())?.trim() || undefined;

  let kind: string;
  let id: string;
  if (fromScheme !== undefined) {
    kind = "id";
    id = fromScheme;
  } else if (fromHeader !== undefined) {
    kind = "header";
    id = fromHeader;
  } else {
    const hash = sha256(body);
    return { id: `sha256:${hash}`, key: `${namespace}:sha256:${hash}` };
  }
  const inKey = id.length > MAX_ID_IN_KEY ? `sha256:${sha256(id)}` : id;
  return { id, key: `${namespace}:${kind}:${inKey}` };
}
