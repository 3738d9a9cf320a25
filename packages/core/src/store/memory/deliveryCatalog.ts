// In-memory event types, sources and endpoints: the catalogue half of the memory DeliveryStore.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import {
  eventTypeRecord,
  newEndpointRecord,
  patchedEndpointRecord,
  sightingsOf,
  sourceRecord,
  toggledEndpointRecord,
} from "../../model/catalogRecords.js";
import type { InboundKeyRow } from "../../model/inboundKeys.js";
import { endpointAlreadyExists, endpointNotFound } from "../../model/lifecycle.js";
import { compareKeyset, endpointQuery, isAfter, toPage } from "../../model/listQuery.js";
import type {
  AttemptRecord,
  DeliveryCatalog,
  DeliveryRecord,
  EndpointRecord,
  EventTypeInput,
  EventTypeRecord,
  FilteredRecord,
  MessageRecord,
  SourceInput,
  SourceRecord,
} from "../deliveryPorts.js";

/** Everything the memory store holds; records are never handed out without a copy. */
interface MemoryDeliveryState {
  eventTypes: Map<string, EventTypeRecord>;
  sources: Map<string, SourceRecord>;
  endpoints: Map<string, EndpointRecord>;
  messages: Map<string, MessageRecord>;
  /** `tenant \0 idempotencyKey` → message id: the unique constraint. */
  messageKeys: Map<string, string>;
  /** `source \0 key` → the inbound dedupe key (live or expired until pruned). */
  inboundKeys: Map<string, InboundKeyRow>;
  deliveries: Map<string, DeliveryRecord>;
  attempts: Map<string, AttemptRecord[]>;
  /** Message id → the endpoints its filter refused, by endpoint id. */
  filtered: Map<string, FilteredRecord[]>;
}

export function emptyMemoryDeliveryState(): MemoryDeliveryState {
  return {
    eventTypes: new Map(),
    sources: new Map(),
    endpoints: new Map(),
    messages: new Map(),
    messageKeys: new Map(),
    inboundKeys: new Map(),
    deliveries: new Map(),
    attempts: new Map(),
    filtered: new Map(),
  };
}

export const copy = <T>(value: T): T => structuredClone(value);

const byName = (a: { name: string }, b: { name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * A catalogue kept by name (event types, sources): upsert keeps the first creation time, and
 * `keep` names what else of a replaced record stays.
 */
function byNameTable<I, R extends { name: string; createdAt: string }>(
  map: Map<string, R>,
  build: (input: I) => R,
  keep: (existing: R) => Partial<R> = () => ({}),
) {
  return {
    async upsert(input: I): Promise<R> {
      const record = build(input);
      const existing = map.get(record.name);
      if (existing !== undefined) {
        Object.assign(record, keep(existing));
        record.createdAt = existing.createdAt;
      }
      map.set(record.name, record);
      return copy(record);
    },
    get: async (name: string): Promise<R | undefined> => copy(map.get(name)),
    list: async (): Promise<R[]> => copy([...map.values()].sort(byName)),
    delete: async (name: string): Promise<boolean> => map.delete(name),
  };
}

export function memoryCatalog(
  state: MemoryDeliveryState,
  clock: Clock,
  nowIso: () => string,
): DeliveryCatalog {
  function requireEndpoint(id: string): EndpointRecord {
    const endpoint = typeof id === "string" ? state.endpoints.get(id) : undefined;
    if (endpoint === undefined) throw endpointNotFound(id);
    return endpoint;
  }

  const eventTypes = byNameTable(
    state.eventTypes,
    (input: EventTypeInput) => eventTypeRecord(input, nowIso()),
    sightingsOf,
  );
  const sources = byNameTable(state.sources, (input: SourceInput) => sourceRecord(input, nowIso()));
  return {
    upsertEventType: eventTypes.upsert,
    getEventType: eventTypes.get,
    listEventTypes: eventTypes.list,
    deleteEventType: eventTypes.delete,
    upsertSource: sources.upsert,
    getSource: sources.get,
    listSources: sources.list,
    deleteSource: sources.delete,

    async createEndpoint(input) {
      const record = newEndpointRecord(input, nowIso(), clock);
      if (state.endpoints.has(record.id)) {
        throw endpointAlreadyExists(record.id);
      }
      state.endpoints.set(record.id, record);
      return copy(record);
    },
    async getEndpoint(id) {
      return copy(state.endpoints.get(id));
    },
    async updateEndpoint(id, patch) {
      const record = patchedEndpointRecord(requireEndpoint(id), patch, nowIso());
      state.endpoints.set(id, record);
      return copy(record);
    },
    async setEndpointEnabled(id, enabled, reason) {
      const record = toggledEndpointRecord(requireEndpoint(id), enabled, reason, nowIso());
      state.endpoints.set(id, record);
      return copy(record);
    },
    async deleteEndpoint(id) {
      if (!state.endpoints.delete(id)) return false;
      // The foreign keys' ON DELETE CASCADE, by hand.
      for (const delivery of [...state.deliveries.values()]) {
        if (delivery.endpointId !== id) continue;
        state.deliveries.delete(delivery.id);
        state.attempts.delete(delivery.id);
      }
      return true;
    },
    async listEndpoints(options) {
      const query = endpointQuery(options);
      const rows = [...state.endpoints.values()]
        .filter(
          (e) =>
            !e.adhoc &&
            (query.tenant === null || e.tenant === query.tenant) &&
            (query.enabled === null || e.enabled === query.enabled) &&
            isAfter(e, query.after, query.order),
        )
        .sort((a, b) => compareKeyset(a, b, query.order))
        .slice(0, query.limit + 1);
      return toPage("endpoints", copy(rows), query);
    },
  };
}
