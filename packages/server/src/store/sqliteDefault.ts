// The SQLite file Herald uses when no database is named. Apart from ./databaseTarget.ts so the
// CLI's help can name it without loading a database driver.

export const DEFAULT_SQLITE_PATH = "./herald.db";
