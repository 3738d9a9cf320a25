// The loaded configuration: camelCase, defaults applied, store inputs already converted.
import type { RetryPolicy } from "@heraldjs/core/internal/core/retryPolicy.js";
import type {
  EndpointInput,
  EventTypeInput,
  SourceInput,
} from "@heraldjs/core/internal/model/deliveryRecords.js";
import type { AwsSettings, EventStoreSettings } from "./awsSettings.js";
import type { LogLevel } from "./fileSchema.js";
import type { StreamSettings } from "./streamSettings.js";
import type { FunctionsModule, NatsSettings } from "./transportSettings.js";

export interface ConfigEndpoint {
  /** Ready for createEndpoint; `secrets` holds the given secret or one generated at load. */
  input: EndpointInput & { id: string };
  /** False when the file gave no secret: an existing endpoint then keeps its secrets. */
  secretGiven: boolean;
}

export interface HeraldConfig {
  /** Absolute path of the file read; null when none was (defaults and environment only). */
  file: string | null;
  server: {
    host: string;
    port: number;
    /** Bearer token of the management API; null = none (loopback only). */
    apiKey: string | null;
    bodyLimitBytes: number;
    /** Body bytes all requests may hold at once (503 server.busy beyond). */
    maxInFlightBodyBytes: number;
    /** Time one request body may take to arrive (408 body.timeout). */
    bodyTimeoutMs: number;
    /** A request waiting for the store is answered 503 by then (../store/storeDeadlines.ts). */
    requestDeadlineMs: number;
  };
  /** SQLite path or postgres:// URL as written; null = not set (the CLI's default applies). */
  database: string | null;
  /** Global default retry policy; null = DEFAULT_RETRY_POLICY. */
  retry: RetryPolicy | null;
  /** Validated SSRF allowlist entries (CIDRs or addresses), as written. */
  ssrfAllow: string[];
  worker: { enabled: boolean; concurrency: number; leaseMs: number; pollIntervalMs: number };
  /** `allowUnsigned`: sources with scheme `none` may exist (ingest.allow_unsigned). */
  ingest: { maxBatch: number; maxWaitMs: number; allowUnsigned: boolean };
  logLevel: LogLevel;
  /**
   * `closed`: a type not in the catalogue is refused (400 event_type.unknown) at dispatch and
   * ingestion; otherwise its first message records it (`auto`).
   */
  catalog: { closed: boolean };
  /** The live streams' settings (/v1/stream): `streams:`, then HERALD_STREAM_* (streamSettings.ts). */
  streams: StreamSettings;
  eventTypes: EventTypeInput[];
  sources: SourceInput[];
  endpoints: ConfigEndpoint[];
  /** NATS for `transport: nats` endpoints; null: none (such endpoints are refused). */
  nats: NatsSettings | null;
  /** The `functions.module`, loaded; null: none (only the built-in `simulate`). */
  functions: FunctionsModule | null;
  /**
   * Where the AWS clients go (`aws:`, HERALD_AWS_*): the `sqs` and `eventbridge` transports, the
   * DynamoDB event store, `herald migrate --dynamodb`. Credentials: the SDK's standard chain.
   */
  aws: AwsSettings;
  /** The event store (`event_store:`, HERALD_EVENT_STORE, HERALD_DYNAMODB_*_TABLE). */
  eventStore: EventStoreSettings;
}
