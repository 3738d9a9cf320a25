// Applies pending PostgreSQL migrations under a session advisory lock keyed by the schema, so
// processes that start at once take turns: the first applies, the others find nothing to do.
// Each migration runs in its own transaction together with its bookkeeping row. It runs on a
// connection of its own, without the pool's timeouts: waiting for another process's migration,
// or building an index on a large table, may take longer than any request may.

import {
  loadMigrations,
  type Migration,
  type MigrationReport,
  pendingMigrations,
} from "@heraldjs/core/internal/store/migrations.js";
import pg from "pg";
import { assertSchemaName, type PgPool, untimedClientConfig } from "./database.js";

export async function migratePostgres(
  pool: PgPool,
  options: { schema?: string } = {},
): Promise<MigrationReport> {
  const schema = assertSchemaName(options.schema ?? "public");
  const migrations = postgresMigrations();
  const client = new pg.Client(untimedClientConfig(pool));
  // A connection lost between queries surfaces as the next query's error, never as a crash.
  client.on("error", () => {});
  await client.connect();
  const lockKey = `herald.migrate.${schema}`;
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [lockKey]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.herald_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number; checksum: string }>(
        `SELECT version, checksum FROM ${schema}.herald_migrations ORDER BY version`,
      );
      const pending = pendingMigrations("postgres", migrations, rows);
      for (const migration of pending) {
        await client.query("BEGIN");
        try {
          await client.query(`SET LOCAL search_path TO ${schema}`);
          await client.query(migration.sql);
          await client.query(
            `INSERT INTO ${schema}.herald_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
            [migration.version, migration.name, migration.checksum],
          );
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK").catch(() => {});
          throw error;
        }
      }
      return {
        applied: pending.map((m) => m.version),
        version: migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version,
      };
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [lockKey]);
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/** This adapter's migrations, from the `migrations/` folder beside this module. */
export function postgresMigrations(): Migration[] {
  return loadMigrations("postgres", new URL("./migrations/", import.meta.url));
}
