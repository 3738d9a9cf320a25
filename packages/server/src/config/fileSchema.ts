// The shape of herald.yaml (snake_case). Sections and lists may be left empty (`server:`);
// defaults are applied by the loader (CONFIG_DEFAULTS) so they are stated once.

import {
  DEFAULT_LEASE_MS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_WORKER_CONCURRENCY,
} from "@heraldjs/core/internal/delivery/deliveryWorker.js";
import {
  DEFAULT_INGEST_MAX_BATCH,
  DEFAULT_MAX_BODY_BYTES,
} from "@heraldjs/core/internal/model/constants.js";
import {
  DEFAULT_REQUEST_DEADLINE_MS,
  MAX_REQUEST_DEADLINE_MS,
  MIN_REQUEST_DEADLINE_MS,
} from "@heraldjs/core/internal/store/storeDeadlines.js";
import { keySchema } from "@heraldjs/spec/internal/wire/common.js";
import { wireRetrySchema } from "@heraldjs/spec/internal/wire/retry.js";
import { z } from "zod";
import { wireEndpointCreateSchema } from "../wire/endpoint.js";
import { wireEventTypeSchema } from "../wire/eventType.js";
import { wireSourceSchema } from "../wire/source.js";
import { awsSectionSchema, eventStoreSectionSchema } from "./awsSettings.js";
import { streamsSectionSchema } from "./streamSettings.js";
import { functionsSectionSchema, natsSectionSchema } from "./transportSettings.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const CONFIG_DEFAULTS = Object.freeze({
  host: "127.0.0.1",
  port: 8080,
  bodyLimitBytes: DEFAULT_MAX_BODY_BYTES,
  /** All request bodies being received at once (bytes); at least bodyLimitBytes. */
  maxInFlightBodyBytes: 33_554_432,
  bodyTimeoutMs: 10_000,
  requestDeadlineMs: DEFAULT_REQUEST_DEADLINE_MS,
  workerEnabled: true,
  concurrency: DEFAULT_WORKER_CONCURRENCY,
  leaseMs: DEFAULT_LEASE_MS,
  pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
  maxBatch: DEFAULT_INGEST_MAX_BATCH,
  maxWaitMs: 0,
  logLevel: "info" as LogLevel,
  catalogClosed: false,
});

export const MAX_PORT = 65_535;

const logLevelSchema = z.enum(LOG_LEVELS);

/** Endpoints declared in the file need an id, so a restart updates the same endpoint. */
export const configEndpointSchema = wireEndpointCreateSchema.extend({ id: keySchema });

const section = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape).nullable().optional();
const list = <T extends z.ZodType>(item: T) => z.array(item).nullable().optional();

export const configFileSchema = z.strictObject({
  server: section({
    host: z.string().min(1).max(255).optional(),
    port: z.int().min(0).max(MAX_PORT).optional(),
    /** Bearer token of the management API; without it the server binds to loopback only. */
    api_key: z.string().min(1).max(1024).nullable().optional(),
    body_limit_bytes: z
      .int()
      .min(1)
      .max(1024 ** 3)
      .optional(),
    max_inflight_body_bytes: z
      .int()
      .min(1)
      .max(16 * 1024 ** 3)
      .optional(),
    body_timeout_ms: z.int().min(100).max(600_000).optional(),
    /** A request waiting for the store is answered 503 store.unavailable by then. */
    request_deadline_ms: z
      .int()
      .min(MIN_REQUEST_DEADLINE_MS)
      .max(MAX_REQUEST_DEADLINE_MS)
      .optional(),
  }),
  /** A SQLite file path or a postgres:// URL; default (the CLI's): ./herald.db. */
  database: z.string().min(1).max(4096).nullable().optional(),
  /** The global default retry policy of endpoints without their own. */
  retry: wireRetrySchema.nullable().optional(),
  ssrf: section({ allow: z.array(z.string().min(1).max(64)).max(1024).nullable().optional() }),
  worker: section({
    enabled: z.boolean().optional(),
    concurrency: z.int().min(1).max(1_000).optional(),
    lease_ms: z.int().min(1_000).max(3_600_000).optional(),
    poll_interval_ms: z.int().min(10).max(60_000).optional(),
  }),
  ingest: section({
    max_batch: z.int().min(1).max(10_000).optional(),
    max_wait_ms: z.number().min(0).max(1_000).optional(),
    /** Allow sources with scheme `none` (unsigned webhooks); default false. */
    allow_unsigned: z.boolean().optional(),
  }),
  log: section({ level: logLevelSchema.optional() }),
  /** closed: only declared event types are accepted (dispatch and ingestion); default false. */
  catalog: section({ closed: z.boolean().optional() }),
  /** The live streams (/v1/stream): poll_ms, heartbeat_ms, max_buffer_bytes, retry_ms. */
  streams: streamsSectionSchema,
  event_types: list(wireEventTypeSchema),
  sources: list(wireSourceSchema),
  endpoints: list(configEndpointSchema),
  /** NATS JetStream for `transport: nats` endpoints (transportSettings.ts). */
  nats: natsSectionSchema,
  /** The AWS clients' region and endpoint override (awsSettings.ts); credentials: the SDK's chain. */
  aws: awsSectionSchema,
  /** The event store of event sourcing: `database` (default) or `dynamodb` with its tables. */
  event_store: eventStoreSectionSchema,
  /** The module whose exports are the functions of `transport: function` endpoints. */
  functions: functionsSectionSchema,
  /** The webhooks spec (docs/spec.md): read by the spec loader, applied by `herald serve`. */
  webhooks: z.unknown().optional(),
  /** The webhooks spec's `info` (title and version of its OpenAPI and AsyncAPI documents). */
  info: z.unknown().optional(),
});

export type ConfigFile = z.output<typeof configFileSchema>;
