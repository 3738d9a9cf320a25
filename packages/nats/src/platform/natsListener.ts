// The NATS listener (`herald nats listen`): agent events and messages on configured subjects,
// read from a JetStream stream through a durable pull consumer, become Herald messages through a
// Dispatcher, so they fan out to the tenant's endpoints like inbound webhooks. Each message is
// acked only after its dispatch committed, under an idempotency key stable across redeliveries
// (`Nats-Msg-Id`, else `nats:<stream>:<sequence>`): a crash between commit and ack creates
// nothing twice. What it cannot map is stored as `nats.unmapped`, never dropped; a store that
// is unavailable gets the message nak'ed with a delay (retried later), never acked.

import { createHash } from "node:crypto";
import type { Dispatcher } from "@heraldjs/core/internal/delivery/dispatcher.js";
import { DEFAULT_TENANT, MAX_NAME_LENGTH } from "@heraldjs/core/internal/model/constants.js";
import { coerceError, HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import { textProblem } from "@heraldjs/webhooks/internal/core/text.js";
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { ensureDurable, versionAtLeast } from "../bus/nats/consumer.js";
import {
  loadNats,
  type NatsConnection,
  type NatsConnectionOptions,
  openConnection,
} from "../bus/nats/load.js";
import { ensureNatsStream } from "../bus/nats/stream.js";
import {
  AGENT_EVENT_SUBJECT,
  type AgentRef,
  isMessageType,
  type MappingResult,
  mapNatsMessage,
  type NatsSubjectRule,
  UNMAPPED_TYPE,
  type UnmappedReason,
  unmappedPayload,
} from "./natsListenerMapping.js";

export const DEFAULT_LISTEN_STREAM = "HERALD_LISTEN";
export const DEFAULT_LISTEN_DURABLE = "herald-listen";
export const DEFAULT_LISTEN_BATCH = 100;
export const DEFAULT_LISTEN_CONCURRENCY = 16;
export const DEFAULT_LISTEN_ACK_WAIT_MS = 30_000;
export const DEFAULT_LISTEN_RETRY_DELAY_MS = 1000;
export const MAX_LISTEN_RETRY_DELAY_MS = 30_000;

/**
 * Dispatch refusals that no retry can cure: the message is stored as `nats.unmapped` with the
 * code as its reason instead. Any other error (`store.unavailable`…) is retried.
 */
const REFUSALS: ReadonlySet<string> = new Set([
  "message.invalid",
  "payload.invalid",
  "event_type.invalid",
  "event_type.unknown",
  "text.invalid",
]);

/** A durable name: what JetStream accepts (no spaces, `.`, `*`, `>`, `/`, `\`). */
const DURABLE_PATTERN = /^[^\s.*>/\\]{1,255}$/;

export interface NatsListenerOptions extends NatsConnectionOptions {
  /** Stores each message (and its deliveries); `createDispatcher({ store })`. */
  dispatcher: Pick<Dispatcher, "dispatch">;
  /**
   * The subjects read and how each maps (first match wins); default
   * `[{ subject: "agent.*.*.evt" }]`: agent events, typed by their body.
   */
  subjects?: readonly NatsSubjectRule[];
  /** The tenant of an agent's events; default: `default` for every agent. May throw (retried). */
  resolveTenant?: (agent: AgentRef) => string | Promise<string>;
  /** The JetStream stream read; default `HERALD_LISTEN`. */
  stream?: string;
  /**
   * Create the stream when missing, capturing the subjects (default true); an existing one
   * gets the subjects it lacks added. False: use an operator-made stream as it is.
   */
  createStream?: boolean;
  /** The durable consumer's name; default `herald-listen`. Processes sharing it share the load. */
  durable?: string;
  /** Messages pulled from the server at a time; default 100. */
  batchSize?: number;
  /** Dispatches running at once; default 16. */
  concurrency?: number;
  /** How long the server waits for an ack before redelivering (a crash); default 30 s. */
  ackWaitMs?: number;
  /** First delay of a nak'ed message; doubles per delivery, at most 30 s. Default 1 s. */
  retryDelayMs?: number;
  /** Each message's outcome, as it is settled (the CLI logs them). */
  onMessage?: (event: NatsListenerEvent) => void;
  /** Problems of the subscription itself (it is re-established after a delay). */
  onError?: (error: HeraldError) => void;
}

/**
 * What became of one NATS message: `handled` (a Herald message was stored, or already was:
 * `duplicate`), `unmapped` (stored as `nats.unmapped`), `retry` (nak'ed with `delayMs`: the store
 * could not take it now), `dropped` (even `nats.unmapped` was refused: terminated, logged).
 */
export type NatsListenerEvent =
  | {
      outcome: "handled";
      subject: string;
      sequence: number;
      messageId: string;
      type: string;
      tenant: string;
      duplicate: boolean;
    }
  | {
      outcome: "unmapped";
      subject: string;
      sequence: number;
      messageId: string;
      tenant: string;
      reason: UnmappedReason;
      detail: string;
      duplicate: boolean;
    }
  | {
      outcome: "retry";
      subject: string;
      sequence: number;
      deliveryCount: number;
      delayMs: number;
      error: HeraldError;
    }
  | { outcome: "dropped"; subject: string; sequence: number; error: HeraldError };

export interface NatsListenerStats {
  /** Mapped messages stored (duplicates included). */
  handled: number;
  /** Of `handled` and `unmapped`: those whose idempotency key was already stored. */
  duplicates: number;
  /** Stored as `nats.unmapped`. */
  unmapped: number;
  /** Nak'ed for a retry or dropped. */
  failed: number;
}

export interface NatsListener {
  /** The stream and durable read. */
  readonly stream: string;
  readonly durable: string;
  /** Counts since start. */
  stats(): NatsListenerStats;
  /**
   * Graceful stop: pulls no more, settles the messages already pulled and in flight, then
   * drains the connection (unless it was borrowed). Idempotent.
   */
  stop(): Promise<void>;
  /** Resolves after stop(); rejects (`bus.unavailable`) when the connection closed for good. */
  readonly done: Promise<void>;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new HeraldError("config.invalid", `${name} must be a whole number ≥ 1, got ${value}`, {
      details: { field: name },
    });
  }
  return resolved;
}

function checkRules(rules: readonly NatsSubjectRule[]): void {
  if (rules.length === 0) {
    throw new HeraldError("config.invalid", "the listener needs at least one subject");
  }
  for (const [index, rule] of rules.entries()) {
    const field = `subjects[${index}]`;
    if (typeof rule.subject !== "string" || !/^\S{1,1024}$/.test(rule.subject)) {
      throw new HeraldError("config.invalid", `${field}.subject must be a NATS subject`, {
        details: { field: `${field}.subject` },
      });
    }
    if (rule.type !== undefined && !isMessageType(rule.type)) {
      throw new HeraldError(
        "config.invalid",
        `${field}.type must be a Herald type (dot-separated segments, no \`*\`)`,
        { details: { field: `${field}.type` } },
      );
    }
    if (rule.tenant !== undefined && (rule.tenant === "" || textProblem(rule.tenant))) {
      throw new HeraldError("config.invalid", `${field}.tenant must be a non-empty name`, {
        details: { field: `${field}.tenant` },
      });
    }
  }
}

/**
 * The idempotency key of a message: its `Nats-Msg-Id` (hashed when too long to store as a key),
 * else its place in the stream, which a redelivery keeps.
 */
export function listenIdempotencyKey(msg: Pick<JsMsg, "headers" | "info" | "seq">): string {
  const msgId = msg.headers?.get("Nats-Msg-Id") ?? "";
  if (msgId === "") return `nats:${msg.info.stream}:${msg.seq}`;
  if (msgId.length <= MAX_NAME_LENGTH && textProblem(msgId) === undefined) return msgId;
  return `nats-msg-id:sha256:${createHash("sha256").update(msgId, "utf8").digest("hex")}`;
}

/** Ensures the stream: created with the subjects, or an existing one given those it lacks. */
async function ensureStream(
  connection: NatsConnection,
  stream: string,
  subjects: readonly string[],
): Promise<void> {
  const state = await ensureNatsStream(connection, { stream, subjects });
  const missing = subjects.filter((subject) => !state.subjects.includes(subject));
  if (missing.length === 0) return;
  const { jetstream } = await loadNats();
  try {
    const jsm = await jetstream.jetstreamManager(connection);
    const info = await jsm.streams.info(stream);
    await jsm.streams.update(stream, {
      ...info.config,
      subjects: [...(info.config.subjects ?? []), ...missing],
    });
  } catch (error) {
    throw new HeraldError(
      "config.invalid",
      `JetStream stream ${stream} does not capture ${missing.join(", ")} and cannot be made to`,
      { cause: error, details: { stream, subjects: missing } },
    );
  }
}

/**
 * Connects (or borrows `connection`; a connection Herald opens reconnects without limit),
 * ensures the stream and the durable consumer, and starts handling messages. Rejects with
 * `config.invalid` (bad options, missing stream) or `bus.unavailable` (NATS unreachable).
 */
export async function startNatsListener(options: NatsListenerOptions): Promise<NatsListener> {
  const {
    dispatcher,
    subjects: rules = [{ subject: AGENT_EVENT_SUBJECT }],
    resolveTenant = () => DEFAULT_TENANT,
    stream = DEFAULT_LISTEN_STREAM,
    createStream = true,
    durable = DEFAULT_LISTEN_DURABLE,
    onMessage,
    onError,
  } = options;
  const batchSize = positive("batchSize", options.batchSize, DEFAULT_LISTEN_BATCH);
  const concurrency = positive("concurrency", options.concurrency, DEFAULT_LISTEN_CONCURRENCY);
  const ackWaitMs = positive("ackWaitMs", options.ackWaitMs, DEFAULT_LISTEN_ACK_WAIT_MS);
  const retryDelayMs = positive(
    "retryDelayMs",
    options.retryDelayMs,
    DEFAULT_LISTEN_RETRY_DELAY_MS,
  );
  checkRules(rules);
  if (!DURABLE_PATTERN.test(durable)) {
    throw new HeraldError("config.invalid", `durable ${JSON.stringify(durable)} is not a name`, {
      details: { field: "durable" },
    });
  }
  const subjects = [...new Set(rules.map((rule) => rule.subject))];
  const { jetstream, transport } = await loadNats();
  const opened = await openConnection({
    ...options,
    connectOptions: {
      name: "herald-listen",
      // Reconnect for as long as the listener runs (the client's default gives up after 10).
      maxReconnectAttempts: -1,
      ...options.connectOptions,
    },
  });
  const { connection } = opened;
  const counts: NatsListenerStats = { handled: 0, duplicates: 0, unmapped: 0, failed: 0 };

  const report = (error: unknown) => onError?.(coerceError(error, "bus.unavailable"));
  const emit = (event: NatsListenerEvent) => {
    try {
      onMessage?.(event);
    } catch {
      // A throwing observer must not change how the message is settled.
    }
  };

  try {
    if (createStream) await ensureStream(connection, stream, subjects);
    // One filter works on every server; several need NATS 2.10. Without a filter the consumer
    // reads the whole stream and what no rule lists is stored as unmapped (subject.unlisted).
    const filter =
      subjects.length === 1
        ? { filter_subject: subjects[0] }
        : versionAtLeast(connection.info?.version, [2, 10])
          ? { filter_subjects: subjects }
          : {};
    await ensureDurable(connection, stream, {
      durable_name: durable,
      ack_policy: jetstream.AckPolicy.Explicit,
      deliver_policy: jetstream.DeliverPolicy.All,
      ack_wait: transport.nanos(ackWaitMs),
      // Never given up on: a message is acked once stored, retried while the store is down.
      max_deliver: -1,
      max_ack_pending: Math.max(1000, batchSize * 10),
      ...filter,
    });
  } catch (error) {
    await opened.release();
    if (error instanceof HeraldError) throw error;
    throw new HeraldError("bus.unavailable", `Cannot set up ${stream}/${durable}`, {
      cause: error,
      details: { stream, durable },
    });
  }

  async function store(
    msg: JsMsg,
    mapping: MappingResult,
    tenant: string,
    key: string,
  ): Promise<Exclude<NatsListenerEvent, { outcome: "retry" }>> {
    const base = { subject: msg.subject, sequence: msg.seq };
    let reason: UnmappedReason;
    let detail: string;
    if (mapping.kind === "mapped") {
      try {
        const result = await dispatcher.dispatch({
          tenant,
          type: mapping.type,
          payload: mapping.payload,
          idempotencyKey: key,
        });
        return {
          ...base,
          outcome: "handled",
          messageId: result.messageId,
          type: mapping.type,
          tenant,
          duplicate: result.duplicate,
        };
      } catch (error) {
        const herald = coerceError(error);
        if (!REFUSALS.has(herald.code)) throw herald;
        reason = herald.code;
        detail = herald.message;
      }
    } else {
      reason = mapping.reason;
      detail = mapping.detail;
    }
    const payload: JsonObject = unmappedPayload(msg.subject, reason, msg.data);
    try {
      const result = await dispatcher.dispatch({
        tenant,
        type: UNMAPPED_TYPE,
        payload,
        idempotencyKey: key,
      });
      return {
        ...base,
        outcome: "unmapped",
        messageId: result.messageId,
        tenant,
        reason,
        detail,
        duplicate: result.duplicate,
      };
    } catch (error) {
      const herald = coerceError(error);
      if (!REFUSALS.has(herald.code)) throw herald;
      return { ...base, outcome: "dropped", error: herald };
    }
  }

  async function handle(msg: JsMsg): Promise<void> {
    // Keeps the server from redelivering to another process while a slow store runs.
    const heartbeat = setInterval(
      () => {
        try {
          msg.working();
        } catch {
          // The connection is closing: the ack (or its absence) settles the message.
        }
      },
      Math.max(1, ackWaitMs / 2),
    );
    try {
      const mapping = mapNatsMessage(rules, msg.subject, msg.data);
      const key = listenIdempotencyKey(msg);
      const tenant =
        mapping.agent === undefined
          ? (mapping.tenant ?? DEFAULT_TENANT)
          : await resolveTenant(mapping.agent);
      const event = await store(msg, mapping, tenant, key);
      if (event.outcome === "dropped") {
        // Nothing would ever store it: terminate it (no redelivery) and say so loudly.
        msg.term();
        counts.failed++;
      } else {
        // ackAck waits for the server's confirmation; a lost ack redelivers, and the
        // idempotency key makes the second dispatch a duplicate that creates nothing.
        const acked = await msg.ackAck().catch(() => false);
        if (!acked) {
          throw new HeraldError("bus.unavailable", "NATS did not confirm the ack", {
            details: { subject: msg.subject, sequence: msg.seq },
          });
        }
        if (event.outcome === "handled") counts.handled++;
        else counts.unmapped++;
        if (event.duplicate) counts.duplicates++;
      }
      emit(event);
    } catch (error) {
      const herald = coerceError(error, "store.unavailable");
      const deliveryCount = msg.info.deliveryCount;
      const delayMs = Math.min(retryDelayMs * 2 ** (deliveryCount - 1), MAX_LISTEN_RETRY_DELAY_MS);
      try {
        msg.nak(delayMs);
      } catch {
        // The connection is gone: the server redelivers after the ack wait anyway.
      }
      counts.failed++;
      emit({
        outcome: "retry",
        subject: msg.subject,
        sequence: msg.seq,
        deliveryCount,
        delayMs,
        error: herald,
      });
    } finally {
      clearInterval(heartbeat);
    }
  }

  let stopping = false;
  let wake: () => void = () => {};
  /** Waits `ms`, or less when stop() is called meanwhile. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  let messages: ConsumerMessages | undefined;
  const inFlight = new Set<Promise<void>>();

  async function consumeOnce(): Promise<void> {
    const js = jetstream.jetstream(connection);
    const consumer = await js.consumers.get(stream, durable);
    messages = await consumer.consume({ max_messages: batchSize });
    if (stopping) await messages.close();
    // After close() the iterator still yields what was pulled ahead, then ends: those are
    // handled too (a drain).
    for await (const msg of messages) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      const task: Promise<void> = handle(msg).finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
  }

  const done = (async () => {
    let delay = 0;
    while (!stopping && !connection.isClosed()) {
      try {
        await consumeOnce();
        // The messages ended without a stop (the consumer went away): start again shortly.
        delay = 500;
      } catch (error) {
        report(error);
        delay = Math.min(Math.max(delay * 2, 500), MAX_LISTEN_RETRY_DELAY_MS);
      }
      await Promise.all(inFlight);
      if (!stopping && delay > 0) await pause(delay);
    }
    await Promise.all(inFlight);
    const lost = !stopping;
    await opened.release();
    if (lost) {
      throw new HeraldError("bus.unavailable", "The NATS connection closed", {
        details: { stream, durable },
      });
    }
  })();
  // A caller that never awaits `done` must not see an unhandled rejection.
  done.catch(() => {});

  let stopped: Promise<void> | undefined;
  return {
    stream,
    durable,
    stats: () => ({ ...counts }),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        wake();
        await messages?.close();
        await done.catch(() => {});
      })();
      return stopped;
    },
    done,
  };
}
