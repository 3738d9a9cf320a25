// Where Herald's data lives, from one `--db` / HERALD_DB value: a SQLite file path or a
// postgres:// URL (with an optional schema); opening it, migrating it, and naming it in
// messages without the password.
import { HeraldError } from "../core/errors.js";
import type { MigrationReport } from "./migrations.js";
import { assertSchemaName, createPgPool, type PgPool } from "./postgres/database.js";
import { migratePostgres } from "./postgres/migrate.js";
import { type OpenSqliteOptions, openSqlite, type SqliteDatabase } from "./sqlite/database.js";
import { migrateSqlite } from "./sqlite/migrate.js";
import type { PgTimeouts } from "./storeDeadlines.js";

export const DEFAULT_SQLITE_PATH = "./herald.db";

export type DatabaseTarget =
  | { dialect: "sqlite"; path: string }
  | { dialect: "postgres"; url: string; schema: string };

const POSTGRES = /^postgres(?:ql)?:\/\//i;
const ANY_URL = /^([a-z][a-z0-9+.-]*):\/\//i;

function invalid(message: string): never {
  throw new HeraldError("config.invalid", message);
}

/**
 * Reads a database location: `postgres://…` or `postgresql://…` (schema from `options.schema`
 * or the URL's `?schema=`, default `public`; the parameter is removed from the URL), otherwise
 * a SQLite file path (`sqlite:` prefix optional, `:memory:` allowed). Throws HeraldError
 * `config.invalid` for an empty value, another URL scheme, a bad schema name, or a schema for
 * SQLite.
 */
export function parseDatabaseUrl(
  value: string,
  options: { schema?: string | undefined } = {},
): DatabaseTarget {
  const text = value.trim();
  if (text === "")
    invalid("The database location is empty: give a SQLite file path or a postgres:// URL");
  if (POSTGRES.test(text)) {
    if (!URL.canParse(text)) invalid(`Invalid PostgreSQL URL ${redactDatabaseUrl(text)}`);
    const url = new URL(text);
    const fromUrl = url.searchParams.get("schema") ?? undefined;
    url.searchParams.delete("schema");
    if (options.schema !== undefined && fromUrl !== undefined && options.schema !== fromUrl) {
      invalid(`The schema is given twice: ${options.schema} and ?schema=${fromUrl} in the URL`);
    }
    const schema = assertSchemaName(options.schema ?? fromUrl ?? "public");
    return { dialect: "postgres", url: url.toString(), schema };
  }
  const scheme = ANY_URL.exec(text)?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== "sqlite") {
    invalid(
      `Unsupported database URL scheme ${scheme}: give a SQLite file path or a postgres:// URL`,
    );
  }
  if (options.schema !== undefined) invalid("A schema applies to PostgreSQL only, not to SQLite");
  // sqlite:/abs, sqlite:///abs and sqlite:rel all name a file.
  const path = text.replace(/^sqlite:(?:\/\/(?=\/))?/i, "");
  if (path === "") invalid("The SQLite path is empty");
  return { dialect: "sqlite", path };
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  if (!URL.canParse(url)) return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.toString();
}

/** `SQLite database ./herald.db`, `PostgreSQL postgres://u:***@h/db (schema herald)`. */
export function describeDatabase(target: DatabaseTarget): string {
  return target.dialect === "sqlite"
    ? `SQLite database ${target.path}`
    : `PostgreSQL ${redactDatabaseUrl(target.url)} (schema ${target.schema})`;
}

export type OpenedDatabase =
  | { dialect: "sqlite"; target: DatabaseTarget; db: SqliteDatabase; close(): Promise<void> }
  | {
      dialect: "postgres";
      target: DatabaseTarget;
      pool: PgPool;
      schema: string;
      close(): Promise<void>;
    };

export interface OpenDatabaseOptions {
  sqlite?: OpenSqliteOptions;
  /** PostgreSQL pool size; default 10. */
  max?: number;
  /** PostgreSQL timeouts (storeDeadlines().pg); none by default (see createPgPool). */
  pgTimeouts?: PgTimeouts;
}

/**
 * Opens the database and checks it answers (HeraldError `store.unavailable` naming it, password
 * hidden, when it does not). The caller closes it.
 */
export async function openDatabase(
  target: DatabaseTarget,
  options: OpenDatabaseOptions = {},
): Promise<OpenedDatabase> {
  if (target.dialect === "sqlite") {
    const db = openSqlite(target.path, options.sqlite);
    return { dialect: "sqlite", target, db, close: async () => void db.close() };
  }
  const pool = createPgPool({
    connectionString: target.url,
    schema: target.schema,
    ...(options.max === undefined ? {} : { max: options.max }),
    ...(options.pgTimeouts === undefined ? {} : { timeouts: options.pgTimeouts }),
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new HeraldError(
      "store.unavailable",
      `Cannot connect to PostgreSQL at ${redactDatabaseUrl(target.url)}: ${reason || "connection failed"}`,
      { cause: error },
    );
  }
  return {
    dialect: "postgres",
    target,
    pool,
    schema: target.schema,
    close: () => pool.end(),
  };
}

/** Errors that mean "cannot reach or lock the database", not "this SQL is wrong". */
function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return (
    /^(08|57P0[1-3]|53300)/.test(code) || // PostgreSQL connection and shutdown classes
    /^E[A-Z]+$/.test(code) || // Node socket errors: ECONNRESET, ETIMEDOUT…
    /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY)/.test(code)
  );
}

/**
 * Applies the pending migrations. Errors: `migration.checksum_mismatch`, `migration.unknown`,
 * `migration.invalid` from the runner; `migration.failed` when a migration's SQL fails;
 * `store.unavailable` when the database goes away or stays locked.
 */
export async function migrateDatabase(database: OpenedDatabase): Promise<MigrationReport> {
  try {
    return database.dialect === "sqlite"
      ? migrateSqlite(database.db)
      : await migratePostgres(database.pool, { schema: database.schema });
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new HeraldError(
      isUnavailable(error) ? "store.unavailable" : "migration.failed",
      `Migrating ${describeDatabase(database.target)} failed: ${reason}`,
      { cause: error },
    );
  }
}
