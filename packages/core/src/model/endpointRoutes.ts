// Routing without listing every endpoint per message: each tenant's enabled endpoints are
// listed and indexed once (createEndpointRouter) and kept while the store's endpoint version of
// the tenant (DeliveryCatalog.endpointsVersion) stays the same. That version is read for every
// message (ingestion: every batch), so an endpoint created, deleted, disabled or changed by any
// process — the API, the CLI, another server, a worker auto-disabling it — counts from the next
// message on, as it did when every message listed the endpoints. A time-based expiry would
// instead route to a deleted endpoint, or miss a new one, for up to its length. A store without
// a version is listed for every message.
//
// A writer that can have the version checked by the write itself (createMessages'
// `endpointsVersion`, as ingestion does) may skip the read: `routed(tenant, { cached: true })`
// answers the cached router with the version it was built for, and the store refuses the write
// with `endpoint.version_changed` if the endpoints changed since; the writer then routes again.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { EndpointListOptions } from "./deliveryOperations.js";
import type { EndpointRecord, Page } from "./deliveryRecords.js";
import { createEndpointRouter, type EndpointRouter, enabledEndpoints } from "./routing.js";

/** What routing needs of a store. */
export interface EndpointSource {
  listEndpoints(options: EndpointListOptions): Promise<Page<EndpointRecord>>;
  endpointsVersion?(tenant: string): Promise<number>;
}

/** A router and the endpoint version it was built for (undefined: the store has none). */
export interface VersionedRouter {
  router: EndpointRouter;
  version: number | undefined;
}

export interface EndpointRoutes {
  /**
   * The router of the tenant's enabled endpoints as the store holds them now. Its records are
   * for routing: id, event types, filter and retry are current; other fields (target, secrets,
   * description…) may be older, as changing them does not move the version.
   */
  router(tenant: string): Promise<EndpointRouter>;
  /**
   * `router` with the version it was built for. With `cached`, a router already built is
   * answered without reading the version: the caller must have its write check that version
   * (CreateMessagesOptions.endpointsVersion).
   */
  routed(tenant: string, options?: { cached?: boolean }): Promise<VersionedRouter>;
}

/** The refusal of a write whose routing used an endpoint version that is no longer current. */
export function endpointsVersionChanged(
  tenant: string,
  expected: number,
  actual: number,
): HeraldError {
  return new HeraldError(
    "endpoint.version_changed",
    `The endpoints of tenant ${JSON.stringify(tenant)} changed while the batch was routed; route it again`,
    { details: { tenant, expected, actual } },
  );
}

export interface EndpointRoutesOptions {
  /** Tenants kept at once, least recently routed dropped first; default 256. */
  maxTenants?: number;
}

interface Entry {
  version: number;
  /** Shared by every message that finds this version while the endpoints are being listed. */
  router: Promise<EndpointRouter>;
}

export function createEndpointRoutes(
  store: EndpointSource,
  options: EndpointRoutesOptions = {},
): EndpointRoutes {
  const maxTenants = options.maxTenants ?? 256;
  const cache = new Map<string, Entry>();
  const load = async (tenant: string) =>
    createEndpointRouter(await enabledEndpoints(store, tenant));

  async function routed(tenant: string, options: { cached?: boolean } = {}) {
    if (store.endpointsVersion === undefined)
      return { router: await load(tenant), version: undefined };
    const cached = cache.get(tenant);
    // Map order is recency: a hit moves the tenant to the end.
    if (options.cached === true && cached !== undefined) {
      cache.delete(tenant);
      cache.set(tenant, cached);
      return { router: await cached.router, version: cached.version };
    }
    const version = await store.endpointsVersion(tenant);
    const current = cache.get(tenant);
    cache.delete(tenant);
    if (current !== undefined && current.version === version) {
      cache.set(tenant, current);
      return { router: await current.router, version };
    }
    // A read slower than another message's: route on what it saw, keep the newer entry.
    if (current !== undefined && current.version > version) {
      cache.set(tenant, current);
      return { router: await load(tenant), version };
    }
    const entry: Entry = { version, router: load(tenant) };
    cache.set(tenant, entry);
    if (cache.size > maxTenants) cache.delete(cache.keys().next().value as string);
    try {
      return { router: await entry.router, version };
    } catch (error) {
      // A failed listing is not kept: the next message tries again.
      if (cache.get(tenant) === entry) cache.delete(tenant);
      throw error;
    }
  }

  return {
    routed,
    router: async (tenant) => (await routed(tenant)).router,
  };
}
