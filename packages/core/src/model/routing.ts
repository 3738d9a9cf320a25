// Which endpoints a message goes to, and the deliveries that creates: shared by the dispatcher
// (one message) and ingestion (a batch of messages against one read of the endpoints). An
// endpoint receives a message when one of its patterns matches the type and its filter (if it
// has one) accepts the payload and headers; one whose patterns match but whose filter refuses
// gets no delivery and is recorded as filtered (CreateMessageInput.filtered).
import { maxAttempts, type RetryPolicy } from "../core/retryPolicy.js";
import { compileTypeMatcher, isWellFormed, type TypeMatcher } from "../core/typePattern.js";
import { MAX_PAGE_LIMIT } from "./constants.js";
import type { EndpointListOptions } from "./deliveryOperations.js";
import type { DeliveryInput, EndpointRecord, Page, TimeInput } from "./deliveryRecords.js";
import { type FilterSubject, matchesFilter } from "./endpointFilter.js";

/** Every enabled endpoint of the tenant, oldest first. */
export async function enabledEndpoints(
  store: { listEndpoints(options: EndpointListOptions): Promise<Page<EndpointRecord>> },
  tenant: string,
): Promise<EndpointRecord[]> {
  const all: EndpointRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listEndpoints({
      tenant,
      enabled: true,
      limit: MAX_PAGE_LIMIT,
      cursor,
    });
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all;
}

/** Where one message goes: endpoints to deliver to, and endpoints its filter refused. */
export interface Route {
  /** Patterns match and the filter (if any) accepts: one delivery each, in the order given. */
  deliver: EndpointRecord[];
  /** Patterns match but the filter refuses: no delivery, recorded as filtered. */
  filtered: EndpointRecord[];
}

/** Routes types to endpoints, compiling each endpoint's patterns once. */
export interface EndpointRouter {
  /** The endpoints whose patterns match `type`, in the order given (filters not applied). */
  match(type: string): EndpointRecord[];
  /** The endpoints whose patterns match `type`, split by their filters on `subject`. */
  route(type: string, subject: FilterSubject): Route;
}

/** Splits endpoints whose patterns matched by their filters on `subject` (order kept). */
export function applyFilters(endpoints: readonly EndpointRecord[], subject: FilterSubject): Route {
  const route: Route = { deliver: [], filtered: [] };
  for (const endpoint of endpoints) {
    const passes = endpoint.filter === null || matchesFilter(endpoint.filter, subject);
    (passes ? route.deliver : route.filtered).push(endpoint);
  }
  return route;
}

/** How the index files one pattern: by its exact type, by the prefix before its only "*", or not. */
function indexKey(pattern: string): { exact: string } | { prefix: string } | null {
  const star = pattern.indexOf("*");
  if (star === -1) return { exact: pattern };
  // `a.b.*` (and `*` alone: the empty prefix); a "*" anywhere else is matched by scanning.
  return star === pattern.length - 1 ? { prefix: pattern.slice(0, star) } : null;
}

function push(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [index]);
  else if (list[list.length - 1] !== index) list.push(index);
}

/**
 * An index of the endpoints' patterns, so a message costs a few hash lookups however many
 * endpoints the tenant has: exact types in one map, `prefix.*` patterns (and `*`) in another
 * looked up once per segment boundary of the type, and only endpoints with a "*" inside a
 * pattern (`*.created.v1`) tested one by one. Matches keep the order given.
 */
export function createEndpointRouter(endpoints: readonly EndpointRecord[]): EndpointRouter {
  const exact = new Map<string, number[]>();
  const prefixes = new Map<string, number[]>();
  const scanned: Array<[number, TypeMatcher]> = [];
  endpoints.forEach((endpoint, index) => {
    const keys = endpoint.eventTypes.map(indexKey);
    if (keys.includes(null)) {
      // The store validated the patterns on write.
      scanned.push([index, compileTypeMatcher(endpoint.eventTypes)]);
      return;
    }
    for (const key of keys) {
      if (key === null) continue;
      if ("exact" in key) push(exact, key.exact, index);
      else push(prefixes, key.prefix, index);
    }
  });
  const match = (type: string): EndpointRecord[] => {
    if (!isWellFormed(type)) return [];
    const found: number[][] = [];
    const add = (list: number[] | undefined) => {
      if (list !== undefined) found.push(list);
    };
    add(exact.get(type));
    add(prefixes.get(""));
    for (let dot = type.indexOf("."); dot !== -1; dot = type.indexOf(".", dot + 1)) {
      add(prefixes.get(type.slice(0, dot + 1)));
    }
    const hits = scanned.filter(([, matcher]) => matcher.matches(type)).map(([index]) => index);
    if (hits.length > 0) found.push(hits);
    if (found.length === 1) return found[0]!.map((index) => endpoints[index]!);
    // An endpoint may be filed under several keys that match: each once, in the order given.
    const indexes = [...new Set(found.flat())].sort((a, b) => a - b);
    return indexes.map((index) => endpoints[index]!);
  };
  return { match, route: (type, subject) => applyFilters(match(type), subject) };
}

/** One pending delivery per endpoint, with the attempts its (or the default) policy allows. */
export function deliveryInputs(
  endpoints: readonly EndpointRecord[],
  defaultRetry: RetryPolicy,
  nextAttemptAt?: TimeInput,
): DeliveryInput[] {
  const defaultMax = maxAttempts(defaultRetry);
  return endpoints.map((endpoint) => ({
    endpointId: endpoint.id,
    maxAttempts: endpoint.retry === null ? defaultMax : maxAttempts(endpoint.retry),
    ...(nextAttemptAt === undefined ? {} : { nextAttemptAt }),
  }));
}
