// Schema drift: a freshly migrated SQLite database and PostgreSQL schema must match the
// committed snapshots in test/store/schema/. A migration change shows up here as a diff to
// review; HERALD_UPDATE_SCHEMA=1 rewrites the snapshots once the change is intended.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  openSqlite,
  type SqliteDatabase,
} from "../../packages/sqlite/src/store/sqlite/database.js";
import { migrateSqlite } from "../../packages/sqlite/src/store/sqlite/migrate.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { dumpPostgresSchema, dumpSqliteSchema } from "./schemaDump.js";

const SNAPSHOTS = join(import.meta.dirname, "schema");
const UPDATE = process.env.HERALD_UPDATE_SCHEMA === "1";
const REFRESH = "HERALD_UPDATE_SCHEMA=1 npx vitest run test/store/schemaDrift.int.test.ts";

function header(dialect: string): string {
  return `# Schema of a freshly migrated ${dialect} database, checked by test/store/schemaDrift.int.test.ts.\n# After an intended migration change, refresh with: ${REFRESH}\n\n`;
}

/** Compares with the committed snapshot, or rewrites it under HERALD_UPDATE_SCHEMA=1. */
function expectSnapshot(file: string, dialect: string, dump: string): void {
  const path = join(SNAPSHOTS, file);
  const actual = header(dialect) + dump;
  if (UPDATE) {
    writeFileSync(path, actual);
    return;
  }
  const expected = existsSync(path) ? readFileSync(path, "utf8") : "(no snapshot yet)";
  expect(
    actual,
    `The ${dialect} schema built by the migrations differs from test/store/schema/${file}. If the migration change is intended, refresh the snapshot with:\n  ${REFRESH}\nand commit the diff.`,
  ).toBe(expected);
}

describe("SQLite schema", () => {
  let db: SqliteDatabase;

  beforeAll(() => {
    db = openSqlite(":memory:");
    migrateSqlite(db);
  });

  afterAll(() => db.close());

  it("matches test/store/schema/sqlite.txt", () => {
    expectSnapshot("sqlite.txt", "SQLite", dumpSqliteSchema(db));
  });

  it("the dump notices a change (so the drift test can fail)", () => {
    const other = openSqlite(":memory:");
    migrateSqlite(other);
    const before = dumpSqliteSchema(other);
    expect(before).toContain("CREATE TABLE inbox");
    other.exec("CREATE INDEX inbox_token ON inbox (token)");
    expect(dumpSqliteSchema(other)).not.toBe(before);
    other.close();
  });
});

const pgAvailable = await serviceAvailable("postgres");

describe.skipIf(!pgAvailable)("PostgreSQL schema", () => {
  let test: TestSchema;

  beforeAll(async () => {
    test = await createTestSchema("schema_drift");
  });

  // A failed run keeps its schema for inspection.
  afterAll((suite) => test.dropIfPassed(suite));

  it("matches test/store/schema/postgres.txt", async () => {
    const dump = await dumpPostgresSchema(test.pool, test.schema);
    expect(dump).not.toContain(test.schema);
    expectSnapshot("postgres.txt", "PostgreSQL", dump);
  });

  it("the dump notices a change (so the drift test can fail)", async () => {
    const before = await dumpPostgresSchema(test.pool, test.schema);
    expect(before).toMatch(/^table inbox$/m);
    expect(before).toMatch(/^ {2}column expires_at timestamp with time zone not null$/m);
    await test.pool.query("ALTER TABLE inbox ALTER COLUMN token DROP NOT NULL");
    try {
      expect(await dumpPostgresSchema(test.pool, test.schema)).not.toBe(before);
    } finally {
      await test.pool.query("ALTER TABLE inbox ALTER COLUMN token SET NOT NULL");
    }
  });
});
