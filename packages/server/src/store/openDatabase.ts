// Where Herald's data lives and opening it: the database named by one `--db` / HERALD_DB value
// (./databaseTarget.ts), opened and migrated by its dialect's backend profile (./backends.ts).
// This module gathers both, as it always has for the library and the CLI.
export {
  migrateDatabase,
  type OpenDatabaseOptions,
  type OpenedDatabase,
  openDatabase,
} from "./backends.js";
export {
  type DatabaseTarget,
  DEFAULT_SQLITE_PATH,
  describeDatabase,
  parseDatabaseUrl,
  redactDatabaseUrl,
} from "./databaseTarget.js";
