// A fresh SQLite file per test in a temporary directory, removed afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function tempSqlitePath(name = "herald.db"): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "herald-sqlite-"));
  return {
    path: join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
