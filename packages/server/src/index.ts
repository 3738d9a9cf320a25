// `@heraldjs/server`: the Herald service (`herald serve`) and its CLI, for applications that
// start it from code: the service, herald.yaml, and the database it serves from.
export * from "./config/index.js";
export { type RunningService, type ServiceSettings, startService } from "./server/service.js";
export {
  BACKENDS,
  type BackendProfile,
  type BackendRole,
  backendFor,
  type DedupeStoreOptions,
  type OpenDatabaseOptions,
} from "./store/backends.js";
export {
  type DatabaseTarget,
  DEFAULT_SQLITE_PATH,
  describeDatabase,
  migrateDatabase,
  type OpenedDatabase,
  openDatabase,
  parseDatabaseUrl,
  redactDatabaseUrl,
} from "./store/openDatabase.js";
