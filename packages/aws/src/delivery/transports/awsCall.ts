// What the SQS and EventBridge transports share: one SDK client per region, created on first
// use and destroyed on close, and one SDK call bounded by the attempt's deadline, its outcome
// as a value (a timeout, the SDK's error, or the answer) so each transport classifies it.
import { withDeadline } from "@heraldjs/core/internal/delivery/transports/attemptResult.js";

export interface RegionalClients<C> {
  /** The client of `region` (undefined: the configured region), created on first use. */
  get(region: string | undefined): C;
  /** Destroys every client made so far. */
  destroyAll(): void;
}

export function regionalClients<C extends { destroy(): void }>(
  create: (region: string | undefined) => C,
): RegionalClients<C> {
  const clients = new Map<string, C>();
  return {
    get(region) {
      const key = region ?? "";
      let client = clients.get(key);
      if (client === undefined) {
        client = create(region);
        clients.set(key, client);
      }
      return client;
    },
    destroyAll() {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  };
}

export type CallOutcome<T> =
  | { kind: "timeout" }
  | { kind: "error"; error: unknown }
  | { kind: "answer"; output: T };

/** Runs `call` with an abort signal that fires after `timeoutMs`. */
export async function callBeforeDeadline<T>(
  call: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
): Promise<CallOutcome<T>> {
  const outcome = await withDeadline(async (signal): Promise<CallOutcome<T>> => {
    try {
      return { kind: "answer", output: await call(signal) };
    } catch (error) {
      return { kind: "error", error };
    }
  }, timeoutMs);
  return outcome.timedOut ? { kind: "timeout" } : outcome.value;
}
