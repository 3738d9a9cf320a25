// Migration safety across processes: two child processes migrating one empty PostgreSQL schema
// (or one new SQLite file) at the same moment both succeed and the migrations run once; an
// applied migration that no longer matches its file is refused.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  migratePostgres,
  postgresMigrations,
} from "../../packages/postgres/src/store/postgres/migrate.js";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { migrateSqlite, sqliteMigrations } from "../../packages/sqlite/src/store/sqlite/migrate.js";
import { createTestSchema, type TestSchema, uniqueSchemaName } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { type ChildRun, repoRoot, runHerald, runNode } from "../helpers/spawnNode.js";

const dir = mkdtempSync(join(tmpdir(), "herald-migrations-"));
const dist = pathToFileURL(join(repoRoot, "packages/server/dist/store/openDatabase.js")).href;
// Imports the built library first, then waits for the shared start time, so the processes
// reach the migration itself within a millisecond or two of each other.
const script = join(dir, "migrate-at.mjs");
writeFileSync(
  script,
  `const { parseDatabaseUrl, openDatabase, migrateDatabase } = await import(${JSON.stringify(dist)});
const [db, startAt] = process.argv.slice(2);
const target = parseDatabaseUrl(db);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const database = await openDatabase(target);
try {
  console.log(JSON.stringify(await migrateDatabase(database)));
} finally {
  await database.close();
}
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `count` processes that all start migrating `db` at the same instant. */
function migrateTogether(db: string, count = 2): Promise<ChildRun[]> {
  const startAt = Date.now() + 1_500;
  return Promise.all(Array.from({ length: count }, () => runNode([script, db, String(startAt)])));
}

function expectMigratedOnce(runs: ChildRun[], versions: number[]): void {
  for (const run of runs) {
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  }
  // The library prints its MigrationReport, `herald migrate --json` names what it applied.
  const reports = runs.map(
    (run) =>
      JSON.parse(run.stdout) as { applied: (number | { version: number })[]; version: number },
  );
  for (const report of reports) expect(report.version).toBe(versions.length);
  const applied = reports.flatMap((report) =>
    report.applied.map((entry) => (typeof entry === "number" ? entry : entry.version)),
  );
  // Every migration applied by exactly one process.
  expect(applied.sort((a, b) => a - b)).toEqual(versions);
}

const sqliteVersions = sqliteMigrations().map((m) => m.version);
const postgresVersions = postgresMigrations().map((m) => m.version);

describe("SQLite: processes migrating one new file at once", () => {
  function appliedRows(path: string): unknown[] {
    const db = openSqlite(path, { readonly: true });
    try {
      return db.prepare("SELECT version FROM herald_migrations ORDER BY version").all();
    } finally {
      db.close();
    }
  }

  it.each([1, 2, 3])(
    "round %i: two library processes both succeed, migrations run once",
    async (round) => {
      const path = join(dir, `together-${round}.db`);
      expectMigratedOnce(await migrateTogether(path), sqliteVersions);
      expect(appliedRows(path)).toEqual(sqliteVersions.map((version) => ({ version })));
    },
  );

  it("two `herald migrate` processes both succeed", async () => {
    const path = join(dir, "cli.db");
    const runs = await Promise.all([
      runHerald(["migrate", "--db", path, "--json"]),
      runHerald(["migrate", "--db", path, "--json"]),
    ]);
    expectMigratedOnce(runs, sqliteVersions);
    expect(appliedRows(path)).toHaveLength(sqliteVersions.length);
  });
});

describe("SQLite: applied migrations must match their files", () => {
  it("refuses an edited migration (migration.checksum_mismatch) and changes nothing", () => {
    const db = openSqlite(":memory:");
    migrateSqlite(db);
    db.prepare("UPDATE herald_migrations SET checksum = 'not-the-file' WHERE version = 1").run();
    expect(() => migrateSqlite(db)).toThrow(
      expect.objectContaining({
        code: "migration.checksum_mismatch",
        message: expect.stringMatching(/sqlite migration 001_\w+ changed after it was applied/),
      }),
    );
    db.close();
  });

  it("refuses a database migrated by a newer Herald (migration.unknown)", () => {
    const db = openSqlite(":memory:");
    migrateSqlite(db);
    db.prepare(
      "INSERT INTO herald_migrations (version, name, checksum, applied_at) VALUES (999, 'future', 'x', 'now')",
    ).run();
    expect(() => migrateSqlite(db)).toThrow(expect.objectContaining({ code: "migration.unknown" }));
    db.close();
  });
});

const pgAvailable = await serviceAvailable("postgres");

describe.skipIf(!pgAvailable)("PostgreSQL", () => {
  let admin: TestSchema;
  const schemas: string[] = [];

  beforeAll(async () => {
    admin = await createTestSchema("migrations_admin", { migrate: false });
  });

  afterAll(async (suite) => {
    // Schemas of a failed run are kept for inspection.
    if (!suite.tasks.some((task) => task.result?.state === "fail")) {
      for (const schema of schemas) {
        await admin.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    }
    await admin.drop();
  });

  function newSchema(prefix: string): string {
    const schema = uniqueSchemaName(prefix);
    schemas.push(schema);
    return schema;
  }

  async function appliedRows(schema: string): Promise<unknown[]> {
    const { rows } = await admin.pool.query(
      `SELECT version FROM ${schema}.herald_migrations ORDER BY version`,
    );
    return rows;
  }

  it.each([1, 2, 3])(
    "round %i: two library processes on one empty schema both succeed",
    async () => {
      const schema = newSchema("together");
      expectMigratedOnce(await migrateTogether(`${admin.url}?schema=${schema}`), postgresVersions);
      expect(await appliedRows(schema)).toEqual(postgresVersions.map((version) => ({ version })));
    },
  );

  it("two `herald migrate --db postgres://… --schema X` processes both succeed", async () => {
    const schema = newSchema("cli_together");
    const args = ["migrate", "--db", admin.url, "--schema", schema, "--json"];
    expectMigratedOnce(await Promise.all([runHerald(args), runHerald(args)]), postgresVersions);
    expect(await appliedRows(schema)).toHaveLength(postgresVersions.length);
  });

  it("refuses an edited migration (migration.checksum_mismatch)", async () => {
    const schema = newSchema("checksum");
    await migratePostgres(admin.pool, { schema });
    await admin.pool.query(
      `UPDATE ${schema}.herald_migrations SET checksum = 'not-the-file' WHERE version = 2`,
    );
    await expect(migratePostgres(admin.pool, { schema })).rejects.toMatchObject({
      code: "migration.checksum_mismatch",
      message: expect.stringMatching(/postgres migration 002_\w+ changed after it was applied/),
    });
    const cli = await runHerald(["migrate", "--db", admin.url, "--schema", schema]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^error: migration\.checksum_mismatch: /);
  });

  it("refuses a schema migrated by a newer Herald (migration.unknown)", async () => {
    const schema = newSchema("unknown");
    await migratePostgres(admin.pool, { schema });
    await admin.pool.query(
      `INSERT INTO ${schema}.herald_migrations (version, name, checksum) VALUES (999, 'future', 'x')`,
    );
    await expect(migratePostgres(admin.pool, { schema })).rejects.toMatchObject({
      code: "migration.unknown",
    });
  });
});
