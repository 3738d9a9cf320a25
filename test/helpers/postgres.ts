// A PostgreSQL schema of its own for one test file: created (and migrated) on demand, dropped
// by `drop()` — or by `dropIfPassed(suite)` in afterAll, which keeps a failed run's schema for
// inspection.
import { randomBytes } from "node:crypto";
import { createPgPool, type PgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { migratePostgres } from "../../packages/postgres/src/store/postgres/migrate.js";
import { serviceUrl } from "./services.js";

export interface TestSchema {
  schema: string;
  url: string;
  pool: PgPool;
  drop(): Promise<void>;
  /** Drops the schema when no test of `suite` failed; else keeps it (and says so), ending the pool. */
  dropIfPassed(suite: SuiteResult): Promise<void>;
}

/** What afterAll receives, as far as dropIfPassed reads it. */
interface SuiteResult {
  tasks: readonly { result?: { state?: string } }[];
}

export function uniqueSchemaName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 30);
  return `t_${clean}_${randomBytes(4).toString("hex")}`;
}

export async function createTestSchema(
  prefix: string,
  options: { migrate?: boolean; max?: number } = {},
): Promise<TestSchema> {
  const url = serviceUrl("postgres");
  const schema = uniqueSchemaName(prefix);
  const pool = createPgPool({ connectionString: url, schema, max: options.max ?? 10 });
  if (options.migrate ?? true) await migratePostgres(pool, { schema });
  else await pool.query(`CREATE SCHEMA ${schema}`);
  async function drop(): Promise<void> {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  }
  return {
    schema,
    url,
    pool,
    drop,
    async dropIfPassed(suite) {
      if (suite.tasks.every((task) => task.result?.state !== "fail")) return drop();
      console.warn(`  kept PostgreSQL schema ${schema} for inspection`);
      await pool.end();
    },
  };
}
