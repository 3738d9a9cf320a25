// How long a WebSocket transport waits before connecting to a listener again: exponential in
// the failures since the connection last worked, capped, with jitter so that many Herald
// processes do not reconnect to a restarted listener at the same instant.

export interface ReconnectBackoff {
  /** Wait after the first failure, in ms. */
  baseMs: number;
  /** Longest wait, in ms. */
  maxMs: number;
}

/**
 * The wait before the next connect after `failures` (≥ 1) failures in a row: a draw in
 * [d/2, d) where d = min(maxMs, baseMs · 2^(failures − 1)) ("equal jitter"): never 0, never a
 * tight loop, never above `maxMs`. `random` is a draw in [0, 1). 0 failures: no wait.
 */
export function reconnectDelayMs(
  failures: number,
  { baseMs, maxMs }: ReconnectBackoff,
  random: () => number = Math.random,
): number {
  if (failures < 1) return 0;
  const exponent = Math.min(failures - 1, 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * draw);
}
