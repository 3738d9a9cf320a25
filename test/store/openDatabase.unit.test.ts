// Reading a --db / HERALD_DB value, and naming a database without its password.
import { describe, expect, it } from "vitest";
import {
  describeDatabase,
  openDatabase,
  parseDatabaseUrl,
  redactDatabaseUrl,
} from "../../packages/server/src/store/openDatabase.js";

describe("parseDatabaseUrl", () => {
  it.each([
    ["./herald.db", "./herald.db"],
    ["/var/lib/herald/herald.db", "/var/lib/herald/herald.db"],
    ["  data/h.db  ", "data/h.db"],
    [":memory:", ":memory:"],
    ["sqlite:data/h.db", "data/h.db"],
    ["sqlite:///var/h.db", "/var/h.db"],
    ["C:\\data\\herald.db", "C:\\data\\herald.db"],
  ])("reads %j as the SQLite file %j", (value, path) => {
    expect(parseDatabaseUrl(value)).toEqual({ dialect: "sqlite", path });
  });

  it("reads postgres URLs with the schema from the option, the URL, or public", () => {
    expect(parseDatabaseUrl("postgres://u:p@db:5432/herald")).toEqual({
      dialect: "postgres",
      url: "postgres://u:p@db:5432/herald",
      schema: "public",
    });
    expect(parseDatabaseUrl("postgresql://db/herald?schema=events&sslmode=require")).toEqual({
      dialect: "postgres",
      url: "postgresql://db/herald?sslmode=require",
      schema: "events",
    });
    expect(parseDatabaseUrl("postgres://db/herald", { schema: "herald" })).toMatchObject({
      schema: "herald",
    });
    expect(parseDatabaseUrl("postgres://db/h?schema=a", { schema: "a" })).toMatchObject({
      schema: "a",
    });
  });

  it.each([
    ["", {}, /empty/],
    ["   ", {}, /empty/],
    ["mysql://db/herald", {}, /Unsupported database URL scheme mysql/],
    ["./herald.db", { schema: "x" }, /PostgreSQL only/],
    ["postgres://db/h", { schema: "Bad-Name" }, /schema name/],
    ["postgres://db/h?schema=a", { schema: "b" }, /given twice/],
    ["sqlite:", {}, /empty/],
  ])("refuses %j %j", (value, options, message) => {
    expect(() => parseDatabaseUrl(value, options)).toThrow(
      expect.objectContaining({ code: "config.invalid", message: expect.stringMatching(message) }),
    );
  });
});

describe("redactDatabaseUrl", () => {
  it("hides the password and nothing else", () => {
    expect(redactDatabaseUrl("postgres://herald:s3cr%40t@db:5432/h")).toBe(
      "postgres://herald:***@db:5432/h",
    );
    expect(redactDatabaseUrl("postgres://herald@db/h")).toBe("postgres://herald@db/h");
    expect(redactDatabaseUrl("postgres://u:pw@[bad")).toBe("postgres://u:***@[bad");
  });

  it("is what describeDatabase shows", () => {
    expect(
      describeDatabase({ dialect: "postgres", url: "postgres://u:pw@db/h", schema: "s" }),
    ).toBe("PostgreSQL postgres://u:***@db/h (schema s)");
    expect(describeDatabase({ dialect: "sqlite", path: "./herald.db" })).toBe(
      "SQLite database ./herald.db",
    );
  });
});

describe("openDatabase", () => {
  it("names the unreachable server without its password", async () => {
    const target = parseDatabaseUrl("postgres://u:hunter2@127.0.0.1:1/h");
    const error = await openDatabase(target).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "store.unavailable" });
    expect((error as Error).message).toContain("postgres://u:***@127.0.0.1:1/h");
    expect((error as Error).message).not.toContain("hunter2");
  });

  it("reports a SQLite file that cannot be created as store.unavailable", async () => {
    await expect(
      openDatabase({ dialect: "sqlite", path: "/nonexistent-dir/herald.db" }),
    ).rejects.toMatchObject({ code: "store.unavailable" });
  });
});
