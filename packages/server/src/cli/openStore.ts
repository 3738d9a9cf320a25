// The store commands (replay, deliveries, messages, endpoints, sources) work on the database
// directly, no server needed: open the --db / HERALD_DB database, migrate it (so a fresh file
// works), build the delivery store, run the command, close everything. What the store refuses
// is a failure of the run (exit 1, `error: <code>: <message>`), not of its usage.

import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { coerceError, type HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, CommanderError } from "commander";
import { backendFor, type OpenedDatabase } from "../store/backends.js";
import { DEFAULT_SQLITE_PATH } from "../store/databaseTarget.js";
import { resolveDatabaseFlag } from "./commands/migrate.js";
import type { CliIo } from "./io.js";
import { DB_ENV } from "./options.js";

export interface StoreFlags {
  db?: string;
  schema?: string;
  json?: boolean;
}

/** Exit status of a run the store refused or could not serve. */
const STORE_FAILURE_EXIT_CODE = 1;

/**
 * Store errors that are really bad flag values: reported like usage errors (exit 2). Every
 * `cli.*` code is one too.
 */
const USAGE_STORE_CODES: ReadonlySet<string> = new Set(["cursor.invalid"]);

/** Adds --db and --schema, worded as `herald migrate` words them. */
export function addDatabaseOptions(command: Command): Command {
  return command
    .option(
      "--db <path|url>",
      `SQLite file path or postgres:// URL (default $${DB_ENV}, then ${DEFAULT_SQLITE_PATH})`,
    )
    .option("--schema <name>", "PostgreSQL schema (default public, or ?schema= in the URL)");
}

/** The Environment section of every store command's --help. */
export const DB_ENV_HELP = `Environment:
  ${DB_ENV}   the database when no --db is given (default ${DEFAULT_SQLITE_PATH}); created and
              migrated when needed
`;

/** `error: <code>: <message>` on stderr (with the matches of an ambiguous prefix); JSON on stdout with --json. */
function reportStoreError(error: HeraldError, flags: { json?: boolean }, io: CliIo): void {
  const matches = error.details?.matches;
  if (flags.json === true) {
    const body: Record<string, unknown> = { code: error.code, message: error.message };
    if (Array.isArray(matches)) body.matches = matches;
    io.stdout.write(`${JSON.stringify({ error: body })}\n`);
  }
  io.stderr.write(`error: ${error.code}: ${error.message}\n`);
  if (Array.isArray(matches)) {
    for (const id of matches) io.stderr.write(`  ${String(id)}\n`);
  }
}

/**
 * Opens and migrates the database the flags name, runs `body` with a delivery store on it (the
 * store's clock is the CLI's), and closes everything, also when `body` throws. Resolves to the
 * exit status: body's, or 1 after reporting a store error. Usage errors (bad --db, `cli.*` codes,
 * `cursor.invalid`) are thrown for runAction to report with exit status 2.
 */
export async function withStore(
  flags: StoreFlags,
  io: CliIo,
  body: (store: DeliveryStore) => Promise<number>,
): Promise<number> {
  const target = resolveDatabaseFlag(flags, io.env);
  let database: OpenedDatabase | undefined;
  try {
    const backend = backendFor(target.dialect);
    database = await backend.open(target, { role: "cli" });
    await backend.migrate(database);
    const store = await backend.deliveryStore(database, { clock: io.clock });
    try {
      return await body(store);
    } finally {
      await store.close();
    }
  } catch (error) {
    if (error instanceof CommanderError) throw error;
    const herald = coerceError(error);
    if (herald.code.startsWith("cli.") || USAGE_STORE_CODES.has(herald.code)) throw herald;
    reportStoreError(herald, flags, io);
    return STORE_FAILURE_EXIT_CODE;
  } finally {
    await database?.close().catch(() => {});
  }
}

/** Writes one JSON document and a newline on stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}
