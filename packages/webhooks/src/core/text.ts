// Text every store can hold. PostgreSQL's text and jsonb refuse U+0000 and jsonb refuses an
// unpaired UTF-16 surrogate, while SQLite keeps both: so Herald refuses them everywhere (one
// rule, the same answer on every backend) before any query runs.

/** `String.prototype.isWellFormed` (Node ≥ 20; not yet in TypeScript's ES2023 library). */
function isWellFormed(value: string): boolean {
  return (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Why `value` cannot be stored as text on every backend ("must not contain U+0000 (NUL)", to
 * follow a field's name); undefined when it can.
 */
export function textProblem(value: string): string | undefined {
  if (value.includes("\0")) return "must not contain U+0000 (NUL)";
  if (!isWellFormed(value)) return "must not contain an unpaired UTF-16 surrogate";
  return undefined;
}

/** UTF-16 index of the first unpaired surrogate in `value`, or -1. */
export function unpairedSurrogateAt(value: string): number {
  if (isWellFormed(value)) return -1;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = value.charCodeAt(i + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    else return i;
  }
  return -1;
}
