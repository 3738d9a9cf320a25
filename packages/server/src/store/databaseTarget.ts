// Where Herald's data lives, from one `--db` / HERALD_DB value: a SQLite file path or a
// postgres:// URL (with an optional schema), and naming it in messages without the password.
// Opening and migrating it is the backend profile's (./backends.ts).

import { assertSchemaName } from "@heraldjs/postgres/internal/store/postgres/database.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

export { DEFAULT_SQLITE_PATH } from "./sqliteDefault.js";

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
