// `herald migrate` in-process through runCli on SQLite: which database it picks, what it prints
// (text and JSON), and the codes and exit statuses of its failures. The PostgreSQL half is
// migrate.int.test.ts.
import { existsSync } from "node:fs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { sqliteMigrations } from "../../packages/sqlite/src/store/sqlite/migrate.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";
import { tempSqlitePath } from "../helpers/sqlite.js";

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCliCaptured(["migrate", ...args], { env });
}

const sqliteVersions = sqliteMigrations().map((m) => ({ version: m.version, name: m.name }));
const files: { cleanup(): void }[] = [];
function tempDb(): string {
  const file = tempSqlitePath();
  files.push(file);
  return file.path;
}
afterAll(() => {
  for (const file of files) file.cleanup();
});

describe("herald migrate on SQLite", () => {
  it("has help with the environment and examples", async () => {
    const run = await cli(["--help"]);
    expect(run.code).toBe(0);
    for (const word of ["Usage: herald migrate", "--db", "--schema", "HERALD_DB", "Examples:"]) {
      expect(run.stdout).toContain(word);
    }
  });

  it("applies every migration once, then finds nothing to do", async () => {
    const path = tempDb();
    const first = await cli(["--db", path]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain(`Migrated SQLite database ${path}\n`);
    for (const { version, name } of sqliteVersions) {
      expect(first.stdout).toContain(`  applied ${String(version).padStart(3, "0")}_${name}\n`);
    }
    expect(first.stdout).toContain(`now at version ${sqliteVersions.length}\n`);

    const second = await cli(["--db", path]);
    expect(second).toEqual({
      code: 0,
      stdout: `SQLite database ${path} is up to date at version ${sqliteVersions.length}\n`,
      stderr: "",
    });
    const db = openSqlite(path, { readonly: true });
    const rows = db.prepare("SELECT version FROM herald_migrations ORDER BY version").all();
    db.close();
    expect(rows).toEqual(sqliteVersions.map(({ version }) => ({ version })));
  });

  it("prints JSON with --json", async () => {
    const path = tempDb();
    const run = await cli(["--db", path, "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      dialect: "sqlite",
      database: path,
      applied: sqliteVersions,
      version: sqliteVersions.length,
    });
    expect(JSON.parse((await cli(["--db", path, "--json"])).stdout)).toMatchObject({
      applied: [],
      version: sqliteVersions.length,
    });
  });

  it("uses HERALD_DB when --db is absent, and --db over HERALD_DB", async () => {
    const fromEnv = tempDb();
    const fromFlag = tempDb();
    expect((await cli([], { HERALD_DB: fromEnv })).code).toBe(0);
    expect(existsSync(fromEnv)).toBe(true);
    expect((await cli(["--db", fromFlag], { HERALD_DB: fromEnv })).code).toBe(0);
    expect(existsSync(fromFlag)).toBe(true);
  });

  describe("default database", () => {
    const cwd = process.cwd();
    afterEach(() => process.chdir(cwd));

    it("is ./herald.db in the working directory", async () => {
      const path = tempDb();
      process.chdir(path.replace(/herald\.db$/, ""));
      const run = await cli([]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("Migrated SQLite database ./herald.db");
      expect(existsSync(path)).toBe(true);
    });
  });

  it("refuses an edited migration with migration.checksum_mismatch (exit 1)", async () => {
    const path = tempDb();
    await cli(["--db", path]);
    const db = openSqlite(path);
    db.prepare("UPDATE herald_migrations SET checksum = 'edited' WHERE version = 2").run();
    db.close();
    const run = await cli(["--db", path]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: migration\.checksum_mismatch: sqlite migration 002_/);
    const json = await cli(["--db", path, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { code: "migration.checksum_mismatch" },
    });
  });

  it("reports a file it cannot create as store.unavailable (exit 1)", async () => {
    const run = await cli(["--db", "/nonexistent-dir/herald.db"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: store\.unavailable: Cannot open SQLite database/);
  });

  it.each([
    [["--db", "mysql://db/herald"], /Unsupported database URL scheme mysql/],
    [["--db", "./x.db", "--schema", "s"], /PostgreSQL only/],
    [["--db", "postgres://db/h", "--schema", "Robert'); DROP"], /schema name/],
    [["--db", ""], /empty/],
  ])("refuses %j as a usage error (exit 2)", async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: cli\.invalid_argument: /);
    expect(run.stderr).toMatch(message);
  });
});
