// Opens the embedded SQLite database the way Herald needs it: WAL journal, a busy timeout so
// concurrent processes wait instead of failing, foreign keys on, and an explicit durability.
import Database from "better-sqlite3";
import { HeraldError } from "../../core/errors.js";

export type SqliteDatabase = Database.Database;

/**
 * `full` (default): every commit is fsynced with the WAL, so an accepted write survives a
 * process crash, an OS crash and a power loss. `normal`: fsync at checkpoints only — survives
 * a process crash, but the last commits can be lost on power loss; faster.
 */
export type SqliteDurability = "full" | "normal";

export interface OpenSqliteOptions {
  durability?: SqliteDurability;
  /** How long a writer waits for another process's write lock; default 5000 ms. */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

export function openSqlite(path: string, options: OpenSqliteOptions = {}): SqliteDatabase {
  const { durability = "full", busyTimeoutMs = 5000, readonly = false } = options;
  if (durability !== "full" && durability !== "normal") {
    throw new HeraldError("config.invalid", 'SQLite durability must be "full" or "normal"');
  }
  let db: SqliteDatabase;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
  } catch (error) {
    throw new HeraldError("store.unavailable", `Cannot open SQLite database ${path}`, {
      cause: error,
    });
  }
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  if (!readonly) {
    if (path !== ":memory:") db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  }
  db.pragma("foreign_keys = ON");
  return db;
}
