// The delivery engine's storage port: catalogue (event types, sources, endpoints), messages and
// their deliveries, leases for workers, the attempt log, and the queries the API and CLI need.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type {
  AttemptOutcome,
  ClaimedDelivery,
  ClaimOptions,
  CreateMessageInput,
  CreateMessageResult,
  CreateMessagesOptions,
  DeliveryListOptions,
  DeliveryStats,
  DeliveryWithAttempts,
  EndpointListOptions,
  FinishOptions,
  LeaseRef,
  MessageWithDeliveries,
} from "../model/deliveryOperations.js";
import type {
  AttemptInput,
  DeliveryRecord,
  EndpointInput,
  EndpointPatch,
  EndpointRecord,
  EndpointSecretInput,
  EventTypeInput,
  EventTypeRecord,
  NamedSecretInput,
  NamedSecretRecord,
  Page,
  SourceInput,
  SourceRecord,
  TimeInput,
} from "../model/deliveryRecords.js";
import type {
  NatsTokenInput,
  NatsTokenListOptions,
  NatsTokenRecord,
} from "../model/natsTokenRecords.js";
import type {
  StreamCursor,
  StreamItem,
  StreamReadOptions,
  StreamTokenInput,
  StreamTokenRecord,
} from "../model/streamRecords.js";

export type * from "../model/deliveryOperations.js";
export type * from "../model/deliveryRecords.js";
export type {
  NatsIdentity,
  NatsTokenInput,
  NatsTokenListOptions,
  NatsTokenRecord,
} from "../model/natsTokenRecords.js";
export type {
  StreamCursor,
  StreamItem,
  StreamReadOptions,
  StreamTokenInput,
  StreamTokenRecord,
} from "../model/streamRecords.js";

/**
 * The catalogue half of a DeliveryStore: event types, sources and endpoints. Each adapter builds
 * it in its own `deliveryCatalog.ts`.
 */
export interface DeliveryCatalog {
  // Event types ------------------------------------------------------------------------------
  /** Creates or replaces; `createdAt` is kept on replace. */
  upsertEventType(input: EventTypeInput): Promise<EventTypeRecord>;
  getEventType(name: string): Promise<EventTypeRecord | undefined>;
  /** By name. */
  listEventTypes(): Promise<EventTypeRecord[]>;
  /** False when it did not exist. Messages keep their type: it is not a foreign key. */
  deleteEventType(name: string): Promise<boolean>;

  // Sources ----------------------------------------------------------------------------------
  upsertSource(input: SourceInput): Promise<SourceRecord>;
  getSource(name: string): Promise<SourceRecord | undefined>;
  /** By name. */
  listSources(): Promise<SourceRecord[]>;
  deleteSource(name: string): Promise<boolean>;

  // Endpoints --------------------------------------------------------------------------------
  /** Throws `endpoint.already_exists` for a taken explicit id. */
  createEndpoint(input: EndpointInput): Promise<EndpointRecord>;
  getEndpoint(id: string): Promise<EndpointRecord | undefined>;
  /** Throws `endpoint.not_found`. */
  updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord>;
  /**
   * Disabling stores the reason; enabling clears it and the failure run. Deliveries of a
   * disabled endpoint stay queued and are not claimed until it is enabled again.
   */
  setEndpointEnabled(id: string, enabled: boolean, reason?: string | null): Promise<EndpointRecord>;
  /** Deletes the endpoint with its deliveries and their attempts; false when it did not exist. */
  deleteEndpoint(id: string): Promise<boolean>;
  /** Oldest first; ad-hoc endpoints (`adhoc: true`) are never listed. */
  listEndpoints(options?: EndpointListOptions): Promise<Page<EndpointRecord>>;
  /**
   * A number that changes (in every process sharing the backend) whenever the tenant's
   * endpoints change where messages go: one created or deleted, enabled or disabled, its event
   * types, filter or retry policy changed. Routing caches the compiled endpoints while it stays
   * the same (model/endpointRoutes.ts); a store without it is listed for every message.
   */
  endpointsVersion?(tenant: string): Promise<number>;
}

/**
 * Signing secrets kept by name per tenant (`/v1/secrets`); each adapter builds it in its own
 * `namedSecrets.ts`. Values are stored as given and returned whole: hiding them is the API's job.
 * Errors: `secret.invalid` (input), `secret.already_exists`, `secret.not_found`,
 * `store.unavailable`.
 */
export interface NamedSecretStore {
  /** Throws `secret.already_exists` when the tenant has a secret of this name. */
  createNamedSecret(input: NamedSecretInput): Promise<NamedSecretRecord>;
  getNamedSecret(tenant: string, name: string): Promise<NamedSecretRecord | undefined>;
  /** By tenant, then name (byte order); only `tenant`'s when given. */
  listNamedSecrets(options?: { tenant?: string }): Promise<NamedSecretRecord[]>;
  /** Replaces the secret versions (rotation, see rotateNamedSecret); `secret.not_found`. */
  updateNamedSecretVersions(
    tenant: string,
    name: string,
    secrets: readonly EndpointSecretInput[],
  ): Promise<NamedSecretRecord>;
  /**
   * False when it did not exist. Endpoints naming it are kept: their next attempts fail with
   * `secret.not_found` (and retry) until a secret of that name exists again.
   */
  deleteNamedSecret(tenant: string, name: string): Promise<boolean>;
}

/**
 * Live streams (`/v1/stream`): stream tokens, kept by the SHA-256 of the token only, and the
 * stored messages in the order they committed, each at a cursor (model/streamRecords.ts) that
 * only grows: a message committed later never takes a position before one already read. Each
 * adapter builds it in its own `streams.ts`. Errors: `stream_token.invalid`,
 * `stream.cursor_invalid`, `store.unavailable`.
 */
export interface StreamStore {
  createStreamToken(input: StreamTokenInput): Promise<StreamTokenRecord>;
  getStreamToken(id: string): Promise<StreamTokenRecord | undefined>;
  /** The token whose SHA-256 (lowercase hex) this is, revoked and expired ones included. */
  findStreamToken(tokenHash: string): Promise<StreamTokenRecord | undefined>;
  /** Oldest first; only `tenant`'s when given. */
  listStreamTokens(options?: { tenant?: string }): Promise<StreamTokenRecord[]>;
  /** Revokes (the first revocation time stays); undefined when there is no such token. */
  revokeStreamToken(
    id: string,
    options?: { now?: TimeInput },
  ): Promise<StreamTokenRecord | undefined>;
  /**
   * Deletes up to `limit` (default 1000) tokens that expired more than a day
   * (STREAM_TOKEN_RETENTION_MS) before `now`; resolves to how many.
   */
  pruneStreamTokens(options?: { now?: TimeInput; limit?: number }): Promise<number>;
  /** The position of the latest committed message; `0` (or `0.0`) when there is none. */
  latestStreamCursor(): Promise<StreamCursor>;
  /** Committed messages after `after` (and up to `until`), in stream order. */
  readStream(options: StreamReadOptions): Promise<StreamItem[]>;
}

/**
 * NATS tokens (`herald nats token …`, checked by the auth callout), kept by the SHA-256 of the
 * token only. Each adapter builds it in its own `natsTokens.ts`. Errors: `nats_token.invalid`,
 * `store.unavailable`.
 */
export interface NatsTokenStore {
  createNatsToken(input: NatsTokenInput): Promise<NatsTokenRecord>;
  getNatsToken(id: string): Promise<NatsTokenRecord | undefined>;
  /** The token whose SHA-256 (lowercase hex) this is, revoked and expired ones included. */
  findNatsToken(tokenHash: string): Promise<NatsTokenRecord | undefined>;
  /** Oldest first (by id); only those matching every option given. */
  listNatsTokens(options?: NatsTokenListOptions): Promise<NatsTokenRecord[]>;
  /** Revokes (the first revocation time stays); undefined when there is no such token. */
  revokeNatsToken(id: string, options?: { now?: TimeInput }): Promise<NatsTokenRecord | undefined>;
}

/**
 * What a wake-up asks of a worker. `claim`: deliveries are due, claim now. `backup`: deliveries
 * are due and another listening worker was chosen to claim them (PostgreSQL with several
 * workers), so claim only if this worker starts no claim of its own within a short wait, in case
 * that one is busy or gone.
 */
export type WakeUp = "claim" | "backup";

/**
 * Storage for the delivery engine: the catalogue (DeliveryCatalog), then messages, worker leases
 * and operations. Every method is atomic across processes sharing the backend. Times are taken
 * from the store's injected clock unless a `now` is passed, never from the database, so every
 * backend behaves the same under a manual clock.
 *
 * Errors (HeraldError codes): `event_type.invalid`, `source.invalid`, `endpoint.invalid`,
 * `endpoint.already_exists`, `endpoint.not_found`, `message.invalid`, `delivery.not_found`,
 * `delivery.invalid` (worker input: claim options, attempts, times), `delivery.ambiguous_prefix`,
 * `delivery.lease_lost`, `delivery.in_progress`, `cursor.invalid`,
 * `query.invalid`, `type_pattern.invalid`, `retry.invalid_policy`, `store.unavailable`.
 */
export interface DeliveryStore
  extends DeliveryCatalog,
    NamedSecretStore,
    StreamStore,
    NatsTokenStore {
  // Messages ---------------------------------------------------------------------------------
  /**
   * Stores the message and its deliveries in one transaction. When the tenant already has a
   * message with this idempotency key, returns that message and its deliveries and creates
   * nothing (also under concurrent identical calls). Throws `endpoint.not_found` (nothing
   * stored) when a delivery names an unknown endpoint.
   */
  createMessage(input: CreateMessageInput): Promise<CreateMessageResult>;
  /**
   * Group commit: stores several messages in ONE transaction, in order, and resolves to one
   * result per input at the same index. Each input behaves as `createMessage` would; a later
   * input sees the earlier ones (two inputs with one idempotency or dedupe key: the second is a
   * duplicate of the first). Any error stores nothing of the batch and rejects; an empty batch
   * resolves to [] without touching the database. A store with `endpointsVersion` honours
   * `options.endpointsVersion` (CreateMessagesOptions).
   */
  createMessages(
    inputs: readonly CreateMessageInput[],
    options?: CreateMessagesOptions,
  ): Promise<CreateMessageResult[]>;
  getMessage(id: string): Promise<MessageWithDeliveries | undefined>;
  /** Deletes up to `limit` (default 1000) expired inbound dedupe keys; resolves to how many. */
  pruneInboundKeys(options?: { now?: TimeInput; limit?: number }): Promise<number>;

  // Worker -----------------------------------------------------------------------------------
  /**
   * Atomically leases up to `limit` due deliveries to `owner`: pending or retrying ones whose
   * time has come and delivering ones whose lease expired (their worker died), of enabled
   * endpoints, earliest due first. An ordered endpoint yields only its oldest unfinished
   * delivery. While a lease holds, no other claim returns the delivery.
   */
  claimDueDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Pushes the lease of a delivery the owner still holds to now + leaseMs. */
  extendLease(ref: LeaseRef & { leaseMs: number }): Promise<DeliveryRecord>;
  /**
   * Logs one attempt (numbered after every earlier one), counts it on the delivery, and updates
   * the endpoint's failure run; the status stays `delivering`.
   */
  recordAttempt(ref: LeaseRef & { attempt: AttemptInput }): Promise<AttemptOutcome>;
  /** → `delivered`. */
  completeDelivery(options: FinishOptions): Promise<DeliveryRecord>;
  /** → `retrying`, due at `nextAttemptAt`. */
  scheduleRetry(options: FinishOptions & { nextAttemptAt: TimeInput }): Promise<DeliveryRecord>;
  /** → `dead_lettered`; `reason` (when given) becomes `lastError`. */
  deadLetter(options: FinishOptions & { reason?: string | null }): Promise<DeliveryRecord>;
  /**
   * Gives a delivery back without counting an attempt (shutdown, rate limit): `pending` when it
   * was never attempted, else `retrying`; due at `nextAttemptAt` (default now).
   */
  releaseLease(ref: LeaseRef & { nextAttemptAt?: TimeInput }): Promise<DeliveryRecord>;

  // Operations -------------------------------------------------------------------------------
  getDelivery(id: string): Promise<DeliveryWithAttempts | undefined>;
  listDeliveries(options?: DeliveryListOptions): Promise<Page<DeliveryRecord>>;
  /** Delivery ids starting with `prefix` (`dlv_` may be left out), at most `limit` (default 10). */
  findDeliveriesByPrefix(prefix: string, limit?: number): Promise<string[]>;
  /**
   * The one delivery id a full id or unique prefix names; `delivery.not_found`, or
   * `delivery.ambiguous_prefix` with `details.matches`.
   */
  resolveDeliveryId(idOrPrefix: string): Promise<string>;
  /**
   * Back to `pending`, due now, attempts reset, last result cleared (the attempt log stays).
   * Same message, so the same payload and `webhook-id`. Throws `delivery.in_progress` while a
   * worker holds a live lease on it.
   */
  replayDelivery(id: string, options?: { now?: TimeInput }): Promise<DeliveryRecord>;
  /**
   * Replays every retrying or dead-lettered delivery of the endpoint created at or after
   * `since`; returns how many. (To show progress, page through `listDeliveries` with the same
   * filter and replay one by one instead.)
   */
  recoverEndpoint(options: {
    endpointId: string;
    since: TimeInput;
    now?: TimeInput;
  }): Promise<{ replayed: number }>;
  /** Queue depth by status and the age of the oldest due delivery (metrics). */
  deliveryStats(options?: { now?: TimeInput }): Promise<DeliveryStats>;

  /**
   * Optional capability: calls `listener` soon after a write commits that makes deliveries due
   * now (new messages, a replay, a recovered endpoint), so workers claim at once instead of at
   * their next poll. Memory: the same store object; SQLite: this process at once, other
   * processes through the `<database>-wake` file; PostgreSQL: LISTEN/NOTIFY, each notice one
   * listener's turn to `claim` and the others' `backup` (see WakeUp).
   * Resolves once listening, to a function that stops it. Stores without it are polled.
   */
  wakeUps?(listener: (wakeUp: WakeUp) => void): Promise<() => Promise<void>>;

  /**
   * Resolves when the backend answers a trivial query; rejects with `store.unavailable`
   * otherwise (readiness checks). Memory: always resolves.
   */
  ping(): Promise<void>;

  /**
   * Makes one small real write and resolves once it committed; rejects with `store.unavailable`
   * when it cannot (readiness: withWriteReadiness decides when it runs). SQLite first has the
   * filesystem of the database take a headroom write next to the file: in WAL mode a small
   * commit can fit in WAL pages the file already has, and pass on a full disk where ingestion,
   * which needs new pages, fails. PostgreSQL rewrites one row under a statement timeout. Memory:
   * always resolves.
   */
  probeWrite(): Promise<void>;

  /**
   * Optional capability: resolves when a write can succeed now, judged from the outcomes of the
   * latest writes and from probes; rejects with `store.unavailable` otherwise. Added by
   * withWriteReadiness (writeReadiness.ts); `/ready` asks it, or `ping` when a store lacks it.
   */
  ready?(): Promise<void>;

  /** Releases what the store opened itself (nothing when it was given a database or pool). */
  close(): Promise<void>;
}

/** The reads of the delivery queue (each SQL adapter's `deliveryQueries.ts`). */
export type DeliveryQueries = Pick<
  DeliveryStore,
  | "getMessage"
  | "getDelivery"
  | "listDeliveries"
  | "findDeliveriesByPrefix"
  | "resolveDeliveryId"
  | "deliveryStats"
>;

/** The writes after a claim: lease-guarded transitions, replay and recovery. */
export type DeliveryTransitions = Pick<
  DeliveryStore,
  | "extendLease"
  | "recordAttempt"
  | "completeDelivery"
  | "scheduleRetry"
  | "deadLetter"
  | "releaseLease"
  | "replayDelivery"
  | "recoverEndpoint"
>;

/** Options every adapter accepts. */
export interface DeliveryStoreOptions {
  /** Source of `now` and of id times; default the system clock. */
  clock?: Clock;
}
