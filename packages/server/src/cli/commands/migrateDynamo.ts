// `herald migrate --dynamodb create|print`: the DynamoDB event store's two tables. `print` writes
// their CreateTable and UpdateTimeToLive inputs as JSON (for the AWS CLI's --cli-input-json,
// CloudFormation or Terraform) without calling AWS; `create` creates what is missing, waits until
// it is ACTIVE and turns TTL on, then says what it created or found. The names come from
// --events-table / --inbox-table, else herald.yaml's `event_store.dynamodb` and
// HERALD_DYNAMODB_*_TABLE, else the defaults; region and endpoint from `aws:` / HERALD_AWS_*.
// The AWS SDK and the config loader are imported only when this runs: other commands never pay.

import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { AwsSettings } from "../../config/awsSettings.js";
import type { CliIo } from "../io.js";

export const DYNAMODB_ACTIONS = ["create", "print"] as const;
export type DynamoAction = (typeof DYNAMODB_ACTIONS)[number];

export interface MigrateDynamoFlags {
  dynamodb: DynamoAction;
  eventsTable?: string;
  inboxTable?: string;
  config?: string;
  json?: boolean;
}

interface Resolved {
  names: { events: string; inbox: string };
  aws: AwsSettings;
}

/**
 * The table names and AWS settings: the config as `herald serve` would read it, with the event
 * store taken as DynamoDB (so the file's and the environment's table names apply whatever
 * `backend` says), the flags on top. A bad name or config is thrown (a usage error, exit 2).
 */
async function resolve(flags: MigrateDynamoFlags, io: CliIo): Promise<Resolved> {
  const [{ loadConfig }, { checkTableName }] = await Promise.all([
    import("../../config/load.js"),
    import("@heraldjs/aws/internal/store/dynamodb/tables.js"),
  ]);
  const config = await loadConfig({
    ...(flags.config === undefined ? {} : { path: flags.config }),
    env: { ...io.env, HERALD_EVENT_STORE: "dynamodb" },
  });
  const store = config.eventStore;
  const fromConfig =
    store.backend === "dynamodb"
      ? { events: store.eventsTable, inbox: store.inboxTable }
      : { events: "herald_events", inbox: "herald_inbox" };
  const flag = (value: string | undefined, fallback: string, name: string): string => {
    if (value === undefined) return fallback;
    try {
      return checkTableName(value, name);
    } catch (error) {
      if (!isHeraldError(error, "config.invalid")) throw error;
      throw new HeraldError(
        "cli.invalid_argument",
        `${name} must be a DynamoDB table name: 3–255 of A-Z a-z 0-9 _ . -`,
        { cause: error },
      );
    }
  };
  const names = {
    events: flag(flags.eventsTable, fromConfig.events, "--events-table"),
    inbox: flag(flags.inboxTable, fromConfig.inbox, "--inbox-table"),
  };
  if (names.events === names.inbox) {
    throw new HeraldError(
      "cli.invalid_argument",
      `The events and inbox tables must differ (both ${names.events})`,
    );
  }
  return { names, aws: config.aws };
}

/** `print`: each table's CreateTable input and, for the inbox, its UpdateTimeToLive input. */
async function printTables(resolved: Resolved, flags: MigrateDynamoFlags, io: CliIo) {
  const { tableDefinitions } = await import("@heraldjs/aws/internal/store/dynamodb/tables.js");
  const tables = tableDefinitions(resolved.names).map((definition) => ({
    CreateTable: definition.create,
    UpdateTimeToLive:
      definition.timeToLive === undefined
        ? null
        : {
            TableName: definition.create.TableName,
            TimeToLiveSpecification: {
              AttributeName: definition.timeToLive.attributeName,
              Enabled: true,
            },
          },
  }));
  const text = JSON.stringify({ tables }, null, flags.json === true ? undefined : 2);
  io.stdout.write(`${text}\n`);
  return 0;
}

/**
 * What an AWS failure says: the SDK error's name and message (they hold no credentials), with
 * where to set what is missing when it is the region or the credentials.
 */
function awsProblem(error: unknown): HeraldError {
  if (error instanceof HeraldError) return error;
  const name = error instanceof Error && error.name !== "Error" ? `${error.name}: ` : "";
  const message = error instanceof Error ? error.message : String(error);
  let hint = "";
  if (/region is missing/i.test(message)) {
    hint = " (set aws.region in herald.yaml, HERALD_AWS_REGION or AWS_REGION)";
  } else if (name.startsWith("CredentialsProviderError")) {
    hint =
      " (the AWS SDK's chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, web identity, a container or instance role)";
  }
  return new HeraldError("store.unavailable", `DynamoDB: ${name}${message}${hint}`, {
    cause: error,
  });
}

/** `create`: ensureTables on a client of the configured region and endpoint. */
async function createTables(resolved: Resolved, flags: MigrateDynamoFlags, io: CliIo) {
  const { ensureTablesAt } = await import("@heraldjs/aws/internal/store/dynamodb/tables.js");
  const { region, endpoint } = resolved.aws;
  const where = { region, endpoint };
  try {
    const tables = await ensureTablesAt(
      {
        ...(region === null ? {} : { region }),
        ...(endpoint === null ? {} : { endpoint }),
      },
      resolved.names,
    );
    if (flags.json === true) {
      io.stdout.write(`${JSON.stringify({ ...where, tables })}\n`);
    } else {
      for (const table of tables) {
        io.stdout.write(
          `${table.created ? "created" : "found  "} DynamoDB table ${table.name} (ACTIVE)\n`,
        );
      }
    }
    return 0;
  } catch (error) {
    // AWS refused or could not be reached: a failure of the run (exit 1), not of its usage.
    const herald = awsProblem(error);
    if (flags.json === true) {
      const body = { ...where, error: { code: herald.code, message: herald.message } };
      io.stdout.write(`${JSON.stringify(body)}\n`);
    }
    io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
    return 1;
  }
}

/** Runs `herald migrate --dynamodb …`; usage problems are thrown (exit 2). */
export async function runMigrateDynamo(flags: MigrateDynamoFlags, io: CliIo): Promise<number> {
  const resolved = await resolve(flags, io);
  return flags.dynamodb === "print"
    ? printTables(resolved, flags, io)
    : createTables(resolved, flags, io);
}
