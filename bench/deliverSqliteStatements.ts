// Where the SQLite part of a delivery's CPU goes, statement by statement: the worker's storage
// cycle (claim a batch, then record one successful attempt per delivery, grouped as the worker's
// concurrent results are) run in this process through the real SQLite delivery store, with every
// statement the store prepares timed, and each IMMEDIATE transaction's BEGIN and COMMIT (the
// transaction's time outside its function). No HTTP is sent: this is the storage deliver-sqlite's worker does per delivery,
// without the request. `drop` removes indexes of `deliveries` first, to measure what each costs;
// `endpoints` spreads the deliveries over that many endpoints, as one message to each does.
// CLI: bench/deliverSqliteCost.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Statement } from "better-sqlite3";
import { openSqlite, type SqliteDatabase } from "../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../packages/sqlite/src/store/sqlite/migrate.js";
import { createBenchEndpoint, ENDPOINT_ID, seedDeliveries } from "./deliverHarness.js";
import { copySqliteEndpoint } from "./fanoutBackends.js";

export interface StatementCostOptions {
  /** Pending deliveries to seed and then claim and complete. Default 40,000. */
  deliveries?: number;
  /** Deliveries per claim (the worker's concurrency). Default 66, the claims of deliver-sqlite. */
  claimLimit?: number;
  /** Results per group commit. Default 33, as measured in deliver-sqlite's worker. */
  groupSize?: number;
  /** Indexes to drop before the run (names from migrations/003_delivery.sql). */
  drop?: readonly string[];
  /**
   * Endpoints the deliveries are spread over, round robin (copies of the benchmark's endpoint,
   * as the fanout benchmark makes them). Default 1.
   */
  endpoints?: number;
}

export interface StatementCost {
  /** The statement's first line (its kind and table), or TRANSACTION_LABEL. */
  statement: string;
  /** Wall time inside the statement per delivery, µs (the process does nothing else). */
  usPerDelivery: number;
  /** Executions per delivery. */
  perDelivery: number;
}

export interface StatementCostResult {
  deliveries: number;
  endpoints: number;
  dropped: string[];
  /** By statement, the costliest first. */
  statements: StatementCost[];
  /** All statements together, µs per delivery. */
  statementsUs: number;
  /** The store calls' wall time per delivery, µs: the statements plus the store's own JS. */
  storeCallsUs: number;
  /** This process's CPU (user + system) per delivery over the timed cycle, µs. */
  cpuUs: number;
}

const TIMED = ["run", "get", "all"] as const;

export const TRANSACTION_LABEL = "BEGIN IMMEDIATE + COMMIT";

type Spent = Map<string, { ms: number; calls: number }>;

/**
 * Makes `db.transaction` hand out transaction functions whose `immediate` variant adds to
 * TRANSACTION_LABEL its time outside the wrapped function: BEGIN IMMEDIATE and COMMIT.
 */
function timeTransactions(db: SqliteDatabase, spent: Spent): void {
  const entry = { ms: 0, calls: 0 };
  spent.set(TRANSACTION_LABEL, entry);
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    let inside = 0;
    const timed = transaction((...args: unknown[]) => {
      const start = performance.now();
      try {
        return fn(...args);
      } finally {
        inside = performance.now() - start;
      }
    });
    // better-sqlite3's variants are read-only properties: a new function carries the timed one.
    return Object.assign((...args: unknown[]) => timed(...args), {
      immediate: (...args: unknown[]) => {
        const start = performance.now();
        inside = 0;
        try {
          return timed.immediate(...args);
        } finally {
          entry.ms += performance.now() - start - inside;
          entry.calls++;
        }
      },
    });
  }) as SqliteDatabase["transaction"];
}

/** Makes `db.prepare` hand out statements whose run/get/all add their time to `spent`. */
function timeStatements(db: SqliteDatabase, spent: Spent): void {
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source) as Statement<unknown[], unknown>;
    const label = source.trim().split("\n")[0]!.slice(0, 90);
    const entry = spent.get(label) ?? { ms: 0, calls: 0 };
    spent.set(label, entry);
    for (const method of TIMED) {
      const original = statement[method].bind(statement) as (...args: unknown[]) => unknown;
      Object.defineProperty(statement, method, {
        value: (...args: unknown[]) => {
          const start = performance.now();
          try {
            return original(...args);
          } finally {
            entry.ms += performance.now() - start;
            entry.calls++;
          }
        },
      });
    }
    return statement;
  }) as SqliteDatabase["prepare"];
}

const OK_ATTEMPT = {
  durationMs: 1,
  succeeded: true,
  statusCode: 200,
  responseHeaders: { "content-length": "0" },
  responseBody: "",
  error: null,
};

export async function measureDeliveryStatements(
  options: StatementCostOptions = {},
): Promise<StatementCostResult> {
  const total = options.deliveries ?? 40_000;
  const claimLimit = options.claimLimit ?? 66;
  const groupSize = options.groupSize ?? 33;
  const drop = [...(options.drop ?? [])];
  const endpoints = options.endpoints ?? 1;
  const dir = mkdtempSync(join(tmpdir(), "herald-statements-"));
  // The worker's durability: `full`, its claims and results committed without their own fsync.
  const db = openSqlite(join(dir, "herald.db"));
  try {
    migrateSqlite(db);
    const seeding = createSqliteDeliveryStore(db);
    await createBenchEndpoint(seeding, "http://127.0.0.1:9/bench");
    // The benchmark's endpoint and `endpoints - 1` copies of it (`ep_bench_1` …).
    const endpointIds = [
      ENDPOINT_ID,
      ...copySqliteEndpoint(db, ENDPOINT_ID, endpoints - 1, "e.event_types"),
    ];
    await seedDeliveries(seeding, total, 1000, endpointIds);
    for (const name of drop) db.exec(`DROP INDEX ${name}`);

    // A second store on the same connection, created after the timers are in place, so that
    // every statement it prepares and every transaction it opens is timed.
    const spent: Spent = new Map();
    timeStatements(db, spent);
    timeTransactions(db, spent);
    const store = createSqliteDeliveryStore(db);
    const owner = "bench-statements";
    let done = 0;
    let storeMs = 0;
    const cpuBefore = process.cpuUsage();
    for (;;) {
      let start = performance.now();
      const claimed = await store.claimDueDeliveries({ owner, limit: claimLimit, leaseMs: 60_000 });
      storeMs += performance.now() - start;
      if (claimed.length === 0) break;
      for (let at = 0; at < claimed.length; at += groupSize) {
        start = performance.now();
        // Called in one turn, so the store's batcher commits them as one group.
        await Promise.all(
          claimed.slice(at, at + groupSize).map(({ delivery }) =>
            store.completeDelivery({
              deliveryId: delivery.id,
              owner,
              attempt: { ...OK_ATTEMPT, startedAt: new Date().toISOString() },
            }),
          ),
        );
        storeMs += performance.now() - start;
      }
      done += claimed.length;
    }
    const cpu = process.cpuUsage(cpuBefore);
    if (done !== total) throw new Error(`completed ${done} of ${total} deliveries`);
    const perDelivery = (ms: number) => (ms * 1000) / done;
    const statements = [...spent]
      .filter(([, { calls }]) => calls > 0)
      .map(([statement, { ms, calls }]) => ({
        statement,
        usPerDelivery: perDelivery(ms),
        perDelivery: calls / done,
      }))
      .sort((a, b) => b.usPerDelivery - a.usPerDelivery);
    return {
      deliveries: done,
      endpoints,
      dropped: drop,
      statements,
      statementsUs: statements.reduce((sum, s) => sum + s.usPerDelivery, 0),
      storeCallsUs: perDelivery(storeMs),
      cpuUs: (cpu.user + cpu.system) / done,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
