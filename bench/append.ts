// `append-pg`: single-event appends by 16 concurrent writers, each to its own stream with an
// expected-version check, against @event-driven-io/emmett-postgresql on the same database in
// the same run. Each library gets a schema of its own (created here, dropped at the end) and a
// pg pool of the same size; contenders run interleaved, run by run, for a fixed duration.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { getPostgreSQLEventStore, schemaSQL } from "@event-driven-io/emmett-postgresql";
import pg from "pg";
import { createPgPool, type PgPool } from "../packages/postgres/src/store/postgres/database.js";
import { createPostgresEventStore } from "../packages/postgres/src/store/postgres/eventStore.js";
import { migratePostgres } from "../packages/postgres/src/store/postgres/migrate.js";
import type { JsonObject } from "../packages/webhooks/src/core/json.js";
import { formatTable } from "./measure.js";

export interface AppendBenchOptions {
  /** PostgreSQL to use; default HERALD_TEST_PG or postgres://postgres@127.0.0.1:5432/test. */
  url?: string;
  writers?: number;
  /** Pool size of both contenders. */
  poolSize?: number;
  /** Length of each timed run. */
  runMs?: number;
  runs?: number;
  /** Warm-up per contender before the timed runs. */
  warmupMs?: number;
}

export interface AppendContenderResult {
  name: string;
  /** Appends per second of each timed run. */
  runs: number[];
  median: number;
  /** (max − min) / median over the runs. */
  spread: number;
  /** Statements sent to PostgreSQL per append (BEGIN and COMMIT included), over all runs. */
  statementsPerAppend: number;
  /** CPU time of this Node process per append (the driver, the library, the benchmark loop). */
  nodeCpuUsPerAppend: number;
  /** CPU time of the pool's PostgreSQL backends per append (NaN when not on this machine). */
  pgBackendCpuUsPerAppend: number;
  /** Median latency of one append in the last run, ms. */
  p50Ms: number;
  p99Ms: number;
}

export interface AppendBenchResult {
  writers: number;
  poolSize: number;
  runMs: number;
  payloadBytes: number;
  /** The schemas used (and dropped) by the run. */
  schemas: string[];
  results: AppendContenderResult[];
  /** Herald ÷ Emmett, medians. */
  ratio: number;
  target: number;
  met: boolean;
}

/** What one writer does per call: one event appended, expected version checked. */
export interface Contender {
  name: string;
  /** The schema holding this library's tables, dropped by close(). */
  schema: string;
  /** Appends one event as writer `writer`; resolves when committed. */
  append(writer: number): Promise<void>;
  probe: PoolProbe;
  close(): Promise<void>;
}

const TARGET = 1.5;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A ~1 KiB JSON object, the same for both libraries. */
export function benchPayload(): JsonObject {
  const base = {
    orderId: "ord_7Hc2kQ9xLmP4",
    customerId: "cus_Q3v8ZrT1bN6w",
    currency: "EUR",
    total: 18_450,
    lines: [
      { sku: "SKU-10021", name: "Espresso beans 1 kg", quantity: 2, unitPrice: 2_450 },
      { sku: "SKU-20417", name: "Ceramic cup, matte black", quantity: 4, unitPrice: 1_200 },
      { sku: "SKU-30999", name: "Milk frother", quantity: 1, unitPrice: 8_750 },
    ],
    shipping: {
      name: "Ada Lovelace",
      street: "12 Analytical Engine Road",
      city: "London",
      postalCode: "N1 9GU",
      country: "GB",
    },
    note: "",
  };
  const size = Buffer.byteLength(JSON.stringify(base));
  return { ...base, note: "n".repeat(Math.max(0, 1024 - size)) };
}

interface PoolProbe {
  /** Statements sent so far. */
  statements(): number;
  /**
   * CPU seconds used so far by the PostgreSQL backends of the pool's connections, read from
   * /proc (PostgreSQL on this machine); NaN when they cannot be read.
   */
  backendCpuSeconds(): number;
}

const CLOCK_TICKS = 100;

function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Counts the queries sent on `pool`'s clients (but its plan refresh) and notes their backends' process ids. */
function probePool(pool: pg.Pool): PoolProbe {
  let count = 0;
  const wrapped = new WeakSet<pg.PoolClient>();
  const backends = new Set<number>();
  pool.on("acquire", (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const pid = (client as unknown as { processID?: number }).processID;
    if (pid !== undefined) backends.add(pid);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (
      ...args: unknown[]
    ) => {
      // The pool's own plan refresh (createPgPool) is not the event store's.
      if (args[0] !== "DISCARD PLANS") count++;
      return query(...args);
    };
  });
  return {
    statements: () => count,
    backendCpuSeconds: () => [...backends].reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
  };
}

function schemaName(prefix: string): string {
  return `bench_${prefix}_${randomBytes(4).toString("hex")}`;
}

export async function heraldContender(url: string, poolSize: number, writers: number) {
  const schema = schemaName("append_herald");
  const pool: PgPool = createPgPool({ connectionString: url, schema, max: poolSize });
  await migratePostgres(pool, { schema });
  const probe = probePool(pool);
  const store = createPostgresEventStore(pool);
  const payload = benchPayload();
  const run = randomBytes(3).toString("hex");
  const versions = new Array<number>(writers).fill(0);
  const contender: Contender = {
    name: "herald createPostgresEventStore",
    schema,
    async append(writer) {
      const result = await store.append(
        `order/${run}-${writer}`,
        [{ type: "order.placed.v1", source: "bench", payload }],
        { expectedVersion: versions[writer]! },
      );
      versions[writer] = result.toVersion;
    },
    probe,
    async close() {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  };
  return contender;
}

/**
 * Emmett's migration checks `pg_proc` database-wide before creating each function, so in a
 * database where another schema already holds them (a concurrent run), its own schema would
 * lack them. Then the same SQL is run here with the check scoped to this schema.
 */
async function ensureEmmettFunctions(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_proc
      WHERE pronamespace = current_schema()::regnamespace AND proname = 'emt_append_to_stream'`,
  );
  if ((rows[0]?.n ?? 0) > 0) return;
  for (const statement of schemaSQL) {
    await pool.query(
      String(statement).replaceAll(
        "FROM pg_proc WHERE proname =",
        "FROM pg_proc WHERE pronamespace = current_schema()::regnamespace AND proname =",
      ),
    );
  }
}

export async function emmettContender(url: string, poolSize: number, writers: number) {
  const schema = schemaName("append_emmett");
  // Emmett creates its tables, sequence and functions unqualified, so in the first schema of
  // the connection's search_path: this one, dropped with everything in it at the end.
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    options: `-c search_path=${schema}`,
  });
  pool.on("error", () => {});
  const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
  await store.schema.migrate();
  await ensureEmmettFunctions(pool);
  const probe = probePool(pool);
  const data = benchPayload();
  const run = randomBytes(3).toString("hex");
  const versions = new Array<bigint>(writers).fill(0n);
  const contender: Contender = {
    name: "emmett getPostgreSQLEventStore",
    schema,
    async append(writer) {
      const result = await store.appendToStream(
        `order-${run}${writer}`,
        [{ type: "OrderPlaced", data }],
        { expectedStreamVersion: versions[writer]! },
      );
      versions[writer] = result.nextExpectedStreamVersion;
    },
    probe,
    async close() {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  };
  return contender;
}

/** Every writer appends in a loop until the deadline; returns appends/s and latencies. */
export async function timed(contender: Contender, writers: number, durationMs: number) {
  const latencies: number[] = [];
  let count = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      while (performance.now() < deadline) {
        const began = performance.now();
        await contender.append(writer);
        latencies.push(performance.now() - began);
        count++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: count / seconds, count, latencies };
}

export async function runAppendBench(
  options: AppendBenchOptions = {},
): Promise<{ result: AppendBenchResult; table: string }> {
  const url =
    options.url ?? process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
  const writers = options.writers ?? 16;
  const poolSize = options.poolSize ?? 16;
  const runMs = options.runMs ?? 5000;
  const runs = options.runs ?? 7;
  const warmupMs = options.warmupMs ?? 3000;
  const contenders: Contender[] = [];
  try {
    contenders.push(await heraldContender(url, poolSize, writers));
    contenders.push(await emmettContender(url, poolSize, writers));
    for (const contender of contenders) await timed(contender, writers, warmupMs);
    const perRun = contenders.map(() => [] as number[]);
    const totals = contenders.map(() => ({ appends: 0, statements: 0, nodeCpu: 0, pgCpu: 0 }));
    const last = contenders.map(() => [] as number[]);
    for (let run = 0; run < runs; run++) {
      for (const [index, contender] of contenders.entries()) {
        const statements = contender.probe.statements();
        const pgCpu = contender.probe.backendCpuSeconds();
        const nodeCpu = process.cpuUsage();
        const { perSecond, count, latencies } = await timed(contender, writers, runMs);
        const node = process.cpuUsage(nodeCpu);
        const total = totals[index]!;
        total.appends += count;
        total.statements += contender.probe.statements() - statements;
        total.nodeCpu += (node.user + node.system) / 1e6;
        total.pgCpu += contender.probe.backendCpuSeconds() - pgCpu;
        perRun[index]!.push(perSecond);
        last[index] = latencies;
      }
    }
    const results = contenders.map((contender, index): AppendContenderResult => {
      const values = perRun[index]!;
      const mid = median(values);
      const sorted = [...last[index]!].sort((a, b) => a - b);
      const total = totals[index]!;
      return {
        name: contender.name,
        runs: values,
        median: mid,
        spread: (Math.max(...values) - Math.min(...values)) / mid,
        statementsPerAppend: total.statements / total.appends,
        nodeCpuUsPerAppend: (total.nodeCpu * 1e6) / total.appends,
        pgBackendCpuUsPerAppend: (total.pgCpu * 1e6) / total.appends,
        p50Ms: quantile(sorted, 0.5),
        p99Ms: quantile(sorted, 0.99),
      };
    });
    const [herald, emmett] = results;
    const ratio = (herald?.median ?? 0) / (emmett?.median || 1);
    const result: AppendBenchResult = {
      writers,
      poolSize,
      runMs,
      payloadBytes: Buffer.byteLength(JSON.stringify(benchPayload())),
      schemas: contenders.map((contender) => contender.schema),
      results,
      ratio,
      target: TARGET,
      met: ratio >= TARGET,
    };
    const table = formatTable(
      results.map((r) => ({
        contender: r.name,
        "median appends/s": Math.round(r.median),
        spread: `${(r.spread * 100).toFixed(1)} %`,
        "statements/append": r.statementsPerAppend.toFixed(2),
        "node CPU µs/append": Math.round(r.nodeCpuUsPerAppend),
        "pg CPU µs/append": Number.isNaN(r.pgBackendCpuUsPerAppend)
          ? "—"
          : Math.round(r.pgBackendCpuUsPerAppend),
        "p50 ms": r.p50Ms.toFixed(2),
        "p99 ms": r.p99Ms.toFixed(2),
        "herald ÷ this": r === herald ? "—" : ((herald?.median ?? 0) / r.median).toFixed(2),
      })),
    );
    return { result, table };
  } finally {
    for (const contender of contenders) await contender.close().catch(() => {});
  }
}
