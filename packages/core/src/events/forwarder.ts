// The outbox forwarder: relays events stored through `publish` to a bus, in commit order, at
// least once, resuming from a durable checkpoint after a restart or a crash.

import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { coerceError, HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { envelopeToMessage } from "../bus/envelopeCodec.js";
import type { BusPublisher } from "../bus/port.js";
import { type SubjectOptions, subjectFor } from "../bus/subject.js";
import type { EventEnvelope } from "../core/envelope.js";
import type { CheckpointStore, EventStore } from "../store/ports.js";

export interface ForwarderOptions {
  store: EventStore & CheckpointStore;
  publisher: BusPublisher;
  /** Checkpoint name; one forwarder per name and bus. Default `"forwarder"`. */
  name?: string;
  /** Events read (and checkpointed) at a time; default 100. */
  batchSize?: number;
  /** Wait between polls when the outbox is drained; default 500 ms. */
  pollIntervalMs?: number;
  /** Longest wait after repeated failures (the wait doubles from pollIntervalMs); default 30 s. */
  maxBackoffMs?: number;
  /** Subject per event; default subjectFor(envelope, { prefix: subjectPrefix }). */
  subject?: (envelope: EventEnvelope) => string;
  /** Prefix for the default subjects; default `"herald"`. */
  subjectPrefix?: SubjectOptions["prefix"];
  clock?: Clock;
  /** A failed run (store or bus); the loop keeps going. Must not throw. */
  onError?: (error: HeraldError) => void;
}

export interface ForwardResult {
  /** Events the bus accepted in this run, duplicates included. */
  published: number;
  /** Of those, how many the bus reported as already stored (re-sends after a crash). */
  duplicates: number;
  /** The checkpoint saved at the end of the run (unchanged when nothing was read). */
  checkpoint: string | undefined;
}

export interface ForwarderStatus {
  running: boolean;
  published: number;
  duplicates: number;
  checkpoint: string | undefined;
  /** Clock time (ms) of the last run that finished without error. */
  lastSuccessAt: number | undefined;
  lastError: HeraldError | undefined;
}

export interface Forwarder {
  /**
   * Publishes one batch: the events after the saved checkpoint, in order, each awaited until
   * the bus acked it, then saves the checkpoint. Rejects when the store or the bus fails,
   * after saving the checkpoint of the events already acked. With a publisher that has
   * `publishBatch`, the batch goes out in one call and a failure saves no checkpoint: the next
   * run sends the whole batch again.
   */
  runOnce(): Promise<ForwardResult>;
  /** Starts the polling loop (no-op when running). */
  start(): void;
  /** Stops the loop after the batch in flight is published and checkpointed. */
  stop(): Promise<void>;
  status(): ForwarderStatus;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new HeraldError("config.invalid", `${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Checkpointing is per batch: one checkpoint write per `batchSize` events instead of one per
 * event. A crash between a publish and the checkpoint re-publishes at most one batch on
 * restart; JetStream drops those re-sends because each message's `Nats-Msg-Id` is the event
 * id and the stream's duplicate window (default 2 h) outlasts any ordinary restart. A failed
 * publish saves the checkpoint of the events already acked, so ordinary errors re-send nothing.
 */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const {
    store,
    publisher,
    name = "forwarder",
    clock = systemClock,
    onError,
    subjectPrefix,
  } = options;
  const batchSize = positiveInteger(options.batchSize ?? 100, "batchSize");
  const pollIntervalMs = Math.max(0, options.pollIntervalMs ?? 500);
  const maxBackoffMs = Math.max(pollIntervalMs, options.maxBackoffMs ?? 30_000);
  const subject =
    options.subject ??
    ((envelope: EventEnvelope) => subjectFor(envelope, { prefix: subjectPrefix }));

  const status: ForwarderStatus = {
    running: false,
    published: 0,
    duplicates: 0,
    checkpoint: undefined,
    lastSuccessAt: undefined,
    lastError: undefined,
  };
  // Runs never overlap (a manual runOnce during the loop waits its turn): two concurrent runs
  // would publish the same batch twice and could save checkpoints out of order.
  let queue: Promise<unknown> = Promise.resolve();

  async function forward(): Promise<ForwardResult> {
    const after = await store.getCheckpoint(name);
    const { events, checkpoint: readTo } = await store.readOutbox({ after, limit: batchSize });
    let published = 0;
    let duplicates = 0;
    let acked: string | undefined;
    const toMessage = (envelope: EventEnvelope) =>
      envelopeToMessage(envelope, { subject: subject(envelope) });
    if (publisher.publishBatch !== undefined && events.length > 0) {
      // Batch mode: one call for the whole read batch. It either confirms every message or
      // fails as a whole, so a failure saves no checkpoint and the next run re-sends the batch.
      const acks = await publisher.publishBatch(events.map((event) => toMessage(event.envelope)));
      published = events.length;
      duplicates = acks.filter((ack) => ack.duplicate).length;
      status.published += published;
      status.duplicates += duplicates;
      acked = events[events.length - 1]?.checkpoint;
    } else {
      try {
        for (const event of events) {
          const ack = await publisher.publish(toMessage(event.envelope));
          published++;
          if (ack.duplicate) duplicates++;
          acked = event.checkpoint;
        }
      } catch (error) {
        // Best effort: if this save fails too, the next run re-sends the acked events and the
        // bus's msg-id dedupe drops them. The publish error is the one worth reporting.
        if (acked !== undefined) {
          await store.saveCheckpoint(name, acked).then(
            () => {
              status.checkpoint = acked;
            },
            () => {},
          );
        }
        throw error;
      } finally {
        status.published += published;
        status.duplicates += duplicates;
      }
    }
    // readTo may lie past the last outbox event (plain appends skipped): saving it spares the
    // next read from scanning them again. The store guarantees it never passes an event that
    // could still become visible.
    const checkpoint = readTo ?? acked ?? after;
    if (checkpoint !== undefined && checkpoint !== after) {
      await store.saveCheckpoint(name, checkpoint);
    }
    status.checkpoint = checkpoint;
    return { published, duplicates, checkpoint };
  }

  function runOnce(): Promise<ForwardResult> {
    const run = queue.then(forward);
    queue = run.catch(() => {});
    return run.then(
      (result) => {
        status.lastSuccessAt = clock.now();
        status.lastError = undefined;
        return result;
      },
      (error: unknown) => {
        const failure = coerceError(error, "bus.unavailable");
        status.lastError = failure;
        throw failure;
      },
    );
  }

  let loop: Promise<void> | undefined;
  let stopping = false;
  let interrupt: () => void = () => {};

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      // stop() may have come while a run was in flight: do not sleep through it.
      if (stopping) return resolve();
      const timer = setTimeout(resolve, ms);
      interrupt = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function poll(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        const result = await runOnce();
        failures = 0;
        // A full batch means more is probably waiting: go on without sleeping.
        if (result.published === batchSize) continue;
        await pause(pollIntervalMs);
      } catch (error) {
        failures++;
        try {
          onError?.(coerceError(error));
        } catch {
          // onError must not stop the loop.
        }
        await pause(Math.min(maxBackoffMs, Math.max(pollIntervalMs, 1) * 2 ** (failures - 1)));
      }
    }
  }

  return {
    runOnce,
    start() {
      if (loop !== undefined) return;
      stopping = false;
      status.running = true;
      loop = poll().finally(() => {
        status.running = false;
        loop = undefined;
      });
    },
    async stop() {
      stopping = true;
      interrupt();
      await loop;
    },
    status: () => ({ ...status }),
  };
}
