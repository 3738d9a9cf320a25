// `herald migrate` through the built bin, as a user runs it: a temporary SQLite file (by --db,
// by HERALD_DB, by the default name in the working directory) and a PostgreSQL schema.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { postgresMigrations } from "../../packages/postgres/src/store/postgres/migrate.js";
import { sqliteMigrations } from "../../packages/sqlite/src/store/sqlite/migrate.js";
import { uniqueSchemaName } from "../helpers/postgres.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";
import { runHerald } from "../helpers/spawnNode.js";

const dir = mkdtempSync(join(tmpdir(), "herald-migrate-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sqlite = sqliteMigrations().map((m) => ({ version: m.version, name: m.name }));
const postgres = postgresMigrations().map((m) => ({ version: m.version, name: m.name }));

describe("herald migrate (built bin) on SQLite", () => {
  it("is listed in the program help", async () => {
    const run = await runHerald(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/migrate \[options\]\s+apply pending database migrations/);
  });

  it("migrates the file given by --db, then reports it up to date", async () => {
    const path = join(dir, "flag.db");
    const first = await runHerald(["migrate", "--db", path, "--json"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      dialect: "sqlite",
      database: path,
      applied: sqlite,
      version: sqlite.length,
    });
    const second = await runHerald(["migrate", "--db", path]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(
      `SQLite database ${path} is up to date at version ${sqlite.length}\n`,
    );
  });

  it("uses HERALD_DB, else ./herald.db in the working directory", async () => {
    const fromEnv = join(dir, "env.db");
    const byEnv = await runHerald(["migrate"], { env: { HERALD_DB: fromEnv } });
    expect(byEnv.code).toBe(0);
    expect(existsSync(fromEnv)).toBe(true);

    const cwd = mkdtempSync(join(dir, "cwd-"));
    const byDefault = await runHerald(["migrate"], { cwd, env: { HERALD_DB: undefined } });
    expect(byDefault.code).toBe(0);
    expect(byDefault.stdout).toContain("Migrated SQLite database ./herald.db");
    expect(existsSync(join(cwd, "herald.db"))).toBe(true);
  });

  it("exits 2 on a usage error and 1 when the database cannot be opened", async () => {
    const usage = await runHerald(["migrate", "--db", "mysql://db/x"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: cli\.invalid_argument: /);
    const missing = await runHerald(["migrate", "--db", join(dir, "no/such/dir/h.db")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: store\.unavailable: /);
  });
});

const pgAvailable = await serviceAvailable("postgres");

describe.skipIf(!pgAvailable)("herald migrate (built bin) on PostgreSQL", () => {
  const schema = uniqueSchemaName("migrate_e2e");
  let passed = false;

  afterAll(async () => {
    if (!passed) return;
    const client = new pg.Client({ connectionString: serviceUrl("postgres") });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it("migrates a new schema, then reports it up to date", async () => {
    const url = serviceUrl("postgres");
    const first = await runHerald(["migrate", "--db", url, "--schema", schema]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`(schema ${schema})`);
    expect(first.stdout).toContain(`now at version ${postgres.length}`);
    const second = await runHerald(["migrate", "--json"], {
      env: { HERALD_DB: `${url}?schema=${schema}` },
    });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      schema,
      applied: [],
      version: postgres.length,
    });
    passed = true;
  });

  it("says which server it cannot reach, without the password", async () => {
    const run = await runHerald(["migrate", "--db", "postgres://u:hunter2@127.0.0.1:1/x"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "store.unavailable: Cannot connect to PostgreSQL at postgres://u:***@127.0.0.1:1/x",
    );
    expect(run.stderr).not.toContain("hunter2");
  });
});
