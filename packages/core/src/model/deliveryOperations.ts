// Inputs and results of the delivery store's operations: what callers pass in and get back.
import type {
  AttemptInput,
  AttemptRecord,
  DeliveryInput,
  DeliveryRecord,
  DeliveryStatus,
  EndpointRecord,
  FilteredRecord,
  MessageInput,
  MessageRecord,
  PageOptions,
  TimeInput,
} from "./deliveryRecords.js";

/**
 * An inbound webhook's dedupe key, stored in the same transaction as its message (ingestion).
 * Keys are unique per source while live; an expired key no longer deduplicates.
 */
export interface InboundDedupe {
  /** The source name (`POST /webhooks/:source`). */
  source: string;
  /** The idempotency header's value, the scheme's message id, or a hash of the body. */
  key: string;
  /** When the key stops deduplicating: receipt time + the source's dedupe TTL. */
  expiresAt: TimeInput;
}

export interface CreateMessageInput {
  message: MessageInput;
  /** One per matching endpoint; may be empty (the message is stored all the same). */
  deliveries: readonly DeliveryInput[];
  /**
   * The endpoints whose event types matched but whose filter refused the message (routing.ts);
   * stored as FilteredRecords. Default none.
   */
  filtered?: readonly string[];
  /**
   * When given and the source holds this key unexpired, nothing is stored: the result is the
   * message that took the key, `created: false` (also under concurrent identical calls, from
   * any number of processes). Otherwise the key is stored (replacing an expired one) with the
   * new message.
   */
  dedupe?: InboundDedupe;
}

/** How `createMessages` writes a batch. */
export interface CreateMessagesOptions {
  /**
   * The tenant's endpoint version (DeliveryCatalog.endpointsVersion) the batch's deliveries were
   * routed on: the batch is written only while the version is still this one, checked in the
   * write's own transaction. Otherwise nothing is written and the call rejects with
   * `endpoint.version_changed` (details: tenant, expected, actual), so routing can list the
   * endpoints again. Lets a router with cached endpoints skip reading the version before each
   * batch.
   */
  endpointsVersion?: { tenant: string; version: number };
}

export interface CreateMessageResult {
  message: MessageRecord;
  deliveries: DeliveryRecord[];
  /** False when the idempotency key was already used: the first message is returned. */
  created: boolean;
}

export interface MessageWithDeliveries {
  message: MessageRecord;
  /** Oldest first. */
  deliveries: DeliveryRecord[];
  /** The endpoints the message was filtered out of, by endpoint id. */
  filtered: FilteredRecord[];
}

export interface DeliveryWithAttempts {
  delivery: DeliveryRecord;
  /** By number. */
  attempts: AttemptRecord[];
}

/** A claimed delivery with what the worker needs to send it. */
export interface ClaimedDelivery {
  delivery: DeliveryRecord;
  message: MessageRecord;
  endpoint: EndpointRecord;
}

export interface ClaimOptions {
  /** Identifies the worker; only it may finish the deliveries it claimed. */
  owner: string;
  /** Most deliveries to claim. */
  limit: number;
  /** How long the claim holds; longer than the endpoint timeout plus bookkeeping. */
  leaseMs: number;
  /** Default: the store's clock. */
  now?: TimeInput;
}

/** Identifies a claimed delivery and its claimant for the lease-guarded operations. */
export interface LeaseRef {
  deliveryId: string;
  owner: string;
  /** Default: the store's clock. The lease must still hold at this time. */
  now?: TimeInput;
}

export interface AttemptOutcome {
  attempt: AttemptRecord;
  delivery: DeliveryRecord;
  /** The endpoint's failure run after this attempt, for auto-disable decisions. */
  endpointHealth: { consecutiveFailures: number; failingSince: string | null };
}

export interface FinishOptions extends LeaseRef {
  /** Logged in the same transaction as the status change, when given. */
  attempt?: AttemptInput;
}

export interface DeliveryListOptions extends PageOptions {
  status?: DeliveryStatus | readonly DeliveryStatus[];
  endpointId?: string;
  messageId?: string;
  /** Only deliveries created at or after this time. */
  createdSince?: TimeInput;
  /** By creation time; default `newest`. */
  order?: "newest" | "oldest";
}

export interface EndpointListOptions extends PageOptions {
  tenant?: string;
  enabled?: boolean;
}

/** Statuses counted by `deliveryStats` (delivered is a counter's job, not a row count). */
export type QueuedDeliveryStatus = Exclude<DeliveryStatus, "delivered">;

export interface DeliveryStats {
  depth: Record<QueuedDeliveryStatus, number>;
  /**
   * The earliest due time among due deliveries (pending or retrying and due, or delivering with
   * an expired lease) of enabled endpoints; null when nothing is due.
   */
  oldestDueAt: string | null;
  /** now − oldestDueAt in ms; null when nothing is due. */
  oldestDueAgeMs: number | null;
}
