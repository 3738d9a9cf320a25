// Reads one top-level string field of a JSON object body (Stripe's event `id`, Slack's
// `event_id`) for use as a dedupe key; anything that is not a JSON object yields undefined.

export function jsonStringField(body: Uint8Array, field: string): string | undefined {
  let start = 0;
  for (; start < body.length; start++) {
    const byte = body[start];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) break;
  }
  if (body[start] !== 0x7b) return undefined; // not "{": form bodies and arrays are never parsed
  try {
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
    const value: unknown = (JSON.parse(text) as Record<string, unknown>)[field];
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    return undefined;
  }
}
