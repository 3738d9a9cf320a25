// The backend profiles: per dialect (SQLite, PostgreSQL), everything Herald's processes need to
// know about the database they run on, in one place — how to open it, migrate it and build each
// store on it, how many connections each kind of process uses, how many ingestion transactions
// may be in flight at once, and which failures mean "the database is unavailable"
// (HeraldError store.unavailable). `herald serve`, `herald worker` and the CLI's store commands
// pick their adapter here, through backendFor(dialect), and nowhere else.
//
// Each store module is imported when first built, so a process loads only its own dialect's
// (`herald worker` on SQLite never loads the PostgreSQL delivery store, and the reverse).

import type {
  DeliveryStore,
  DeliveryStoreOptions,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import type { Dialect, MigrationReport } from "@heraldjs/core/internal/store/migrations.js";
import type {
  CheckpointStore,
  EventStore,
  EventStoreOptions,
  PrunableDedupeStore,
} from "@heraldjs/core/internal/store/ports.js";
import type { PgTimeouts } from "@heraldjs/core/internal/store/storeDeadlines.js";
import type { PgPool } from "@heraldjs/postgres/internal/store/postgres/database.js";
import { isPgUnavailable } from "@heraldjs/postgres/internal/store/postgres/unavailable.js";
import type {
  OpenSqliteOptions,
  SqliteDatabase,
} from "@heraldjs/sqlite/internal/store/sqlite/database.js";
import { isSqliteUnavailable } from "@heraldjs/sqlite/internal/store/sqlite/unavailable.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type DatabaseTarget, describeDatabase, redactDatabaseUrl } from "./databaseTarget.js";

/** The kind of process a database is opened for: its pool size (BackendProfile.poolSize). */
export type BackendRole = "serve" | "worker" | "cli";

export type OpenedDatabase =
  | { dialect: "sqlite"; target: DatabaseTarget; db: SqliteDatabase; close(): Promise<void> }
  | {
      dialect: "postgres";
      target: DatabaseTarget;
      pool: PgPool;
      schema: string;
      close(): Promise<void>;
    };

export interface OpenDatabaseOptions {
  sqlite?: OpenSqliteOptions;
  /** The process the database is opened for: PostgreSQL's pool size is its poolSize entry. */
  role?: BackendRole;
  /** PostgreSQL pool size, overriding the role's; without either, createPgPool's default (10). */
  max?: number;
  /** PostgreSQL timeouts (storeDeadlines().pg); none by default (see createPgPool). */
  pgTimeouts?: PgTimeouts;
}

export interface DedupeStoreOptions {
  /** Time source for leases and ttls (PostgreSQL's default is the database's clock). */
  clock?: DeliveryStoreOptions["clock"];
  /** Rows deleted per prune transaction or statement. */
  pruneBatchSize?: number;
}

export interface BackendProfile {
  readonly dialect: Dialect;
  /** Connections a process of each role opens: PostgreSQL's pool size; SQLite's is one. */
  readonly poolSize: Readonly<Record<BackendRole, number>>;
  /** Ingestion transactions in flight at once (the group committer's maxConcurrent). */
  readonly ingestWriters: number;
  /** Whether `error` means "the database cannot be reached or take this now": store.unavailable. */
  isUnavailable(error: unknown): boolean;
  /**
   * Opens the database and checks it answers (HeraldError `store.unavailable` naming it, password
   * hidden, when it does not). The caller closes it.
   */
  open(target: DatabaseTarget, options?: OpenDatabaseOptions): Promise<OpenedDatabase>;
  /**
   * Applies the pending migrations. Errors: `migration.checksum_mismatch`, `migration.unknown`,
   * `migration.invalid` from the runner; `store.unavailable` when the database goes away or
   * stays locked (isUnavailable); `migration.failed` when a migration fails otherwise.
   */
  migrate(database: OpenedDatabase): Promise<MigrationReport>;
  /** The delivery store on a migrated database, which stays the caller's to close. */
  deliveryStore(database: OpenedDatabase, options?: DeliveryStoreOptions): Promise<DeliveryStore>;
  /** The event and checkpoint store on a migrated database, which stays the caller's. */
  eventStore(
    database: OpenedDatabase,
    options?: EventStoreOptions,
  ): Promise<EventStore & CheckpointStore>;
  /** The dedupe/inbox store on a migrated database, which stays the caller's. */
  dedupeStore(database: OpenedDatabase, options?: DedupeStoreOptions): Promise<PrunableDedupeStore>;
}

function wrongDialect(expected: Dialect, actual: string): never {
  throw new HeraldError("internal", `A ${actual} database given to the ${expected} backend`);
}

type OpenedSqlite = Extract<OpenedDatabase, { dialect: "sqlite" }>;
type OpenedPostgres = Extract<OpenedDatabase, { dialect: "postgres" }>;

function asSqlite(database: OpenedDatabase): OpenedSqlite {
  return database.dialect === "sqlite" ? database : wrongDialect("sqlite", database.dialect);
}

function asPostgres(database: OpenedDatabase): OpenedPostgres {
  return database.dialect === "postgres" ? database : wrongDialect("postgres", database.dialect);
}

/** Runs a migration, translating what it throws by the profile's rule. */
async function migrating(
  profile: BackendProfile,
  database: OpenedDatabase,
  run: () => Promise<MigrationReport>,
): Promise<MigrationReport> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new HeraldError(
      profile.isUnavailable(error) ? "store.unavailable" : "migration.failed",
      `Migrating ${describeDatabase(database.target)} failed: ${reason}`,
      { cause: error },
    );
  }
}

const sqlite: BackendProfile = {
  dialect: "sqlite",
  // One connection per process. (`herald serve`'s writer thread, when on, opens a second.)
  poolSize: { serve: 1, worker: 1, cli: 1 },
  // SQLite has one writer: a second transaction would only wait for the lock.
  ingestWriters: 1,
  isUnavailable: isSqliteUnavailable,
  async open(target, options = {}) {
    if (target.dialect !== "sqlite") wrongDialect("sqlite", target.dialect);
    const { openSqlite } = await import("@heraldjs/sqlite/internal/store/sqlite/database.js");
    const db = openSqlite(target.path, options.sqlite);
    return { dialect: "sqlite", target, db, close: async () => void db.close() };
  },
  migrate: (database) =>
    migrating(sqlite, database, async () => {
      const { migrateSqlite } = await import("@heraldjs/sqlite/internal/store/sqlite/migrate.js");
      return migrateSqlite(asSqlite(database).db);
    }),
  async deliveryStore(database, options) {
    const { createSqliteDeliveryStore } = await import(
      "@heraldjs/sqlite/internal/store/sqlite/deliveryStore.js"
    );
    return createSqliteDeliveryStore(asSqlite(database).db, options);
  },
  async eventStore(database, options) {
    const { createSqliteEventStore } = await import(
      "@heraldjs/sqlite/internal/store/sqlite/eventStore.js"
    );
    return createSqliteEventStore(asSqlite(database).db, options);
  },
  async dedupeStore(database, options) {
    const { createSqliteDedupeStore } = await import(
      "@heraldjs/sqlite/internal/store/sqlite/dedupeStore.js"
    );
    return createSqliteDedupeStore(asSqlite(database).db, options);
  },
};

const postgres: BackendProfile = {
  dialect: "postgres",
  // A service's ingestion, API and (in-process) delivery worker share 20 connections; the CLI's
  // store commands run one thing at a time.
  poolSize: { serve: 20, worker: 20, cli: 2 },
  // Several transactions commit at once (each takes a connection of the pool), a further one only
  // while a full batch waits (ingestBatches.ts).
  ingestWriters: 4,
  isUnavailable: isPgUnavailable,
  async open(target, options = {}) {
    if (target.dialect !== "postgres") wrongDialect("postgres", target.dialect);
    const { createPgPool } = await import("@heraldjs/postgres/internal/store/postgres/database.js");
    const role = options.role;
    const max = options.max ?? (role === undefined ? undefined : postgres.poolSize[role]);
    const pool = createPgPool({
      connectionString: target.url,
      schema: target.schema,
      // `herald serve`, `herald worker`: whose connection is whose in pg_stat_activity.
      applicationName: role === undefined ? "herald" : `herald ${role}`,
      ...(max === undefined ? {} : { max }),
      ...(options.pgTimeouts === undefined ? {} : { timeouts: options.pgTimeouts }),
    });
    try {
      const client = await pool.connect();
      client.release();
    } catch (error) {
      await pool.end().catch(() => {});
      const reason = error instanceof Error ? error.message : String(error);
      throw new HeraldError(
        "store.unavailable",
        `Cannot connect to PostgreSQL at ${redactDatabaseUrl(target.url)}: ${reason || "connection failed"}`,
        { cause: error },
      );
    }
    return { dialect: "postgres", target, pool, schema: target.schema, close: () => pool.end() };
  },
  migrate: (database) =>
    migrating(postgres, database, async () => {
      const { migratePostgres } = await import(
        "@heraldjs/postgres/internal/store/postgres/migrate.js"
      );
      const { pool, schema } = asPostgres(database);
      return migratePostgres(pool, { schema });
    }),
  async deliveryStore(database, options) {
    const { createPostgresDeliveryStore } = await import(
      "@heraldjs/postgres/internal/store/postgres/deliveryStore.js"
    );
    return createPostgresDeliveryStore(asPostgres(database).pool, options);
  },
  async eventStore(database, options) {
    const { createPostgresEventStore } = await import(
      "@heraldjs/postgres/internal/store/postgres/eventStore.js"
    );
    return createPostgresEventStore(asPostgres(database).pool, options);
  },
  async dedupeStore(database, options) {
    const { createPostgresDedupeStore } = await import(
      "@heraldjs/postgres/internal/store/postgres/dedupeStore.js"
    );
    return createPostgresDedupeStore(asPostgres(database).pool, options);
  },
};

/** The profiles by dialect. */
export const BACKENDS: Readonly<Record<Dialect, BackendProfile>> = { sqlite, postgres };

/** The profile of `dialect` (a DatabaseTarget's or an OpenedDatabase's). */
export function backendFor(dialect: Dialect): BackendProfile {
  const profile = Object.hasOwn(BACKENDS, dialect) ? BACKENDS[dialect] : undefined;
  if (profile === undefined) {
    throw new HeraldError("config.invalid", `Unknown database dialect ${String(dialect)}`);
  }
  return profile;
}

/** Opens `target` with its dialect's profile (BackendProfile.open). */
export function openDatabase(
  target: DatabaseTarget,
  options: OpenDatabaseOptions = {},
): Promise<OpenedDatabase> {
  return backendFor(target.dialect).open(target, options);
}

/** Migrates `database` with its dialect's profile (BackendProfile.migrate). */
export function migrateDatabase(database: OpenedDatabase): Promise<MigrationReport> {
  return backendFor(database.dialect).migrate(database);
}
