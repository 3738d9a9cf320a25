// applyConfig: makes the store hold what herald.yaml declares (event types, sources, endpoints),
// writing only what differs, so applying the same config again changes nothing.

import { rotateEndpointSecret } from "@heraldjs/core/internal/delivery/endpointSecrets.js";
import {
  DEFAULT_DEDUPE_TTL_S,
  DEFAULT_ENDPOINT_SCHEME,
  DEFAULT_ENDPOINT_TIMEOUT_MS,
  DEFAULT_ENDPOINT_TRANSPORT,
  DEFAULT_SOURCE_TOLERANCE_S,
  DEFAULT_TENANT,
} from "@heraldjs/core/internal/model/constants.js";
import type {
  EndpointPatch,
  EndpointRecord,
  EventTypeInput,
  EventTypeRecord,
  SourceInput,
  SourceRecord,
} from "@heraldjs/core/internal/model/deliveryRecords.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { ConfigEndpoint, HeraldConfig } from "./types.js";

export interface ApplyConfigResult {
  /** Event types created or changed. */
  eventTypes: number;
  /** Sources created or changed. */
  sources: number;
  endpoints: { created: number; updated: number };
}

export interface ApplyConfigOptions {
  /** For secret rotation times; default the system clock. */
  clock?: Clock;
  /** How long an endpoint's previous secret keeps signing after the config changes it; 24 h. */
  secretOverlapMs?: number;
}

type Store = Pick<
  DeliveryStore,
  | "getEventType"
  | "upsertEventType"
  | "getSource"
  | "upsertSource"
  | "getEndpoint"
  | "createEndpoint"
  | "updateEndpoint"
  | "setEndpointEnabled"
>;

/** JSON equality that ignores key order (records read back from SQL may reorder keys). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => sameJson(item, other[i]));
  }
  const left = Object.entries(a).filter(([, v]) => v !== undefined);
  const right = Object.entries(b).filter(([, v]) => v !== undefined);
  if (left.length !== right.length) return false;
  const rightMap = new Map(right);
  return left.every(([key, value]) => rightMap.has(key) && sameJson(value, rightMap.get(key)));
}

/** Also false for a type only recorded from messages (`auto`): declaring it is a change. */
function sameEventType(existing: EventTypeRecord, input: EventTypeInput): boolean {
  return (
    !existing.auto &&
    existing.description === (input.description ?? "") &&
    sameJson(existing.schema, input.schema ?? null) &&
    existing.deprecated === (input.deprecated ?? false)
  );
}

function sameSource(existing: SourceRecord, input: SourceInput): boolean {
  return (
    existing.scheme === input.scheme &&
    sameJson(existing.schemeOptions, input.schemeOptions ?? null) &&
    sameJson(existing.secrets, input.secrets ?? []) &&
    existing.toleranceS === (input.toleranceS ?? DEFAULT_SOURCE_TOLERANCE_S) &&
    existing.idempotencyHeader === (input.idempotencyHeader ?? null) &&
    existing.idempotencyRequired === (input.idempotencyRequired ?? false) &&
    existing.dedupeTtlS === (input.dedupeTtlS ?? DEFAULT_DEDUPE_TTL_S) &&
    sameJson(existing.typeFrom, input.typeFrom ?? { fixed: "received" })
  );
}

/**
 * Every setting the config states for the endpoint, defaults included: a key removed from the
 * file returns the endpoint to the default. Secrets and `enabled` are handled on their own.
 */
function desiredSettings({ input }: ConfigEndpoint): Required<Omit<EndpointPatch, "secrets">> {
  return {
    tenant: input.tenant ?? DEFAULT_TENANT,
    description: input.description ?? "",
    transport: input.transport ?? DEFAULT_ENDPOINT_TRANSPORT,
    target: input.target,
    eventTypes: [...input.eventTypes],
    filter: input.filter ?? null,
    scheme: input.scheme ?? DEFAULT_ENDPOINT_SCHEME,
    schemeOptions: input.schemeOptions ?? null,
    secretName: input.secretName ?? null,
    headers: { ...(input.headers ?? {}) },
    timeoutMs: input.timeoutMs ?? DEFAULT_ENDPOINT_TIMEOUT_MS,
    retry: input.retry ?? null,
    rateLimitPerS: input.rateLimitPerS ?? null,
    maxInFlight: input.maxInFlight ?? null,
    ordered: input.ordered ?? false,
  };
}

function settingsPatch(existing: EndpointRecord, endpoint: ConfigEndpoint): EndpointPatch {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(desiredSettings(endpoint))) {
    // The record holds the compiled filter; the config states its JSON.
    const current =
      key === "filter" ? (existing.filter?.json ?? null) : existing[key as keyof EndpointRecord];
    if (!sameJson(current, value)) patch[key] = value;
  }
  return patch as EndpointPatch;
}

/** Updates an existing endpoint to the config; true when anything was written. */
async function updateEndpoint(
  store: Store,
  existing: EndpointRecord,
  endpoint: ConfigEndpoint,
  options: ApplyConfigOptions,
): Promise<boolean> {
  const { id } = endpoint.input;
  let changed = false;
  const patch = settingsPatch(existing, endpoint);
  if (Object.keys(patch).length > 0) {
    await store.updateEndpoint(id, patch);
    changed = true;
  }
  const secret = endpoint.input.secrets?.[0]?.secret;
  if (endpoint.secretGiven && secret !== undefined && existing.secrets[0]?.secret !== secret) {
    // The config's secret becomes the current one; the old ones sign on during the overlap.
    await rotateEndpointSecret(store, id, {
      secret,
      ...(options.secretOverlapMs === undefined ? {} : { overlapMs: options.secretOverlapMs }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    changed = true;
  }
  const enabled = endpoint.input.enabled;
  if (enabled !== undefined && existing.enabled !== enabled) {
    await store.setEndpointEnabled(id, enabled, enabled ? null : "disabled in config");
    changed = true;
  }
  return changed;
}

/**
 * Upserts the config's event types, sources and endpoints into the store, writing only what
 * differs (a second run with the same config writes nothing and returns zeros). Endpoints:
 * a new id is created with the config's secret (or the one generated at load); an existing
 * one gets every setting of the config (absent keys → defaults), keeps its secrets unless the
 * config gives a different one (which then becomes current via rotation, the old ones signing
 * on for `secretOverlapMs`), and is enabled or disabled only when the config says `enabled`.
 * Records not in the config are left alone.
 */
export async function applyConfig(
  store: Store,
  config: Pick<HeraldConfig, "eventTypes" | "sources" | "endpoints">,
  options: ApplyConfigOptions = {},
): Promise<ApplyConfigResult> {
  const result: ApplyConfigResult = {
    eventTypes: 0,
    sources: 0,
    endpoints: { created: 0, updated: 0 },
  };
  for (const input of config.eventTypes) {
    const existing = await store.getEventType(input.name);
    if (existing !== undefined && sameEventType(existing, input)) continue;
    await store.upsertEventType(input);
    result.eventTypes += 1;
  }
  for (const input of config.sources) {
    const existing = await store.getSource(input.name);
    if (existing !== undefined && sameSource(existing, input)) continue;
    await store.upsertSource(input);
    result.sources += 1;
  }
  for (const endpoint of config.endpoints) {
    let existing = await store.getEndpoint(endpoint.input.id);
    if (existing === undefined) {
      try {
        await store.createEndpoint(endpoint.input);
        result.endpoints.created += 1;
        continue;
      } catch (error) {
        // Another process applying the same config created it first: update it instead.
        if (!isHeraldError(error, "endpoint.already_exists")) throw error;
        existing = await store.getEndpoint(endpoint.input.id);
        if (existing === undefined) throw error;
      }
    }
    if (await updateEndpoint(store, existing, endpoint, options)) result.endpoints.updated += 1;
  }
  return result;
}
