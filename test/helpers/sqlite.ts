// A fresh SQLite file per test in a temporary directory, removed afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  openSqlite,
  type SqliteDatabase,
} from "../../packages/sqlite/src/store/sqlite/database.js";
import { migrateSqlite } from "../../packages/sqlite/src/store/sqlite/migrate.js";

export function tempSqlitePath(name = "herald.db"): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "herald-sqlite-"));
  return {
    path: join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface MigratedSqlite {
  /** The connection the helper opened; open other connections on `path` as another process would. */
  db: SqliteDatabase;
  path: string;
  /** Closes `db` (unless the test already did) and removes the file with its directory. */
  cleanup(): void;
}

/** A temporary SQLite file, opened and migrated. */
export function migratedSqlite(name?: string): MigratedSqlite {
  const file = tempSqlitePath(name);
  const db = openSqlite(file.path);
  try {
    migrateSqlite(db);
  } catch (error) {
    db.close();
    file.cleanup();
    throw error;
  }
  return {
    db,
    path: file.path,
    cleanup() {
      if (db.open) db.close();
      file.cleanup();
    },
  };
}
