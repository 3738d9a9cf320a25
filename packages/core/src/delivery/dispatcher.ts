// The dispatcher: turns one `dispatch({ type, payload })` into a stored message plus one pending
// delivery per matching enabled endpoint, in one store transaction, idempotent per tenant key.
// An endpoint whose patterns match but whose filter refuses the payload and `headers` gets no
// delivery; the message records it as filtered.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  findJsonProblem,
  isPlainObject,
  type JsonObject,
} from "@heraldjs/webhooks/internal/core/json.js";
import { normalizeRetryPolicy } from "../core/normalizeRetryPolicy.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../core/retryPolicy.js";
import { unknownEventType } from "../model/catalogRecords.js";
import { headerMap, invalid, key, text, textOrNull, typeName } from "../model/check.js";
import { DEFAULT_TENANT } from "../model/constants.js";
import type { CreateMessageResult } from "../model/deliveryOperations.js";
import type { MessageRecord } from "../model/deliveryRecords.js";
import { createEndpointRoutes } from "../model/endpointRoutes.js";
import { deliveryInputs, type Route } from "../model/routing.js";
import type { DeliveryStore } from "../store/deliveryPorts.js";
import { type AdhocTarget, adhocEndpoint } from "./adhocEndpoints.js";
import { createPayloadValidator } from "./payloadSchema.js";

export interface DispatcherOptions {
  store: DeliveryStore;
  /**
   * Source of the deliveries' first due time. Default: none, so they are due at the message's
   * creation time as the store's own clock sees it.
   */
  clock?: Clock;
  /**
   * Validate payloads against their event type's JSON Schema (when it has one). Default true;
   * false skips the catalogue's schemas (the deprecated flag is still reported).
   */
  validatePayloads?: boolean;
  /**
   * A closed catalogue: a type the store's catalogue does not list is refused with
   * `event_type.unknown` (nothing stored). Default false: the first message of a new type
   * records it in the catalogue (`auto`).
   */
  closedCatalog?: boolean;
  /** Policy of endpoints without their own; default DEFAULT_RETRY_POLICY (8 attempts). */
  defaultRetry?: RetryPolicy;
}

export interface DispatchInput {
  /** A concrete type such as `order.created.v1` (dot-separated segments, no `*`). */
  type: string;
  /** A plain JSON object. */
  payload: JsonObject;
  /** Default `default`. */
  tenant?: string;
  /** Unique per tenant: repeating it returns the first message and creates nothing. */
  idempotencyKey?: string | null;
  /** The inbound source the message came from; null/absent for API and library messages. */
  source?: string | null;
  /**
   * The headers endpoints' filters see as `headers` (docs/filters.md), names lowercased; not
   * stored with the message. Default none (`{}`). Ingestion passes the webhook's request headers.
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * Ad hoc: deliver to this absolute http(s) URL only, instead of to the endpoints whose event
   * types match, signed with `secretName` (adhocEndpoints.ts). Same retries, dead letter,
   * replay and attempt log as an endpoint's deliveries.
   */
  url?: string;
  /** The tenant's named secret (and scheme) that signs an ad-hoc dispatch; only with `url`. */
  secretName?: string;
  /** Ad hoc only: the retry policy of the target; default the dispatcher's `defaultRetry`. */
  retry?: RetryPolicy | null;
}

export interface DispatchResult {
  messageId: string;
  /** How many deliveries the message has (0 when no endpoint matched). */
  deliveries: number;
  /**
   * The endpoints whose patterns matched but whose filter refused the message (no delivery),
   * oldest first; empty for a duplicate (see `message` and getMessage for the first one's).
   */
  filteredEndpointIds: string[];
  /** Oldest first (the endpoints' creation order). */
  deliveryIds: string[];
  /** False when the idempotency key was already used: nothing was created. */
  created: boolean;
  /** `!created`. */
  duplicate: boolean;
  /** The event type is in the catalogue and marked deprecated; the message was sent anyway. */
  deprecated: boolean;
  /** The stored message (the first one for a duplicate). */
  message: MessageRecord;
}

export interface Dispatcher {
  /**
   * Throws HeraldError `message.invalid` (bad input, `details.field` names it), `payload.invalid`
   * (schema violation, `details.path` names it), `event_type.invalid` (the registered schema
   * does not compile), `event_type.unknown` (a closed catalogue without the type),
   * `secret.not_found` (ad hoc: no such named secret), and whatever the store
   * throws (`store.unavailable`…).
   */
  dispatch(input: DispatchInput): Promise<DispatchResult>;
}

const CODE = "message.invalid";
/** Tries of match + insert when endpoints vanish in between (see dispatch). */
const MATCH_ROUNDS = 3;

function toResult(
  result: CreateMessageResult,
  deprecated: boolean,
  filtered: readonly string[],
): DispatchResult {
  return {
    messageId: result.message.id,
    deliveries: result.deliveries.length,
    filteredEndpointIds: result.created ? [...filtered] : [],
    deliveryIds: result.deliveries.map((d) => d.id),
    created: result.created,
    duplicate: !result.created,
    deprecated,
    message: result.message,
  };
}

interface CheckedInput {
  type: string;
  payload: JsonObject;
  tenant: string;
  idempotencyKey: string | null;
  source: string | null;
  /** Lowercase names, own properties only. */
  headers: Record<string, string>;
  /** The ad-hoc target, when `url` was given. */
  adhoc: Omit<AdhocTarget, "tenant"> | null;
}

function checkAdhoc(input: Record<string, unknown>): CheckedInput["adhoc"] {
  if (input.url === undefined && input.secretName === undefined && input.retry === undefined) {
    return null;
  }
  if (input.url === undefined) {
    const field = input.secretName === undefined ? "retry" : "secretName";
    throw invalid(CODE, field, "is only for ad-hoc dispatches (with url)");
  }
  const url = text(input.url, "url", CODE, 2048);
  if (!/^https?:\/\/[^\s]+$/i.test(url) || !URL.canParse(url)) {
    throw invalid(CODE, "url", "must be an absolute http(s) URL");
  }
  if (input.secretName === undefined) throw invalid(CODE, "secretName", "is required with url");
  return {
    url,
    secretName: key(input.secretName, "secretName", CODE),
    retry:
      input.retry === undefined || input.retry === null
        ? null
        : normalizeRetryPolicy(input.retry as RetryPolicy),
  };
}

/** A prototype-free copy with lowercase names (the last of two spellings of one name wins). */
function lowercaseHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function checkInput(input: unknown): CheckedInput {
  if (!isPlainObject(input)) throw invalid(CODE, "input", "must be an object");
  const type = typeName(input.type, "type", CODE);
  const payload = input.payload;
  if (!isPlainObject(payload)) throw invalid(CODE, "payload", "must be a JSON object");
  const problem = findJsonProblem(payload, "payload");
  if (problem !== undefined) throw invalid(CODE, problem.path, problem.reason);
  return {
    type,
    payload: payload as JsonObject,
    tenant: text(input.tenant ?? DEFAULT_TENANT, "tenant", CODE),
    idempotencyKey: textOrNull(input.idempotencyKey, "idempotencyKey", CODE),
    source: textOrNull(input.source, "source", CODE),
    headers: lowercaseHeaders(headerMap(input.headers, "headers", CODE)),
    adhoc: checkAdhoc(input),
  };
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, clock, validatePayloads = true, closedCatalog = false } = options;
  if (store === undefined || store === null) {
    throw new HeraldError("config.invalid", "createDispatcher needs a store");
  }
  const defaultRetry =
    options.defaultRetry === undefined
      ? DEFAULT_RETRY_POLICY
      : normalizeRetryPolicy(options.defaultRetry);
  const validator = createPayloadValidator();
  const routes = createEndpointRoutes(store);

  return {
    async dispatch(rawInput) {
      const input = checkInput(rawInput);
      const eventType = await store.getEventType(input.type);
      if (eventType === undefined && closedCatalog) throw unknownEventType(input.type);
      if (eventType !== undefined && validatePayloads) {
        validator.validate(eventType, input.payload);
      }
      const message = {
        tenant: input.tenant,
        type: input.type,
        source: input.source,
        payload: input.payload,
        idempotencyKey: input.idempotencyKey,
      };
      const nextAttemptAt = clock?.now();
      // An endpoint deleted between the match and the insert makes the store refuse the whole
      // message (nothing stored); matching again sees the catalogue without it.
      for (let round = 1; ; round++) {
        const route: Route =
          input.adhoc === null
            ? (await routes.router(input.tenant)).route(input.type, {
                payload: input.payload,
                headers: input.headers,
              })
            : {
                deliver: [await adhocEndpoint(store, { ...input.adhoc, tenant: input.tenant })],
                filtered: [],
              };
        const deliveries = deliveryInputs(route.deliver, defaultRetry, nextAttemptAt);
        const filtered = route.filtered.map((endpoint) => endpoint.id);
        try {
          const result = await store.createMessage({ message, deliveries, filtered });
          return toResult(result, eventType?.deprecated ?? false, filtered);
        } catch (error) {
          if (round >= MATCH_ROUNDS || !isHeraldError(error, "endpoint.not_found")) throw error;
        }
      }
    },
  };
}
