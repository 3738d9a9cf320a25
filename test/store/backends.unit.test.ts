// The backend profiles (src/store/backends.ts): one rule per dialect for "the database is
// unavailable" (store.unavailable), the pool sizes and ingest writers, and opening, migrating and
// building each store through the profile.
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import {
  BACKENDS,
  backendFor,
  type OpenedDatabase,
} from "../../packages/server/src/store/backends.js";
import {
  openSqlite,
  type SqliteDatabase,
} from "../../packages/sqlite/src/store/sqlite/database.js";
import { HeraldError } from "../../packages/webhooks/src/core/errors.js";
import { event, uniqueStream } from "../contracts/eventStore.js";
import { tempSqlitePath } from "../helpers/sqlite.js";

/** What `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

const code = (value: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`failure ${value}`), { code: value }, extra);

/** Real better-sqlite3 errors, made on a throwaway database. */
function realSqliteErrors(): Record<string, unknown> {
  const file = tempSqlitePath();
  const holder = openSqlite(file.path);
  const impatient = openSqlite(file.path, { busyTimeoutMs: 0 });
  try {
    holder.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)");
    holder.exec("INSERT INTO t VALUES (1, 'a')");
    holder.prepare("BEGIN IMMEDIATE").run();
    const busy = thrown(() => impatient.exec("INSERT INTO t VALUES (2, 'b')"));
    holder.prepare("ROLLBACK").run();
    const primaryKey = thrown(() => holder.exec("INSERT INTO t VALUES (1, 'z')"));
    const unique = thrown(() => holder.exec("INSERT INTO t VALUES (3, 'a')"));
    const syntax = thrown(() => holder.exec("INSERT INTO"));
    const noTable = thrown(() => holder.prepare("SELECT * FROM inbox"));
    const closed = openSqlite(":memory:");
    closed.close();
    const whenClosed = thrown(() => closed.prepare("SELECT 1"));
    return { busy, primaryKey, unique, syntax, noTable, whenClosed };
  } finally {
    impatient.close();
    holder.close();
    file.cleanup();
  }
}

describe("SQLite: which failures mean the database is unavailable", () => {
  const real = realSqliteErrors();
  const isUnavailable = BACKENDS.sqlite.isUnavailable;

  it("has the real errors it expects", () => {
    expect(real.busy).toMatchObject({ code: "SQLITE_BUSY" });
    expect(real.primaryKey).toMatchObject({ code: "SQLITE_CONSTRAINT_PRIMARYKEY" });
    expect(real.unique).toMatchObject({ code: "SQLITE_CONSTRAINT_UNIQUE" });
    expect(real.syntax).toMatchObject({ code: "SQLITE_ERROR" });
    expect(real.noTable).toMatchObject({ code: "SQLITE_ERROR" });
    expect(real.whenClosed).toBeInstanceOf(TypeError);
  });

  it.each([
    ["a write lock held past the busy timeout (real)", real.busy],
    ["SQLITE_BUSY_SNAPSHOT", code("SQLITE_BUSY_SNAPSHOT")],
    ["SQLITE_LOCKED", code("SQLITE_LOCKED")],
    ["SQLITE_IOERR", code("SQLITE_IOERR")],
    ["SQLITE_IOERR_WRITE", code("SQLITE_IOERR_WRITE")],
    ["SQLITE_IOERR_FSYNC", code("SQLITE_IOERR_FSYNC")],
    ["a full disk, SQLITE_FULL", code("SQLITE_FULL")],
    ["SQLITE_READONLY", code("SQLITE_READONLY")],
    ["SQLITE_READONLY_DBMOVED", code("SQLITE_READONLY_DBMOVED")],
    ["SQLITE_CANTOPEN", code("SQLITE_CANTOPEN")],
    ["out of memory, SQLITE_NOMEM", code("SQLITE_NOMEM")],
    ["a WAL locking race, SQLITE_PROTOCOL", code("SQLITE_PROTOCOL")],
    ["the filesystem full, ENOSPC", code("ENOSPC")],
    ["over quota, EDQUOT", code("EDQUOT")],
    ["a read-only filesystem, EROFS", code("EROFS")],
    ["an I/O error, EIO", code("EIO")],
    ["a closed connection (real)", real.whenClosed],
    ["already store.unavailable", new HeraldError("store.unavailable", "gone")],
  ])("%s → unavailable", (_name, error) => {
    expect(isUnavailable(error)).toBe(true);
  });

  it.each([
    ["a primary key violation (real)", real.primaryKey],
    ["a unique violation (real)", real.unique],
    ["a syntax error (real)", real.syntax],
    ["a missing table (real)", real.noTable],
    ["SQLITE_CONSTRAINT_FOREIGNKEY", code("SQLITE_CONSTRAINT_FOREIGNKEY")],
    ["SQLITE_MISMATCH", code("SQLITE_MISMATCH")],
    ["SQLITE_TOOBIG", code("SQLITE_TOOBIG")],
    ["SQLITE_MISUSE", code("SQLITE_MISUSE")],
    ["a damaged file, SQLITE_CORRUPT", code("SQLITE_CORRUPT")],
    ["not a database, SQLITE_NOTADB", code("SQLITE_NOTADB")],
    ["a missing file, ENOENT (a migration file, say)", code("ENOENT", { syscall: "scandir" })],
    ["a PostgreSQL code", code("08006")],
    ["another TypeError", new TypeError("x is not a function")],
    ["another HeraldError", new HeraldError("migration.failed", "database connection is not open")],
    ["a plain error", new Error("boom")],
    ["not an object", "SQLITE_BUSY"],
    ["null", null],
  ])("%s → not unavailable", (_name, error) => {
    expect(isUnavailable(error)).toBe(false);
  });
});

describe("PostgreSQL: which failures mean the database is unavailable", () => {
  const isUnavailable = BACKENDS.postgres.isUnavailable;

  it.each([
    ["connection refused", code("ECONNREFUSED")],
    ["connection reset", code("ECONNRESET")],
    ["connection aborted", code("ECONNABORTED")],
    ["a socket timeout", code("ETIMEDOUT")],
    ["a broken pipe", code("EPIPE")],
    ["DNS lookup failing for now", code("EAI_AGAIN")],
    ["host unreachable", code("EHOSTUNREACH")],
    ["network unreachable", code("ENETUNREACH")],
    ["a Unix socket not there (server restarting)", code("ENOENT", { syscall: "connect" })],
    ["SQLSTATE 08006 connection failure", code("08006")],
    ["SQLSTATE 53100 disk full", code("53100")],
    ["SQLSTATE 53200 out of memory", code("53200")],
    ["SQLSTATE 53300 too many connections", code("53300")],
    ["SQLSTATE 57P01 admin shutdown", code("57P01")],
    ["SQLSTATE 57P03 cannot connect now (starting up)", code("57P03")],
    ["SQLSTATE 57014 statement timeout", code("57014")],
    ["SQLSTATE 58030 I/O error", code("58030")],
    ["SQLSTATE 25P03 idle-in-transaction session ended", code("25P03")],
    ["SQLSTATE 25006 read-only transaction (a standby)", code("25006")],
    ["SQLSTATE 55P03 lock not available (lock_timeout)", code("55P03")],
    ["a connection dying mid-query", new Error("Connection terminated unexpectedly")],
    ["the connect timeout", new Error("Connection terminated due to connection timeout")],
    ["waiting for a pooled connection", new Error("timeout exceeded when trying to connect")],
    ["a pool already ended", new Error("Cannot use a pool after calling end on the pool")],
    ["a client already closed", new Error("Client was closed and is not queryable")],
    ["the client-side query timeout (a frozen server)", new Error("Query read timeout")],
    ["already store.unavailable", new HeraldError("store.unavailable", "gone")],
  ])("%s → unavailable", (_name, error) => {
    expect(isUnavailable(error)).toBe(true);
  });

  it.each([
    ["unique violation", code("23505")],
    ["foreign key violation", code("23503")],
    ["syntax error", code("42601")],
    ["a missing table", code("42P01")],
    ["invalid json", { code: "22P02", message: "invalid input syntax for type json" }],
    ["serialization failure (retried by its caller)", code("40001")],
    ["deadlock (retried by its caller)", code("40P01")],
    ["data corrupted", code("XX001")],
    ["a missing file, ENOENT (not a socket)", code("ENOENT", { syscall: "scandir" })],
    ["a programming error", code("ERR_INVALID_ARG_TYPE")],
    ["a SQLite code", code("SQLITE_BUSY")],
    [
      "another HeraldError, whatever its message",
      new HeraldError("migration.failed", "Connection terminated unexpectedly"),
    ],
    ["a plain error", new Error("boom")],
    ["not an object", "ECONNREFUSED"],
    ["null", null],
  ])("%s → not unavailable", (_name, error) => {
    expect(isUnavailable(error)).toBe(false);
  });

  it("counts the driver's own refused connection", async () => {
    const client = new pg.Client({ host: "127.0.0.1", port: 1, connectionTimeoutMillis: 2_000 });
    const error = await client.connect().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isUnavailable(error)).toBe(true);
  });
});

describe("the profile table", () => {
  it("picks the profile by dialect, and refuses an unknown one", () => {
    expect(backendFor("sqlite")).toBe(BACKENDS.sqlite);
    expect(backendFor("postgres")).toBe(BACKENDS.postgres);
    expect(BACKENDS.sqlite.dialect).toBe("sqlite");
    expect(BACKENDS.postgres.dialect).toBe("postgres");
    expect(() => backendFor("mysql" as "sqlite")).toThrow(
      expect.objectContaining({ code: "config.invalid" }),
    );
    expect(() => backendFor("toString" as "sqlite")).toThrow(
      expect.objectContaining({ code: "config.invalid" }),
    );
  });

  it("sizes the pools per role and the ingest writers per dialect", () => {
    expect(BACKENDS.postgres.poolSize).toEqual({ serve: 20, worker: 20, cli: 2 });
    expect(BACKENDS.sqlite.poolSize).toEqual({ serve: 1, worker: 1, cli: 1 });
    expect(BACKENDS.sqlite.ingestWriters).toBe(1);
    expect(BACKENDS.postgres.ingestWriters).toBe(4);
  });
});

describe("the SQLite profile", () => {
  const opened: OpenedDatabase[] = [];
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    for (const database of opened.splice(0)) await database.close();
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  async function open(): Promise<{ database: OpenedDatabase; path: string }> {
    const file = tempSqlitePath();
    cleanups.push(file.cleanup);
    const database = await BACKENDS.sqlite.open(
      { dialect: "sqlite", path: file.path },
      { role: "cli" },
    );
    opened.push(database);
    return { database, path: file.path };
  }

  it("opens, migrates and builds each store", async () => {
    const profile = BACKENDS.sqlite;
    const { database } = await open();
    expect(database.dialect).toBe("sqlite");
    const report = await profile.migrate(database);
    expect(report.applied.length).toBeGreaterThan(0);
    expect((await profile.migrate(database)).applied).toEqual([]);

    const deliveries = await profile.deliveryStore(database);
    await deliveries.ping();
    await deliveries.probeWrite();

    const events = await profile.eventStore(database);
    const appended = await events.append(uniqueStream(), [event()]);
    expect(appended.toVersion).toBe(1);

    const dedupe = await profile.dedupeStore(database);
    expect(await dedupe.claim("k", 1_000)).toMatchObject({ claimed: true });
  });

  it("refuses a database of the other dialect", async () => {
    const { database } = await open();
    await expect(BACKENDS.postgres.deliveryStore(database)).rejects.toMatchObject({
      code: "internal",
    });
    await expect(
      BACKENDS.sqlite.open({ dialect: "postgres", url: "postgres://db/h", schema: "public" }),
    ).rejects.toMatchObject({ code: "internal" });
  });

  it("reports a migration behind a lock held too long as store.unavailable", async () => {
    const file = tempSqlitePath();
    cleanups.push(file.cleanup);
    const holder: SqliteDatabase = openSqlite(file.path);
    try {
      const database = await BACKENDS.sqlite.open(
        { dialect: "sqlite", path: file.path },
        { sqlite: { busyTimeoutMs: 20 } },
      );
      opened.push(database);
      holder.prepare("BEGIN IMMEDIATE").run();
      const error = await BACKENDS.sqlite.migrate(database).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "store.unavailable" });
      expect((error as Error).message).toMatch(/^Migrating SQLite database .* failed: /);
    } finally {
      holder.close();
    }
  });

  it("reports a migration whose SQL fails as migration.failed", async () => {
    const { database } = await open();
    if (database.dialect !== "sqlite") throw new Error("unreachable");
    database.db.exec("CREATE TABLE streams (other TEXT)");
    await expect(BACKENDS.sqlite.migrate(database)).rejects.toMatchObject({
      code: "migration.failed",
    });
  });

  it("reports a dedupe store on an unmigrated database as store.unavailable, saying so", async () => {
    const { database } = await open();
    const dedupe = await BACKENDS.sqlite.dedupeStore(database);
    const error = await dedupe.claim("k", 1_000).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "store.unavailable" });
    expect((error as Error).message).toMatch(/not migrated/);
  });
});
