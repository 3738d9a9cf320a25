// Which endpoints a message goes to, and the deliveries that creates: shared by the dispatcher
// (one message) and ingestion (a batch of messages against one read of the endpoints).
import { maxAttempts, type RetryPolicy } from "../core/retryPolicy.js";
import { compileTypeMatcher, type TypeMatcher } from "../core/typePattern.js";
import { MAX_PAGE_LIMIT } from "./constants.js";
import type { EndpointListOptions } from "./deliveryOperations.js";
import type { DeliveryInput, EndpointRecord, Page, TimeInput } from "./deliveryRecords.js";

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

/** Routes types to endpoints, compiling each endpoint's patterns once. */
export interface EndpointRouter {
  /** The endpoints whose patterns match `type`, in the order given. */
  match(type: string): EndpointRecord[];
}

export function createEndpointRouter(endpoints: readonly EndpointRecord[]): EndpointRouter {
  // The store validated the patterns on write.
  const compiled: Array<[EndpointRecord, TypeMatcher]> = endpoints.map((endpoint) => [
    endpoint,
    compileTypeMatcher(endpoint.eventTypes),
  ]);
  return {
    match: (type) => compiled.filter(([, matcher]) => matcher.matches(type)).map(([e]) => e),
  };
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
