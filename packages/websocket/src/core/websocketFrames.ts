// The frames Herald and a WebSocket listener exchange, as JSON text frames: `delivery` from
// Herald, `ack` / `nack` from the listener. Building and reading them; no I/O.

/** Herald → listener: one attempt of one delivery. */
export interface DeliveryFrame {
  type: "delivery";
  /** The delivery id (`dlv_…`): the listener's ack or nack names it. Stable across retries. */
  id: string;
  /** The message id (`msg_…`), also the `webhook-id` header: deduplicate on it. */
  message_id: string;
  event_type: string;
  /** 1, 2, … since the delivery was created or last replayed. */
  attempt: number;
  /** Lowercase names: the endpoint's extras, `x-herald-*` and the signature headers. */
  headers: Record<string, string>;
  /** The exact JSON text the signature covers; verify it as it is, then parse it. */
  body: string;
}

/** Listener → Herald: the delivery was handled. */
export interface AckFrame {
  type: "ack";
  id: string;
}

/** Listener → Herald: the delivery was not handled; `retry: false` refuses it for good. */
export interface NackFrame {
  type: "nack";
  id: string;
  /** Default true: only an explicit `false` dead-letters the delivery. */
  retry?: boolean;
  error?: string;
}

export type ListenerFrame = AckFrame | NackFrame;

/** Longest `error` text of a nack kept in the attempt log. */
export const MAX_NACK_ERROR_CHARS = 500;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An ack or nack frame, or null for anything else (not JSON, another type, no string id). */
export function parseListenerFrame(text: string): ListenerFrame | null {
  const value = parseJson(text);
  if (!isRecord(value) || typeof value.id !== "string" || value.id === "") return null;
  if (value.type === "ack") return { type: "ack", id: value.id };
  if (value.type !== "nack") return null;
  const frame: NackFrame = { type: "nack", id: value.id };
  if (typeof value.retry === "boolean") frame.retry = value.retry;
  if (typeof value.error === "string") frame.error = value.error.slice(0, MAX_NACK_ERROR_CHARS);
  return frame;
}

/**
 * A delivery frame, or null when `text` is not one (every field present with its type; header
 * values strings). The header map has no prototype, so a header named `__proto__` is a header.
 */
export function parseDeliveryFrame(text: string): DeliveryFrame | null {
  const value = parseJson(text);
  if (!isRecord(value) || value.type !== "delivery") return null;
  const { id, message_id, event_type, attempt, headers, body } = value;
  if (typeof id !== "string" || id === "") return null;
  if (typeof message_id !== "string" || typeof event_type !== "string") return null;
  if (typeof attempt !== "number" || !Number.isSafeInteger(attempt)) return null;
  if (typeof body !== "string" || !isRecord(headers)) return null;
  const copied: Record<string, string> = Object.create(null);
  for (const [name, v] of Object.entries(headers)) {
    if (typeof v !== "string") return null;
    copied[name.toLowerCase()] = v;
  }
  return { type: "delivery", id, message_id, event_type, attempt, headers: copied, body };
}

/** The JSON text of a frame. */
export function frameText(frame: DeliveryFrame | ListenerFrame): string {
  return JSON.stringify(frame);
}
