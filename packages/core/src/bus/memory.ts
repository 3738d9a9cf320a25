// In-process bus with JetStream's semantics — a stored stream, dedupe by message id within a
// window, durable consumers with ack / nak-with-delay / terminate — for tests and single-process
// setups. Nothing survives the process.
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { DEFAULT_DUPLICATE_WINDOW_MS } from "./duplicateWindow.js";
import type {
  BusConsumer,
  BusMessage,
  BusPublisher,
  BusSubscription,
  PublishAck,
  SubscribeOptions,
} from "./port.js";
import { checkSubscribeOptions, DEFAULT_MAX_DELIVER, settleDelivery } from "./settle.js";
import { subjectMatches } from "./subjectMatch.js";

export interface MemoryBusOptions {
  /** Re-sends of an id within this window are acked as duplicates, not stored; default 2 h. */
  duplicateWindowMs?: number;
  /** Time for the duplicate window (redelivery delays use real timers). */
  clock?: Clock;
}

export interface StoredBusMessage {
  sequence: number;
  message: BusMessage;
  storedAt: number;
}

export interface MemoryBus {
  publisher: BusPublisher;
  consumer: BusConsumer;
  /** Every stored message in order (duplicates were never stored). */
  messages(): StoredBusMessage[];
  /** Stops every subscription; publishing afterwards fails. */
  close(): Promise<void>;
}

interface Redelivery {
  sequence: number;
  dueAt: number;
}

/** A durable consumer's state: shared by every subscription to it, kept across restarts. */
interface Durable {
  filterSubjects: readonly string[];
  /** Next stream sequence never delivered to this durable. */
  next: number;
  deliveries: Map<number, number>;
  redeliveries: Redelivery[];
  wake: Set<() => void>;
}

const copy = (message: BusMessage): BusMessage => ({
  ...message,
  data: message.data.slice(),
  headers: { ...message.headers },
});

export function createMemoryBus({
  duplicateWindowMs = DEFAULT_DUPLICATE_WINDOW_MS,
  clock = systemClock,
}: MemoryBusOptions = {}): MemoryBus {
  const log: StoredBusMessage[] = [];
  const seen = new Map<string, StoredBusMessage>();
  const durables = new Map<string, Durable>();
  const subscriptions = new Set<BusSubscription>();
  let closed = false;

  function wakeAll(): void {
    for (const durable of durables.values()) for (const wake of durable.wake) wake();
  }

  function matches(durable: Durable, subject: string): boolean {
    return (
      durable.filterSubjects.length === 0 ||
      durable.filterSubjects.some((filter) => subjectMatches(filter, subject))
    );
  }

  /** The next delivery for `durable`, taken off its queue, or the time to look again. */
  function take(durable: Durable): { sequence: number } | { retryAt: number | undefined } {
    const now = Date.now();
    const due = durable.redeliveries.findIndex((entry) => entry.dueAt <= now);
    if (due !== -1) return { sequence: durable.redeliveries.splice(due, 1)[0]!.sequence };
    while (durable.next <= log.length) {
      const stored = log[durable.next - 1]!;
      durable.next++;
      if (matches(durable, stored.message.subject)) return { sequence: stored.sequence };
    }
    const dueAts = durable.redeliveries.map((entry) => entry.dueAt);
    return { retryAt: dueAts.length === 0 ? undefined : Math.min(...dueAts) };
  }

  const publisher: BusPublisher = {
    async publish(message): Promise<PublishAck> {
      if (closed) throw new HeraldError("bus.unavailable", "The memory bus is closed");
      const now = clock.now();
      const earlier = seen.get(message.id);
      if (earlier !== undefined && now - earlier.storedAt < duplicateWindowMs) {
        return { duplicate: true, sequence: earlier.sequence };
      }
      const stored = { sequence: log.length + 1, message: copy(message), storedAt: now };
      log.push(stored);
      seen.set(message.id, stored);
      wakeAll();
      return { duplicate: false, sequence: stored.sequence };
    },
    async close() {
      // The bus outlives its publishers, as a broker does.
    },
  };

  const consumer: BusConsumer = {
    async subscribe(options: SubscribeOptions): Promise<BusSubscription> {
      checkSubscribeOptions(options);
      if (closed) throw new HeraldError("bus.unavailable", "The memory bus is closed");
      const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
      let durable = durables.get(options.durable);
      if (durable === undefined) {
        durable = {
          filterSubjects: [...(options.filterSubjects ?? [])],
          next: 1,
          deliveries: new Map(),
          redeliveries: [],
          wake: new Set(),
        };
        durables.set(options.durable, durable);
      } else {
        // As JetStream updates a durable's filter when it is subscribed to again.
        durable.filterSubjects = [...(options.filterSubjects ?? [])];
      }
      const state = durable;
      let stopping = false;
      let wakeUp: () => void = () => {};
      const wake = () => wakeUp();
      state.wake.add(wake);

      const sleep = (until: number | undefined) =>
        new Promise<void>((resolve) => {
          const timer =
            until === undefined ? undefined : setTimeout(resolve, Math.max(0, until - Date.now()));
          wakeUp = () => {
            if (timer !== undefined) clearTimeout(timer);
            resolve();
          };
        });

      async function run(): Promise<void> {
        while (!stopping) {
          const next = take(state);
          if ("retryAt" in next) {
            await sleep(next.retryAt);
            continue;
          }
          const { sequence } = next;
          const deliveryCount = (state.deliveries.get(sequence) ?? 0) + 1;
          state.deliveries.set(sequence, deliveryCount);
          const context = { deliveryCount, redelivered: deliveryCount > 1, maxDeliver };
          await settleDelivery(copy(log[sequence - 1]!.message), context, options, {
            ack: () => {
              state.deliveries.delete(sequence);
            },
            nak: (delayMs) => {
              state.redeliveries.push({ sequence, dueAt: Date.now() + delayMs });
              // Another subscription to this durable may be asleep with nothing to do.
              for (const other of state.wake) other();
            },
            term: () => {
              state.deliveries.delete(sequence);
            },
          });
        }
      }

      const closedPromise = run().finally(() => {
        state.wake.delete(wake);
        subscriptions.delete(subscription);
      });
      const subscription: BusSubscription = {
        async stop() {
          stopping = true;
          wake();
          await closedPromise;
        },
        closed: closedPromise,
      };
      subscriptions.add(subscription);
      return subscription;
    },
  };

  return {
    publisher,
    consumer,
    messages: () => log.map((stored) => ({ ...stored, message: copy(stored.message) })),
    async close() {
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
    },
  };
}
