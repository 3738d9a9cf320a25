// `herald migrate` in-process through runCli on PostgreSQL (a schema of its own per run): what it
// applies and prints, and that a second run applies nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresMigrations } from "../../packages/postgres/src/store/postgres/migrate.js";
import { createTestSchema, type TestSchema, uniqueSchemaName } from "../helpers/postgres.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCliCaptured(["migrate", ...args], { env });
}

const pgAvailable = await serviceAvailable("postgres");

// serviceAvailable skips loudly when PostgreSQL is down, and fails the run under CI=true.
describe.skipIf(!pgAvailable)("herald migrate on PostgreSQL", () => {
  const schemas: string[] = [];
  let admin: TestSchema;

  beforeAll(async () => {
    admin = await createTestSchema("cli_migrate_admin", { migrate: false });
  });

  afterAll(async () => {
    for (const schema of schemas) await admin.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.drop();
  });

  const versions = postgresMigrations().map((m) => ({ version: m.version, name: m.name }));

  it("migrates a new schema given by --schema, then finds nothing to do", async () => {
    const schema = uniqueSchemaName("cli_migrate");
    schemas.push(schema);
    const url = serviceUrl("postgres");
    const run = await cli(["--db", url, "--schema", schema, "--json"]);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({
      dialect: "postgres",
      database: url,
      schema,
      applied: versions,
      version: versions.length,
    });
    const again = await cli(["--db", `${url}?schema=${schema}`]);
    expect(again.stdout).toContain(
      `(schema ${schema}) is up to date at version ${versions.length}`,
    );
    const { rows } = await admin.pool.query(
      `SELECT version FROM ${schema}.herald_migrations ORDER BY version`,
    );
    expect(rows).toEqual(versions.map(({ version }) => ({ version })));
  });

  it("says which server it cannot reach, without the password (exit 1)", async () => {
    const run = await cli(["--db", "postgres://herald:hunter2@127.0.0.1:1/herald", "--json"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "error: store.unavailable: Cannot connect to PostgreSQL at postgres://herald:***@127.0.0.1:1/herald",
    );
    expect(run.stdout + run.stderr).not.toContain("hunter2");
    expect(JSON.parse(run.stdout)).toMatchObject({
      database: "postgres://herald:***@127.0.0.1:1/herald",
      error: { code: "store.unavailable" },
    });
  });
});
