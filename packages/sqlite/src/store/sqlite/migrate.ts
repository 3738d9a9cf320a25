// Applies pending SQLite migrations in one IMMEDIATE transaction: the write lock serialises
// processes that start at once (the second waits on busy_timeout, then finds nothing to do).
import {
  loadMigrations,
  type Migration,
  type MigrationReport,
  pendingMigrations,
} from "@heraldjs/core/internal/store/migrations.js";
import type { SqliteDatabase } from "./database.js";

export function migrateSqlite(db: SqliteDatabase): MigrationReport {
  const migrations = sqliteMigrations();
  const run = db.transaction((): MigrationReport => {
    db.exec(`CREATE TABLE IF NOT EXISTS herald_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      checksum TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`);
    const applied = db
      .prepare("SELECT version, checksum FROM herald_migrations ORDER BY version")
      .all() as { version: number; checksum: string }[];
    const pending = pendingMigrations("sqlite", migrations, applied);
    const record = db.prepare(
      "INSERT INTO herald_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
    );
    for (const migration of pending) {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, migration.checksum, new Date().toISOString());
    }
    return {
      applied: pending.map((m) => m.version),
      version: migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version,
    };
  });
  return run.immediate();
}

/** This adapter's migrations, from the `migrations/` folder beside this module. */
export function sqliteMigrations(): Migration[] {
  return loadMigrations("sqlite", new URL("./migrations/", import.meta.url));
}
