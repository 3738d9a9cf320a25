// PostgreSQL connection pool scoped to one schema (search_path), and a transaction helper.
import pg from "pg";
import { HeraldError } from "../../core/errors.js";

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PgPoolOptions {
  connectionString: string;
  /** Schema holding Herald's tables (created by the migrations); default `public`. */
  schema?: string;
  /** Pool size; default 10. */
  max?: number;
  /** How long to wait for a connection before failing; default 10000 ms (never hang). */
  connectionTimeoutMs?: number;
}

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new HeraldError(
      "config.invalid",
      `Invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lowercase letters, digits, _`,
    );
  }
  return schema;
}

export function createPgPool(options: PgPoolOptions): PgPool {
  const schema = assertSchemaName(options.schema ?? "public");
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    // Every connection resolves unqualified table names in Herald's schema.
    options: `-c search_path=${schema}`,
  });
  // An idle client losing its connection must not crash the process; the next query fails.
  pool.on("error", () => {});
  return pool;
}

/** Runs `fn` in a transaction on one client: COMMIT when it resolves, ROLLBACK when it throws. */
export async function withTransaction<T>(
  pool: PgPool,
  fn: (client: PgClient) => Promise<T>,
  isolation: "read committed" | "repeatable read" | "serializable" = "read committed",
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
