// The SQLite store never binds a bare `LIMIT ?`: SQLite reads such a parameter's value while
// planning and then compiles the statement again each time better-sqlite3 binds it — on every
// call (packages/sqlite/src/store/sqlite/database.ts, limitOf). Every LIMIT goes through
// limitOf, which still limits as the bare parameter did.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { limitOf, openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";

const STORE_DIR = join(import.meta.dirname, "../../packages/sqlite/src/store/sqlite");

describe("SQLite LIMIT parameters", () => {
  it("no statement of the SQLite store binds a bare LIMIT parameter", () => {
    const files = readdirSync(STORE_DIR).filter((name) => name.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(10);
    // SQL text only: comments (which may quote a bare LIMIT) are left out; `${` is limitOf's.
    const bare = files.flatMap((name) =>
      readFileSync(join(STORE_DIR, name), "utf8")
        .split("\n")
        .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line))
        .flatMap((line) => [...line.matchAll(/LIMIT\s+(\?|[@:]\w+|\$(?!\{)\w*)/g)])
        .map((match) => `${name}: ${match[0]}`),
    );
    expect(bare).toEqual([]);
  });

  it("limitOf limits as the bound parameter says, by position or by name", () => {
    const db = openSqlite(":memory:");
    try {
      db.exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3), (4)");
      const positional = db.prepare(`SELECT n FROM t ORDER BY n LIMIT ${limitOf("?")}`);
      expect(positional.all(2)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(positional.all(3)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      const named = db.prepare(`SELECT n FROM t ORDER BY n LIMIT ${limitOf("@limit")}`);
      expect(named.all({ limit: 1 })).toEqual([{ n: 1 }]);
      expect(named.all({ limit: 0 })).toEqual([]);
    } finally {
      db.close();
    }
  });
});
