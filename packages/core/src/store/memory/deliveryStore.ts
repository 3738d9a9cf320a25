// In-memory DeliveryStore: the reference implementation every SQL adapter is tested against.
// Each method runs to completion on one thread, which makes it atomic; the state is per process.
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { seenEventType } from "../../model/catalogRecords.js";
import { positiveInteger } from "../../model/check.js";
import { OPEN_DELIVERY_STATUSES, RECOVERABLE_DELIVERY_STATUSES } from "../../model/constants.js";
import { deliveryIdRange, prefixLimit, uniqueMatch } from "../../model/idPrefix.js";
import { isLive, pruneOptions } from "../../model/inboundKeys.js";
import {
  assertLease,
  attempted,
  claimed,
  claimSettings,
  completed,
  deadLettered,
  deliveryNotFound,
  endpointNotFound,
  healthAfter,
  isDue,
  leaseExtended,
  released,
  replayed,
  retryScheduled,
} from "../../model/lifecycle.js";
import {
  compareKeyset,
  compareText,
  deliveryQuery,
  isAfter,
  toPage,
} from "../../model/listQuery.js";
import {
  assertEndpoints,
  batchResults,
  newBatchRecords,
  planBatch,
} from "../../model/messageBatch.js";
import { attemptRecord } from "../../model/messageRecords.js";
import { emptyDepth, queueStats } from "../../model/stats.js";
import { isoNow, nowMs, toIso } from "../../model/time.js";
import type {
  AttemptInput,
  ClaimedDelivery,
  CreateMessageInput,
  CreateMessageResult,
  DeliveryRecord,
  DeliveryStore,
  DeliveryStoreOptions,
  MessageWithDeliveries,
  TimeInput,
  WakeUp,
} from "../deliveryPorts.js";
import { copy, emptyMemoryDeliveryState, memoryCatalog } from "./deliveryCatalog.js";
import { memoryNamedSecrets } from "./namedSecrets.js";
import { memoryNatsTokens } from "./natsTokens.js";
import { memoryStreams } from "./streams.js";

export function createMemoryDeliveryStore(options: DeliveryStoreOptions = {}): DeliveryStore {
  const clock: Clock = options.clock ?? systemClock;
  const state = emptyMemoryDeliveryState();

  const sortedDeliveries = (rows: DeliveryRecord[]) =>
    rows.sort((a, b) => compareKeyset(a, b, "oldest"));

  function messageWithDeliveries(id: string): MessageWithDeliveries | undefined {
    const message = state.messages.get(id);
    if (message === undefined) return undefined;
    const deliveries = [...state.deliveries.values()].filter((d) => d.messageId === id);
    const filtered = state.filtered.get(id) ?? [];
    return copy({ message, deliveries: sortedDeliveries(deliveries), filtered });
  }

  function idsByPrefix(prefix: string, limit?: number): string[] {
    const max = prefixLimit(limit);
    const range = deliveryIdRange(prefix);
    if (range === null) return [];
    return [...state.deliveries.keys()]
      .filter((id) => id >= range.from && id < range.to)
      .sort(compareText)
      .slice(0, max);
  }

  /** Oldest unfinished delivery of each ordered endpoint: the only one it may be sent. */
  function orderedHeads(): Map<string, string> {
    const heads = new Map<string, DeliveryRecord>();
    for (const d of state.deliveries.values()) {
      if (!OPEN_DELIVERY_STATUSES.includes(d.status)) continue;
      if (state.endpoints.get(d.endpointId)?.ordered !== true) continue;
      const head = heads.get(d.endpointId);
      if (head === undefined || compareKeyset(d, head, "oldest") < 0) heads.set(d.endpointId, d);
    }
    return new Map([...heads].map(([endpointId, d]) => [endpointId, d.id]));
  }

  /** Runs a lease-guarded change: the row as `change` returns it is stored and returned. */
  function guarded(
    deliveryId: string,
    owner: string,
    now: TimeInput | undefined,
    change: (delivery: DeliveryRecord, nowIso: string) => DeliveryRecord,
    attempt?: AttemptInput,
  ): DeliveryRecord {
    const nowIso = isoNow(clock, now);
    const current = state.deliveries.get(deliveryId);
    assertLease(current, deliveryId, owner, nowIso);
    // Build everything before writing anything: a bad attempt must leave no trace.
    let next = current;
    let log: (() => void) | undefined;
    if (attempt !== undefined) {
      const previous = state.attempts.get(deliveryId) ?? [];
      const record = attemptRecord(attempt, deliveryId, previous.length + 1, clock);
      next = attempted(next, record, nowIso);
      log = () => {
        state.attempts.set(deliveryId, [...previous, record]);
        const endpoint = state.endpoints.get(current.endpointId);
        if (endpoint !== undefined) {
          Object.assign(endpoint, healthAfter(endpoint, record.succeeded, record.startedAt));
        }
      };
    }
    next = change(next, nowIso);
    log?.();
    state.deliveries.set(deliveryId, next);
    return next;
  }

  /** Workers of this process waiting for due deliveries (wakeUps): called after each such write. */
  const wakeListeners = new Set<(wakeUp: WakeUp) => void>();
  function wake(): void {
    for (const listener of wakeListeners) listener("claim");
  }

  /** The one write path of messages: createMessage is a batch of one. */
  async function createMessages(
    inputs: readonly CreateMessageInput[],
  ): Promise<CreateMessageResult[]> {
    const nowIso = isoNow(clock);
    const records = newBatchRecords(inputs, nowIso, clock);
    if (records.length === 0) return [];
    const plan = planBatch(records, nowIso, {
      idempotent: (tenant, key) => state.messageKeys.get(`${tenant}\0${key}`),
      inbound: (source, key) => state.inboundKeys.get(`${source}\0${key}`),
    });
    // Everything is checked before anything is written: a failed batch leaves no trace.
    assertEndpoints(plan, records.length, (id) => state.endpoints.has(id));
    for (const { records: created } of plan.created) {
      const { message, deliveries, filtered } = created;
      state.messages.set(message.id, message);
      if (filtered.length > 0) {
        const byEndpoint = [...filtered].sort((a, b) => compareText(a.endpointId, b.endpointId));
        state.filtered.set(message.id, byEndpoint);
      }
      if (message.idempotencyKey !== null) {
        state.messageKeys.set(`${message.tenant}\0${message.idempotencyKey}`, message.id);
      }
      for (const d of deliveries) state.deliveries.set(d.id, d);
    }
    for (const key of plan.keys) state.inboundKeys.set(`${key.source}\0${key.key}`, key);
    for (const { name, count } of plan.types) {
      state.eventTypes.set(name, seenEventType(state.eventTypes.get(name), name, count, nowIso));
    }
    if (plan.created.some(({ records: created }) => created.deliveries.length > 0)) wake();
    return copy(batchResults(records, plan, (id) => messageWithDeliveries(id)!));
  }

  return {
    ...memoryCatalog(state, clock, () => isoNow(clock)),
    ...memoryNamedSecrets(() => isoNow(clock)),
    ...memoryStreams(state.messages, clock),
    ...memoryNatsTokens(clock),

    createMessages,

    async createMessage(input) {
      return (await createMessages([input]))[0]!;
    },

    async getMessage(id) {
      return messageWithDeliveries(id);
    },

    async claimDueDeliveries(options) {
      const now = nowMs(clock, options.now);
      const nowIso = new Date(now).toISOString();
      const { owner, limit, leaseUntilIso } = claimSettings(options, now);
      const heads = orderedHeads();
      const due = [...state.deliveries.values()]
        .filter((d) => {
          const endpoint = state.endpoints.get(d.endpointId);
          if (endpoint === undefined || !endpoint.enabled || !isDue(d, nowIso)) return false;
          return !endpoint.ordered || heads.get(d.endpointId) === d.id;
        })
        .sort((a, b) => compareText(a.nextAttemptAt!, b.nextAttemptAt!) || compareText(a.id, b.id))
        .slice(0, limit);
      return due.map((d): ClaimedDelivery => {
        const next = claimed(d, owner, leaseUntilIso, nowIso);
        state.deliveries.set(d.id, next);
        return copy({
          delivery: next,
          message: state.messages.get(d.messageId)!,
          endpoint: state.endpoints.get(d.endpointId)!,
        });
      });
    },

    async extendLease({ deliveryId, owner, now, leaseMs }) {
      const until = nowMs(clock, now) + positiveInteger(leaseMs, "leaseMs", "delivery.invalid");
      const untilIso = new Date(until).toISOString();
      return copy(
        guarded(deliveryId, owner, now, (d, nowIso) => leaseExtended(d, untilIso, nowIso)),
      );
    },

    async recordAttempt({ deliveryId, owner, now, attempt }) {
      const delivery = guarded(deliveryId, owner, now, (d) => d, attempt);
      const attempts = state.attempts.get(deliveryId)!;
      const endpoint = state.endpoints.get(delivery.endpointId);
      return copy({
        attempt: attempts[attempts.length - 1]!,
        delivery,
        endpointHealth: {
          consecutiveFailures: endpoint?.consecutiveFailures ?? 0,
          failingSince: endpoint?.failingSince ?? null,
        },
      });
    },

    async completeDelivery({ deliveryId, owner, now, attempt }) {
      return copy(guarded(deliveryId, owner, now, completed, attempt));
    },

    async scheduleRetry({ deliveryId, owner, now, attempt, nextAttemptAt }) {
      const next = toIso(nextAttemptAt, "nextAttemptAt", "delivery.invalid");
      return copy(
        guarded(deliveryId, owner, now, (d, nowIso) => retryScheduled(d, next, nowIso), attempt),
      );
    },

    async deadLetter({ deliveryId, owner, now, attempt, reason }) {
      return copy(
        guarded(deliveryId, owner, now, (d, nowIso) => deadLettered(d, reason, nowIso), attempt),
      );
    },

    async releaseLease({ deliveryId, owner, now, nextAttemptAt }) {
      return copy(
        guarded(deliveryId, owner, now, (d, nowIso) =>
          released(
            d,
            nextAttemptAt === undefined
              ? nowIso
              : toIso(nextAttemptAt, "nextAttemptAt", "delivery.invalid"),
            nowIso,
          ),
        ),
      );
    },

    async getDelivery(id) {
      const delivery = state.deliveries.get(id);
      if (delivery === undefined) return undefined;
      return copy({ delivery, attempts: state.attempts.get(id) ?? [] });
    },

    async listDeliveries(options) {
      const query = deliveryQuery(options);
      const rows = [...state.deliveries.values()]
        .filter(
          (d) =>
            (query.statuses === null || query.statuses.includes(d.status)) &&
            (query.endpointId === null || d.endpointId === query.endpointId) &&
            (query.messageId === null || d.messageId === query.messageId) &&
            (query.createdSince === null || d.createdAt >= query.createdSince) &&
            isAfter(d, query.after, query.order),
        )
        .sort((a, b) => compareKeyset(a, b, query.order))
        .slice(0, query.limit + 1);
      return toPage("deliveries", copy(rows), query);
    },

    async findDeliveriesByPrefix(prefix, limit) {
      return idsByPrefix(prefix, limit);
    },

    async resolveDeliveryId(idOrPrefix) {
      return uniqueMatch(idOrPrefix, idsByPrefix(idOrPrefix));
    },

    async replayDelivery(id, options = {}) {
      const delivery = state.deliveries.get(id);
      if (delivery === undefined) throw deliveryNotFound(id);
      const next = replayed(delivery, isoNow(clock, options.now));
      state.deliveries.set(id, next);
      wake();
      return copy(next);
    },

    async recoverEndpoint({ endpointId, since, now }) {
      if (!state.endpoints.has(endpointId)) throw endpointNotFound(endpointId);
      const sinceIso = toIso(since, "since", "query.invalid");
      const nowIso = isoNow(clock, now);
      let replayedCount = 0;
      for (const d of state.deliveries.values()) {
        if (d.endpointId !== endpointId || d.createdAt < sinceIso) continue;
        if (!RECOVERABLE_DELIVERY_STATUSES.includes(d.status)) continue;
        state.deliveries.set(d.id, replayed(d, nowIso));
        replayedCount++;
      }
      if (replayedCount > 0) wake();
      return { replayed: replayedCount };
    },

    async wakeUps(listener) {
      wakeListeners.add(listener);
      return async () => {
        wakeListeners.delete(listener);
      };
    },

    async deliveryStats(options = {}) {
      const now = nowMs(clock, options.now);
      const nowIso = new Date(now).toISOString();
      const depth = emptyDepth();
      let oldestDueAt: string | null = null;
      for (const d of state.deliveries.values()) {
        if (d.status !== "delivered") depth[d.status]++;
        if (!isDue(d, nowIso) || state.endpoints.get(d.endpointId)?.enabled !== true) continue;
        if (oldestDueAt === null || d.nextAttemptAt! < oldestDueAt) oldestDueAt = d.nextAttemptAt;
      }
      return queueStats(depth, oldestDueAt === null ? null : Date.parse(oldestDueAt), now);
    },

    async pruneInboundKeys(options) {
      const { now, limit } = pruneOptions(options);
      const nowIso = isoNow(clock, now);
      let pruned = 0;
      for (const [id, key] of state.inboundKeys) {
        if (pruned >= limit) break;
        if (isLive(key, nowIso)) continue;
        state.inboundKeys.delete(id);
        pruned++;
      }
      return pruned;
    },

    async ping() {
      // Always up: the state lives in this process.
    },

    async probeWrite() {
      // Always takes writes: the state lives in this process's memory.
    },

    async close() {
      // Nothing to release: the state goes with the store object.
    },
  };
}
