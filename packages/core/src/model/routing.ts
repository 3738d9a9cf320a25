// Which endpoints a message goes to, and the deliveries that creates: shared by the dispatcher
// (one message) and ingestion (a batch of messages against one read of the endpoints). An
// endpoint receives a message when one of its patterns matches the type and its filter (if it
// has one) accepts the payload and headers; one whose patterns match but whose filter refuses
// gets no delivery and is recorded as filtered (CreateMessageInput.filtered).
import { maxAttempts, type RetryPolicy } from "../core/retryPolicy.js";
import { compileTypeMatcher, type TypeMatcher } from "../core/typePattern.js";
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

export function createEndpointRouter(endpoints: readonly EndpointRecord[]): EndpointRouter {
  // The store validated the patterns on write.
  const compiled: Array<[EndpointRecord, TypeMatcher]> = endpoints.map((endpoint) => [
    endpoint,
    compileTypeMatcher(endpoint.eventTypes),
  ]);
  const match = (type: string) =>
    compiled.filter(([, matcher]) => matcher.matches(type)).map(([e]) => e);
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
