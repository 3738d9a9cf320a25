// Versioned event type names (`order.created.v1`) as carried in envelopes and the catalogue.

/**
 * `<name>(.<name>)*.v<N>`: lowercase letters, digits and `_`, the first segment starting with a
 * letter, ending in a version `v1`, `v2`, … (no `v0`, no leading zeros, so `v01` ≠ `v1` never
 * arises). At most MAX_EVENT_TYPE_LENGTH characters.
 */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.v[1-9][0-9]*$/;
export const MAX_EVENT_TYPE_LENGTH = 255;

/** True for a versioned event type name (pattern and length). */
export function isEventType(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length <= MAX_EVENT_TYPE_LENGTH &&
    EVENT_TYPE_PATTERN.test(value)
  );
}

/** Splits `order.created.v1` into `{ name: "order.created", version: 1 }`; null if not versioned. */
export function parseEventType(type: string): { name: string; version: number } | null {
  if (!isEventType(type)) return null;
  const dot = type.lastIndexOf(".");
  return { name: type.slice(0, dot), version: Number(type.slice(dot + 2)) };
}
