// `herald migrate`: applies the pending SQL migrations to the SQLite file or PostgreSQL schema
// named by --db / HERALD_DB, and says what it applied and the version the database is at.

import { postgresMigrations } from "@heraldjs/postgres/internal/store/postgres/migrate.js";
import { sqliteMigrations } from "@heraldjs/sqlite/internal/store/sqlite/migrate.js";
import { coerceError, HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, Option } from "commander";
import {
  type DatabaseTarget,
  DEFAULT_SQLITE_PATH,
  describeDatabase,
  migrateDatabase,
  openDatabase,
  parseDatabaseUrl,
  redactDatabaseUrl,
} from "../../store/openDatabase.js";
import { runAction } from "../command.js";
import type { CliIo } from "../io.js";
import { DB_ENV } from "../options.js";
import { DYNAMODB_ACTIONS, type DynamoAction, runMigrateDynamo } from "./migrateDynamo.js";

interface MigrateFlags {
  db?: string;
  schema?: string;
  json?: boolean;
  dynamodb?: DynamoAction;
  eventsTable?: string;
  inboxTable?: string;
  config?: string;
}

/** The database the flags, then HERALD_DB, then the default name; a bad value is a usage error. */
export function resolveDatabaseFlag(
  flags: { db?: string; schema?: string },
  env: Readonly<Record<string, string | undefined>>,
): DatabaseTarget {
  const value = flags.db ?? (env[DB_ENV]?.trim() || DEFAULT_SQLITE_PATH);
  try {
    return parseDatabaseUrl(value, { schema: flags.schema });
  } catch (error) {
    const herald = coerceError(error);
    throw new HeraldError("cli.invalid_argument", herald.message, { cause: error });
  }
}

function label(version: number, name: string): string {
  return `${String(version).padStart(3, "0")}_${name}`;
}

async function runMigrate(flags: MigrateFlags, io: CliIo): Promise<number> {
  if (flags.dynamodb !== undefined) {
    if (flags.db !== undefined || flags.schema !== undefined) {
      throw new HeraldError(
        "cli.invalid_argument",
        "--dynamodb migrates DynamoDB tables: it takes no --db or --schema",
      );
    }
    return runMigrateDynamo({ ...flags, dynamodb: flags.dynamodb }, io);
  }
  const dynamoOnly = [
    ["--events-table", flags.eventsTable],
    ["--inbox-table", flags.inboxTable],
    ["--config", flags.config],
  ].find(([, value]) => value !== undefined);
  if (dynamoOnly !== undefined) {
    throw new HeraldError("cli.invalid_argument", `${dynamoOnly[0]} needs --dynamodb create|print`);
  }
  const target = resolveDatabaseFlag(flags, io.env);
  const where =
    target.dialect === "sqlite"
      ? { dialect: "sqlite", database: target.path }
      : { dialect: "postgres", database: redactDatabaseUrl(target.url), schema: target.schema };
  try {
    const database = await openDatabase(target, { role: "cli" });
    let report: Awaited<ReturnType<typeof migrateDatabase>>;
    try {
      report = await migrateDatabase(database);
    } finally {
      await database.close();
    }
    const names = new Map(
      (target.dialect === "sqlite" ? sqliteMigrations() : postgresMigrations()).map((m) => [
        m.version,
        m.name,
      ]),
    );
    const applied = report.applied.map((version) => ({
      version,
      name: names.get(version) ?? "",
    }));
    if (flags.json === true) {
      io.stdout.write(`${JSON.stringify({ ...where, applied, version: report.version })}\n`);
    } else if (applied.length === 0) {
      io.stdout.write(`${describeDatabase(target)} is up to date at version ${report.version}\n`);
    } else {
      io.stdout.write(`Migrated ${describeDatabase(target)}\n`);
      for (const m of applied) io.stdout.write(`  applied ${label(m.version, m.name)}\n`);
      io.stdout.write(`now at version ${report.version}\n`);
    }
    return 0;
  } catch (error) {
    // The database refused or could not be reached: a failure of the run, not of its usage.
    const herald = coerceError(error, "migration.failed");
    if (flags.json === true) {
      io.stdout.write(
        `${JSON.stringify({ ...where, error: { code: herald.code, message: herald.message } })}\n`,
      );
    }
    io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
    return 1;
  }
}

const HELP = `
Exit status: 0 migrated (or already up to date), 1 the database (or AWS) refused or could not
be reached, 2 usage error (e.g. an unsupported --db value).

Error codes: store.unavailable (cannot open or connect; the URL is shown without its
password), migration.checksum_mismatch (an applied migration was edited since),
migration.unknown (the database was migrated by a newer Herald), migration.failed;
with --dynamodb create, store.unavailable names the AWS error (no credentials, access
denied, endpoint unreachable).

--dynamodb: the DynamoDB event store's tables instead of SQL. print writes their
CreateTable and UpdateTimeToLive inputs as JSON (no AWS call); create creates the missing
ones (on-demand billing), waits until they are ACTIVE and turns TTL on for the inbox. Names:
the flags, else herald.yaml's event_store.dynamodb, else herald_events and herald_inbox.
Region and endpoint: herald.yaml's aws:; credentials: the AWS SDK's standard chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, web identity, roles).

Environment:
  ${DB_ENV}   the database when no --db is given (default ${DEFAULT_SQLITE_PATH})
  HERALD_CONFIG, HERALD_AWS_REGION, HERALD_AWS_ENDPOINT, HERALD_DYNAMODB_EVENTS_TABLE,
  HERALD_DYNAMODB_INBOX_TABLE   with --dynamodb, as for herald serve (docs/config.md)

Examples:
  $ herald migrate
  Migrated SQLite database ./herald.db
    applied 001_event_store
    …
  now at version 12
  $ herald migrate --db postgres://herald:secret@db.internal:5432/herald --schema herald --json
  {"dialect":"postgres","database":"postgres://herald:***@db.internal:5432/herald","schema":"herald","applied":[],"version":12}
  $ herald migrate --dynamodb print --events-table orders_events > tables.json
  $ herald migrate --dynamodb create
  created DynamoDB table herald_events (ACTIVE)
  created DynamoDB table herald_inbox (ACTIVE)
`;

export function registerMigrate(program: Command, io: CliIo): Command {
  return program
    .command("migrate")
    .summary("apply pending database migrations")
    .description(
      "Apply the pending SQL migrations to a SQLite file or a PostgreSQL schema. Safe when several processes run it at once: one applies, the others wait and find nothing to do. With --dynamodb, create (or print) the DynamoDB event store's tables instead.",
    )
    .option(
      "--db <path|url>",
      `SQLite file path or postgres:// URL (default $${DB_ENV}, then ${DEFAULT_SQLITE_PATH})`,
    )
    .option("--schema <name>", "PostgreSQL schema (default public, or ?schema= in the URL)")
    .option("--json", "print the result as JSON (--dynamodb print: on one line)")
    .addOption(
      new Option(
        "--dynamodb <action>",
        "the DynamoDB event store's tables: create them, or print their definitions",
      ).choices(DYNAMODB_ACTIONS),
    )
    .option("--events-table <name>", "with --dynamodb: the events table (default herald_events)")
    .option("--inbox-table <name>", "with --dynamodb: the inbox table (default herald_inbox)")
    .option(
      "--config <file>",
      "with --dynamodb: herald.yaml (default $HERALD_CONFIG, ./herald.yaml)",
    )
    .addHelpText("after", HELP)
    .action((flags: MigrateFlags, self: Command) =>
      runAction(self, io, () => runMigrate(flags, io)),
    );
}
