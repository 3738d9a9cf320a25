// The `aws:` and `event_store:` sections of herald.yaml: where Herald's AWS clients go (region,
// endpoint override; credentials always come from the SDK's standard chain, never the file) and
// which event store the service's event sourcing uses (its own database, or DynamoDB's two
// tables). The schemas, the settings they become, and the environment variables that override
// them (HERALD_AWS_*, HERALD_EVENT_STORE, HERALD_DYNAMODB_*_TABLE); awsResolve.ts checks and
// resolves them (kept apart: its table-name check loads the DynamoDB SDK, which every CLI
// command reaching this file's schemas would otherwise pay for).
import { z } from "zod";

/** Where the AWS clients go; null: the SDK's default (AWS_REGION, shared config; AWS's endpoints). */
export interface AwsSettings {
  region: string | null;
  /** An http(s) origin every AWS request goes to instead (an emulator, a VPC endpoint). */
  endpoint: string | null;
}

export const EVENT_STORE_BACKENDS = ["database", "dynamodb"] as const;
export type EventStoreBackend = (typeof EVENT_STORE_BACKENDS)[number];

/** The event store of event sourcing: the service's SQLite/PostgreSQL (--db), or DynamoDB. */
export type EventStoreSettings =
  | { backend: "database" }
  | { backend: "dynamodb"; eventsTable: string; inboxTable: string };

export const DEFAULT_DYNAMODB_TABLES = Object.freeze({
  eventsTable: "herald_events",
  inboxTable: "herald_inbox",
});

export const awsSectionSchema = z
  .strictObject({
    /** `us-east-1`; checked by awsClientConfig. */
    region: z.string().min(1).max(64).optional(),
    /** `http://127.0.0.1:5000`; checked by awsClientConfig. */
    endpoint: z.string().min(1).max(2048).optional(),
  })
  .nullable()
  .optional();

export const eventStoreSectionSchema = z
  .strictObject({
    backend: z.enum(EVENT_STORE_BACKENDS).optional(),
    dynamodb: z
      .strictObject({
        events_table: z.string().min(1).max(255).optional(),
        inbox_table: z.string().min(1).max(255).optional(),
      })
      .nullable()
      .optional(),
  })
  .nullable()
  .optional();

export type AwsSection = z.output<typeof awsSectionSchema>;
export type EventStoreSection = z.output<typeof eventStoreSectionSchema>;

/** The variables of this file, with the key each overrides. */
export const AWS_ENV_VARS = Object.freeze({
  HERALD_AWS_REGION: "aws.region",
  HERALD_AWS_ENDPOINT: "aws.endpoint",
  HERALD_EVENT_STORE: "event_store.backend",
  HERALD_DYNAMODB_EVENTS_TABLE: "event_store.dynamodb.events_table",
  HERALD_DYNAMODB_INBOX_TABLE: "event_store.dynamodb.inbox_table",
});
