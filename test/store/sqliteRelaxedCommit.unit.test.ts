// The worker's SQLite writes (claims, attempt outcomes) commit without their own fsync
// (`ctx.relaxed`): synchronous=NORMAL for that transaction only, back to the connection's
// setting after it, also when it fails; ingestion's commits keep synchronous=FULL.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  openSqlite,
  type SqliteDatabase,
} from "../../packages/sqlite/src/store/sqlite/database.js";
import { sqliteContext } from "../../packages/sqlite/src/store/sqlite/deliverySql.js";

const FULL = 2;
const NORMAL = 1;

describe("SQLite relaxed commits", () => {
  const dirs: string[] = [];
  const dbs: SqliteDatabase[] = [];
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function open(durability: "full" | "normal"): SqliteDatabase {
    const dir = mkdtempSync(join(tmpdir(), "herald-relaxed-"));
    dirs.push(dir);
    const db = openSqlite(join(dir, "herald.db"), { durability });
    dbs.push(db);
    db.exec("CREATE TABLE t (v INTEGER)");
    return db;
  }

  const synchronous = (db: SqliteDatabase) => db.pragma("synchronous", { simple: true });

  it("runs the transaction at NORMAL and restores FULL after it", () => {
    const db = open("full");
    const ctx = sqliteContext(db);
    const inside = ctx.relaxed(() => {
      db.prepare("INSERT INTO t VALUES (1)").run();
      return synchronous(db);
    });
    expect(inside).toBe(NORMAL);
    expect(synchronous(db)).toBe(FULL);
    expect(ctx.immediate(() => synchronous(db))).toBe(FULL);
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 1 });
  });

  it("restores FULL when the transaction fails, and rolls it back", () => {
    const db = open("full");
    const ctx = sqliteContext(db);
    expect(() =>
      ctx.relaxed(() => {
        db.prepare("INSERT INTO t VALUES (1)").run();
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(synchronous(db)).toBe(FULL);
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
  });

  it("leaves a NORMAL connection as it is", () => {
    const db = open("normal");
    const ctx = sqliteContext(db);
    expect(ctx.relaxed(() => synchronous(db))).toBe(NORMAL);
    expect(synchronous(db)).toBe(NORMAL);
  });
});
