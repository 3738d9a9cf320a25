// Routing without listing every endpoint per message: each tenant's enabled endpoints are
// listed and indexed once (createEndpointRouter) and kept while the store's endpoint version of
// the tenant (DeliveryCatalog.endpointsVersion) stays the same. That version is read for every
// message (ingestion: every batch), so an endpoint created, deleted, disabled or changed by any
// process — the API, the CLI, another server, a worker auto-disabling it — counts from the next
// message on, as it did when every message listed the endpoints. A time-based expiry would
// instead route to a deleted endpoint, or miss a new one, for up to its length. A store without
// a version is listed for every message.
import type { EndpointListOptions } from "./deliveryOperations.js";
import type { EndpointRecord, Page } from "./deliveryRecords.js";
import { createEndpointRouter, type EndpointRouter, enabledEndpoints } from "./routing.js";

/** What routing needs of a store. */
export interface EndpointSource {
  listEndpoints(options: EndpointListOptions): Promise<Page<EndpointRecord>>;
  endpointsVersion?(tenant: string): Promise<number>;
}

export interface EndpointRoutes {
  /**
   * The router of the tenant's enabled endpoints as the store holds them now. Its records are
   * for routing: id, event types, filter and retry are current; other fields (target, secrets,
   * description…) may be older, as changing them does not move the version.
   */
  router(tenant: string): Promise<EndpointRouter>;
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

  return {
    async router(tenant) {
      if (store.endpointsVersion === undefined) return load(tenant);
      const version = await store.endpointsVersion(tenant);
      const cached = cache.get(tenant);
      // Map order is recency: a hit moves the tenant to the end.
      cache.delete(tenant);
      if (cached !== undefined && cached.version === version) {
        cache.set(tenant, cached);
        return cached.router;
      }
      // A read slower than another message's: route on what it saw, keep the newer entry.
      if (cached !== undefined && cached.version > version) {
        cache.set(tenant, cached);
        return load(tenant);
      }
      const entry: Entry = { version, router: load(tenant) };
      cache.set(tenant, entry);
      if (cache.size > maxTenants) cache.delete(cache.keys().next().value as string);
      try {
        return await entry.router;
      } catch (error) {
        // A failed listing is not kept: the next message tries again.
        if (cache.get(tenant) === entry) cache.delete(tenant);
        throw error;
      }
    },
  };
}
