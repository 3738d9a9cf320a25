// herald.yaml's `aws:` and `event_store:` sections (awsSettings.ts) checked and resolved into
// settings, and the environment's overrides applied: the region and endpoint as awsClientConfig
// checks them, table names as the DynamoDB store checks them (checkTableName). Loaded with the
// config loader only (the table check loads the DynamoDB SDK).
import { awsClientConfig } from "@heraldjs/aws/internal/core/awsClientConfig.js";
import { checkTableName } from "@heraldjs/aws/internal/store/dynamodb/tables.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  type AWS_ENV_VARS,
  type AwsSection,
  type AwsSettings,
  DEFAULT_DYNAMODB_TABLES,
  EVENT_STORE_BACKENDS,
  type EventStoreBackend,
  type EventStoreSection,
  type EventStoreSettings,
} from "./awsSettings.js";

type Env = Readonly<Record<string, string | undefined>>;

/** A problem found in a setting: the key under its section (`region`), and what is wrong. */
export class AwsSettingError extends Error {
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly error: HeraldError,
  ) {
    super(problem);
  }
}

/** awsClientConfig's check of `region` and `endpoint`; the endpoint is kept as its origin. */
function checkedAws(region: string | null, endpoint: string | null): AwsSettings {
  try {
    const checked = awsClientConfig({
      ...(region === null ? {} : { region }),
      ...(endpoint === null ? {} : { endpoint }),
    });
    return { region: checked.region ?? null, endpoint: checked.endpoint ?? null };
  } catch (error) {
    if (!isHeraldError(error, "config.invalid")) throw error;
    const field = error.details?.field;
    const key = field === "endpoint" ? "endpoint" : "region";
    // awsClientConfig quotes a bad region; an endpoint's message shows no value.
    const problem =
      key === "region"
        ? "must be an AWS region name like us-east-1"
        : "must be an http(s) URL such as http://127.0.0.1:5000";
    throw new AwsSettingError(key, problem, error);
  }
}

function checkedTable(name: string, key: string): string {
  try {
    return checkTableName(name, key);
  } catch (error) {
    if (!isHeraldError(error, "config.invalid")) throw error;
    throw new AwsSettingError(
      key,
      "must be a DynamoDB table name: 3–255 of A-Z a-z 0-9 _ . -",
      error,
    );
  }
}

/** The `aws:` section as settings; throws AwsSettingError naming the key under `aws`. */
export function awsFromFile(section: AwsSection): AwsSettings {
  return checkedAws(section?.region ?? null, section?.endpoint ?? null);
}

/**
 * The `event_store:` section as settings, `backend` replaced by HERALD_EVENT_STORE when set (so
 * the file's table names apply when the environment switches to DynamoDB). Throws AwsSettingError
 * naming the key under `event_store` (`dynamodb.events_table`).
 */
export function eventStoreFromFile(
  section: EventStoreSection,
  backend: EventStoreBackend | undefined,
): EventStoreSettings {
  // The tables are checked even for the database backend: a typo shows before it matters.
  const tables = section?.dynamodb;
  const eventsTable = checkedTable(
    tables?.events_table ?? DEFAULT_DYNAMODB_TABLES.eventsTable,
    "dynamodb.events_table",
  );
  const inboxTable = checkedTable(
    tables?.inbox_table ?? DEFAULT_DYNAMODB_TABLES.inboxTable,
    "dynamodb.inbox_table",
  );
  const chosen = backend ?? section?.backend ?? "database";
  return chosen === "database"
    ? { backend: "database" }
    : { backend: "dynamodb", eventsTable, inboxTable };
}

function badVariable(name: string, problem: string, cause?: unknown): HeraldError {
  return new HeraldError("config.invalid", `Environment variable ${name}: ${problem}`, {
    details: { variable: name },
    ...(cause === undefined ? {} : { cause }),
  });
}

function read(env: Env, name: keyof typeof AWS_ENV_VARS): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** HERALD_EVENT_STORE, undefined when unset; throws config.invalid for another value. */
export function envEventStoreBackend(env: Env): EventStoreBackend | undefined {
  const value = read(env, "HERALD_EVENT_STORE");
  if (value === undefined) return undefined;
  const found = EVENT_STORE_BACKENDS.find((backend) => backend === value);
  if (found === undefined) {
    throw badVariable(
      "HERALD_EVENT_STORE",
      `must be database or dynamodb (got ${JSON.stringify(value.slice(0, 20))})`,
    );
  }
  return found;
}

/** `aws` with HERALD_AWS_REGION and HERALD_AWS_ENDPOINT applied (config.invalid naming one). */
export function awsFromEnv(aws: AwsSettings, env: Env): AwsSettings {
  const region = read(env, "HERALD_AWS_REGION");
  const endpoint = read(env, "HERALD_AWS_ENDPOINT");
  try {
    return checkedAws(region ?? aws.region, endpoint ?? aws.endpoint);
  } catch (error) {
    if (!(error instanceof AwsSettingError)) throw error;
    const name = error.key === "region" ? "HERALD_AWS_REGION" : "HERALD_AWS_ENDPOINT";
    throw badVariable(name, error.problem, error.error);
  }
}

/**
 * `eventStore` with HERALD_EVENT_STORE and HERALD_DYNAMODB_*_TABLE applied. A table variable
 * needs the DynamoDB backend (the file's or HERALD_EVENT_STORE's): elsewhere it would do nothing.
 */
export function eventStoreFromEnv(eventStore: EventStoreSettings, env: Env): EventStoreSettings {
  const backend = envEventStoreBackend(env) ?? eventStore.backend;
  const events = read(env, "HERALD_DYNAMODB_EVENTS_TABLE");
  const inbox = read(env, "HERALD_DYNAMODB_INBOX_TABLE");
  if (backend === "database") {
    const given = events !== undefined ? "HERALD_DYNAMODB_EVENTS_TABLE" : undefined;
    const name = given ?? (inbox !== undefined ? "HERALD_DYNAMODB_INBOX_TABLE" : undefined);
    if (name !== undefined) {
      throw badVariable(
        name,
        "needs the DynamoDB event store (event_store.backend: dynamodb or HERALD_EVENT_STORE=dynamodb)",
      );
    }
    return { backend: "database" };
  }
  const base = eventStore.backend === "dynamodb" ? eventStore : DEFAULT_DYNAMODB_TABLES;
  const table = (value: string | undefined, fallback: string, name: string): string => {
    if (value === undefined) return fallback;
    try {
      return checkedTable(value, name);
    } catch (error) {
      if (!(error instanceof AwsSettingError)) throw error;
      throw badVariable(name, error.problem, error.error);
    }
  };
  return {
    backend: "dynamodb",
    eventsTable: table(events, base.eventsTable, "HERALD_DYNAMODB_EVENTS_TABLE"),
    inboxTable: table(inbox, base.inboxTable, "HERALD_DYNAMODB_INBOX_TABLE"),
  };
}
