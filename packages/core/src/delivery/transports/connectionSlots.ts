// The connections of a transport that keeps one per broker URL: each URL's slot holds its
// (pending) connection, and after a failed connect the next ones wait out an exponential
// back-off, failing at once with the last error until then.
import { performance } from "node:perf_hooks";

export interface ReconnectBackoff {
  /** Wait after the first failure, in ms. */
  baseMs: number;
  /** Longest wait, in ms. */
  maxMs: number;
}

/**
 * The wait before the next connect after `failures` (≥ 1) failures in a row:
 * d = min(maxMs, baseMs · 2^(failures − 1)). With `random` (a draw in [0, 1)) it is a draw in
 * [d/2, d) instead ("equal jitter"), so that many processes do not reconnect to a restarted
 * server at the same instant: never 0, never above `maxMs`. 0 failures: no wait.
 */
export function reconnectDelayMs(
  failures: number,
  { baseMs, maxMs }: ReconnectBackoff,
  random?: () => number,
): number {
  if (failures < 1) return 0;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
  if (random === undefined) return ceiling;
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * draw);
}

/** What a failed connect leaves behind: the failure count, the earliest retry and its error. */
export interface ConnectFailures {
  /** Consecutive connection failures since the connection last worked. */
  failures: number;
  /** No reconnect before this (`performance.now()` ms). */
  retryAt: number;
  /** The last failure, as an attempt error. */
  lastError: string;
}

/** Counts one more failure in `state` and moves its `retryAt` past the back-off wait. */
export function recordConnectFailure(
  state: ConnectFailures,
  error: string,
  backoff: ReconnectBackoff,
  random?: () => number,
): void {
  state.failures += 1;
  state.lastError = error;
  state.retryAt = performance.now() + reconnectDelayMs(state.failures, backoff, random);
}

/** How to open, check and describe the connections of one slot. */
export interface SlotConnector<T> {
  /** Opens a new connection. */
  open(): Promise<T>;
  /** Whether an opened connection can still be used (false: the next send reconnects at once). */
  usable(connection: T): boolean;
  /** What a failed connect threw, as an attempt error (never a password). */
  describe(error: unknown): string;
}

export interface ConnectionSlots<T> {
  /**
   * The usable connection of `key`, opening one when there is none. Rejects with an Error
   * whose message is the attempt error: at once (with the last error) while backing off.
   */
  connect(key: string, connector: SlotConnector<T>): Promise<T>;
  /** The connection of `key` worked: the next failure backs off from the start again. */
  succeeded(key: string): void;
  /** Forgets every slot, returning their connections (some may still be opening or rejected). */
  removeAll(): Promise<T>[];
}

interface Slot<T> extends ConnectFailures {
  connection: Promise<T> | null;
}

export function createConnectionSlots<T>(backoff: ReconnectBackoff): ConnectionSlots<T> {
  const slots = new Map<string, Slot<T>>();

  async function connect(key: string, connector: SlotConnector<T>): Promise<T> {
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = { connection: null, failures: 0, retryAt: 0, lastError: "" };
      slots.set(key, slot);
    }
    const current = slot.connection;
    if (current !== null) {
      let connection: T;
      try {
        connection = await current;
      } catch (error) {
        throw new Error(connector.describe(error));
      }
      if (connector.usable(connection)) return connection;
      // The next send after a break reconnects at once; only failed connects back off.
      if (slot.connection === current) slot.connection = null;
    }
    if (slot.connection === null) {
      if (performance.now() < slot.retryAt) throw new Error(slot.lastError);
      const owner = slot;
      const opening = connector.open();
      slot.connection = opening;
      opening.catch((error: unknown) => {
        // A failed connect clears its own slot entry only (a newer one may have replaced it).
        if (owner.connection === opening) {
          owner.connection = null;
          recordConnectFailure(owner, connector.describe(error), backoff);
        }
      });
    }
    try {
      return await slot.connection;
    } catch (error) {
      throw new Error(connector.describe(error));
    }
  }

  return {
    connect,
    succeeded(key) {
      const slot = slots.get(key);
      if (slot !== undefined) slot.failures = 0;
    },
    removeAll() {
      const connections = [...slots.values()]
        .map((slot) => slot.connection)
        .filter((connection) => connection !== null);
      slots.clear();
      return connections;
    },
  };
}
