// `herald migrate`: applies the pending SQL migrations to the SQLite file or PostgreSQL schema
// named by --db / HERALD_DB, and says what it applied and the version the database is at.

import { postgresMigrations } from "@heraldjs/postgres/internal/store/postgres/migrate.js";
import { sqliteMigrations } from "@heraldjs/sqlite/internal/store/sqlite/migrate.js";
import { coerceError, HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { Command } from "commander";
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

export const DB_ENV = "HERALD_DB";

interface MigrateFlags {
  db?: string;
  schema?: string;
  json?: boolean;
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
Exit status: 0 migrated (or already up to date), 1 the database refused or could not be
reached, 2 usage error (e.g. an unsupported --db value).

Error codes: store.unavailable (cannot open or connect; the URL is shown without its
password), migration.checksum_mismatch (an applied migration was edited since),
migration.unknown (the database was migrated by a newer Herald), migration.failed.

Environment:
  ${DB_ENV}   the database when no --db is given (default ${DEFAULT_SQLITE_PATH})

Examples:
  $ herald migrate
  Migrated SQLite database ./herald.db
    applied 001_event_store
    …
  now at version 12
  $ herald migrate --db postgres://herald:secret@db.internal:5432/herald --schema herald --json
  {"dialect":"postgres","database":"postgres://herald:***@db.internal:5432/herald","schema":"herald","applied":[],"version":12}
`;

export function registerMigrate(program: Command, io: CliIo): Command {
  return program
    .command("migrate")
    .summary("apply pending database migrations")
    .description(
      "Apply the pending SQL migrations to a SQLite file or a PostgreSQL schema. Safe when several processes run it at once: one applies, the others wait and find nothing to do.",
    )
    .option(
      "--db <path|url>",
      `SQLite file path or postgres:// URL (default $${DB_ENV}, then ${DEFAULT_SQLITE_PATH})`,
    )
    .option("--schema <name>", "PostgreSQL schema (default public, or ?schema= in the URL)")
    .option("--json", "print the result as JSON")
    .addHelpText("after", HELP)
    .action((flags: MigrateFlags, self: Command) =>
      runAction(self, io, () => runMigrate(flags, io)),
    );
}
