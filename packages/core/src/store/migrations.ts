// Numbered SQL migrations per dialect (NNN_name.sql), loaded from the folder each adapter ships
// next to its own migrate module (in src/ and dist/ alike), with a checksum so an edited migration that
// was already applied is refused instead of silently diverging.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

export type Dialect = "sqlite" | "postgres";

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  /** Versions applied by this call. */
  applied: number[];
  /** Head version after the call. */
  version: number;
}

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** The migrations of `dialect`, read from `dir` (the adapter's own `migrations/` folder). */
export function loadMigrations(dialect: Dialect, dir: URL): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith(".sql"))
    .map((file) => {
      const match = FILE.exec(file);
      if (match === null) {
        throw new HeraldError("migration.invalid", `Migration file ${file} is not NNN_name.sql`);
      }
      const sql = readFileSync(new URL(file, dir), "utf8").replace(/\r\n/g, "\n");
      return {
        version: Number(match[1]),
        name: match[2] as string,
        sql,
        checksum: createHash("sha256").update(sql).digest("hex"),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new HeraldError(
        "migration.invalid",
        `${dialect} migrations must be numbered 001, 002, … without gaps; found ${migration.version} at position ${index + 1}`,
      );
    }
  });
  return migrations;
}

interface AppliedMigration {
  version: number;
  checksum: string;
}

/** The migrations still to apply; refuses when an applied one no longer matches its file. */
export function pendingMigrations(
  dialect: Dialect,
  migrations: readonly Migration[],
  applied: readonly AppliedMigration[],
): Migration[] {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const row of applied) {
    const file = byVersion.get(row.version);
    if (file === undefined) {
      throw new HeraldError(
        "migration.unknown",
        `The ${dialect} database has migration ${row.version}, which this version of Herald does not know (a newer Herald migrated it?)`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new HeraldError(
        "migration.checksum_mismatch",
        `${dialect} migration ${String(row.version).padStart(3, "0")}_${file.name} changed after it was applied; add a new migration instead`,
      );
    }
  }
  const done = new Set(applied.map((row) => row.version));
  return migrations.filter((m) => !done.has(m.version));
}
