// ingest-sqlite / ingest-pg: `POST /webhooks/:source` on the built `herald serve` (signed 1 KiB
// webhooks, each distinct, each stored durably with one delivery before the 202) against a bare
// Fastify route that only parses the JSON and answers 202. Both servers are child processes;
// this process is the load generator (autocannon). Warm-up, then runs interleaved run by run
// (bare, herald, bare, herald, …) so machine noise hits both; median and spread of each.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { processCpuMs, type ServerChild, startBare, startHeraldServe } from "./http/children.js";
import { type LoadResult, type PooledRequest, runLoad } from "./http/load.js";
import { EVENT_TYPE, newStandardSecret, signedPool } from "./http/webhooks.js";
import { formatTable } from "./measure.js";

export type IngestDialect = "sqlite" | "postgres";

/**
 * What Herald stores per webhook. `as-configured`: the message, its dedupe key and one delivery
 * (the benchmark as the summary reports it). The other two measure the candidates
 * without building them, as upper bounds: `message-only` subscribes no endpoint, so a webhook
 * stores its message and dedupe key and no delivery (as if deliveries were created later, by
 * the worker; that later write is not counted); `fewer-indexes` drops the six secondary
 * indexes of `deliveries` after setup (only its primary key is left; the worker is off, so
 * nothing reads them).
 */
export type IngestVariant = "as-configured" | "message-only" | "fewer-indexes";

/** The secondary indexes of `deliveries` (migrations/003_delivery.sql, both dialects). */
export const DELIVERY_INDEXES = [
  "deliveries_due",
  "deliveries_status",
  "deliveries_fifo",
  "deliveries_endpoint",
  "deliveries_message",
  "deliveries_created",
] as const;

/** One timed run, with the CPU each side spent per answered request (µs; null without /proc). */
export interface TimedRun extends LoadResult {
  serverCpuUsPerRequest: number | null;
  /** Of that, the server's main thread (its event loop); the rest is its other threads. */
  serverMainThreadCpuUsPerRequest: number | null;
  /** PostgreSQL backends of Herald's pool (ingest-pg, Herald's runs only; else null). */
  pgBackendCpuUsPerRequest: number | null;
  clientCpuUsPerRequest: number | null;
}

export interface IngestBenchOptions {
  dialect: IngestDialect;
  /** Timed runs per contender. Default 5. */
  runs?: number;
  /** Seconds per timed run. Default 5. */
  durationS?: number;
  /** Seconds of warm-up per contender. Default 3. */
  warmupS?: number;
  /** Concurrent connections. Default 64. */
  connections?: number;
  bodyBytes?: number;
  /** PostgreSQL server (a fresh schema is created in it and dropped after). */
  pgUrl?: string;
  /** When set, Herald runs under `node --cpu-prof` writing its profile to this directory. */
  cpuProfileDir?: string;
  /** Another build's `cli/bin.js` to measure instead of this repository's dist (before/after). */
  heraldBin?: string;
  /** Default `as-configured`. */
  variant?: IngestVariant;
}

export interface Series {
  /** Successful answers (202) per second of each timed run. */
  runs: number[];
  median: number;
  /** (max − min) / median. */
  spread: number;
}

export interface IngestBenchResult {
  benchmark: string;
  dialect: IngestDialect;
  /** The PostgreSQL schema the run created and dropped (null on SQLite). */
  schema: string | null;
  settings: Required<Omit<IngestBenchOptions, "pgUrl" | "cpuProfileDir" | "heraldBin">> & {
    node: string;
  };
  bare: Series & { p99Ms: number[] };
  herald: Series & {
    p50Ms: number[];
    p99Ms: number[];
    /** Medians over the runs of each run's p50 / p99. */
    p50Median: number;
    p99Median: number;
    p99Worst: number;
  };
  /** herald.median ÷ bare.median. */
  ratio: number;
  /** Messages per group-commit transaction over the timed runs (from /metrics). */
  batch: { transactions: number; messages: number; meanSize: number };
  /** Answers that were not 202, and socket errors/timeouts, summed over every timed run. */
  failures: {
    bare: { other: Record<string, number>; errors: number; timeouts: number };
    herald: { other: Record<string, number>; errors: number; timeouts: number };
  };
  /** Distinct signed webhooks built for each Herald run vs how many the run sent. */
  pool: { size: number[]; sent: number[] };
  /**
   * What Herald's database held after the last run (warm-up included): the variant's check —
   * `message-only` stores no delivery, `fewer-indexes` leaves none of DELIVERY_INDEXES.
   */
  stored: { messages: number; deliveries: number; deliveryIndexes: string[] };
  targets: { ratio: number; p99Ms: number | null };
  met: { ratio: boolean; p99: boolean | null };
  /**
   * Median CPU time per answered request (µs): of each server process (all its threads), and of
   * this load-generating process. Less sensitive to a shared machine than req/s.
   */
  cpuUsPerRequest: {
    bare: number | null;
    herald: number | null;
    heraldMainThread: number | null;
    /** ingest-pg: the PostgreSQL backends serving Herald (same machine); null on SQLite. */
    pgBackends: number | null;
    loadGenerator: number | null;
  };
  /**
   * The ratio the two cores would allow if CPU were the only limit: (bare + load generator) ÷
   * (Herald + its PostgreSQL backends + load generator), from the CPU µs per request above —
   * every process of the run shares the same cores. Null without /proc.
   */
  cpuBoundRatio: number | null;
  rawRuns: { bare: TimedRun[]; herald: TimedRun[] };
}

export const TARGETS: Record<IngestDialect, { ratio: number; p99Ms: number | null }> = {
  sqlite: { ratio: 0.5, p99Ms: 25 },
  postgres: { ratio: 0.4, p99Ms: 25 },
};

const SOURCE = "bench";
const PATH = `/webhooks/${SOURCE}`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianOrNull(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : median(known);
}

function series(values: number[]): Series {
  const mid = median(values);
  return {
    runs: values,
    median: mid,
    spread: mid > 0 ? (Math.max(...values) - Math.min(...values)) / mid : 0,
  };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

/** herald_ingest_batch_size_sum and _count from /metrics. */
async function batchCounters(base: string): Promise<{ sum: number; count: number }> {
  const response = await fetch(`${base}/metrics`);
  const text = await response.text();
  const read = (name: string) => {
    const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    return match === null ? 0 : Number(match[1]);
  };
  return {
    sum: read("herald_ingest_batch_size_sum"),
    count: read("herald_ingest_batch_size_count"),
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function addFailures(
  into: { other: Record<string, number>; errors: number; timeouts: number },
  run: LoadResult,
): void {
  for (const [status, count] of Object.entries(run.other)) {
    into.other[status] = (into.other[status] ?? 0) + count;
  }
  into.errors += run.errors;
  into.timeouts += run.timeouts;
}

interface Database {
  db: string;
  schema?: string;
  /** Runs statements on Herald's database beside Herald (its schema on PostgreSQL). */
  query<T>(sql: string): Promise<T[]>;
  /** The application_name Herald's PostgreSQL connections carry (PGAPPNAME). */
  appName?: string;
  /** CPU (ms) used so far by each PostgreSQL backend serving Herald, by pid. */
  backendCpuMs?(): Promise<Map<number, number>>;
  cleanup(): Promise<void>;
}

async function prepareDatabase(
  dialect: IngestDialect,
  dir: string,
  pgUrl: string,
): Promise<Database> {
  if (dialect === "sqlite") {
    const path = join(dir, "herald.db");
    return {
      db: path,
      async query<T>(sql: string) {
        const { default: Sqlite } = await import("better-sqlite3");
        const db = new Sqlite(path);
        try {
          const statement = db.prepare(sql);
          if (statement.reader) return statement.all() as T[];
          statement.run();
          return [];
        } finally {
          db.close();
        }
      },
      cleanup: async () => {},
    } satisfies Database;
  }
  const schema = `bench_ingest_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const appName = `herald_bench_${schema}`;
  const monitor = new pg.Pool({ connectionString: pgUrl, max: 1 });
  return {
    db: pgUrl,
    schema,
    appName,
    async query<T>(sql: string) {
      const client = new pg.Client({
        connectionString: pgUrl,
        options: `-c search_path=${schema}`,
      });
      await client.connect();
      try {
        return (await client.query(sql)).rows as T[];
      } finally {
        await client.end();
      }
    },
    async backendCpuMs() {
      const { rows } = await monitor.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
        [appName],
      );
      const cpu = new Map<number, number>();
      for (const { pid } of rows) {
        const ms = processCpuMs(pid);
        if (ms !== null) cpu.set(pid, ms);
      }
      return cpu;
    },
    async cleanup() {
      await monitor.end().catch(() => {});
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  } satisfies Database;
}

export async function runIngestBench(
  options: IngestBenchOptions,
): Promise<{ result: IngestBenchResult; table: string }> {
  const { dialect } = options;
  const settings = {
    dialect,
    variant: options.variant ?? "as-configured",
    runs: options.runs ?? 5,
    durationS: options.durationS ?? 5,
    warmupS: options.warmupS ?? 3,
    connections: options.connections ?? 64,
    bodyBytes: options.bodyBytes ?? 1024,
    node: process.version,
  };
  const pgUrl =
    options.pgUrl ?? process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
  const benchmark = dialect === "sqlite" ? "ingest-sqlite" : "ingest-pg";
  const dir = await mkdtemp(join(tmpdir(), "herald-bench-ingest-"));
  const database = await prepareDatabase(dialect, dir, pgUrl);
  let bare: ServerChild | undefined;
  let herald: ServerChild | undefined;
  try {
    [bare, herald] = await Promise.all([
      startBare(),
      startHeraldServe({
        db: database.db,
        ...(database.schema === undefined ? {} : { schema: database.schema }),
        cwd: dir,
        ...(database.appName === undefined ? {} : { env: { PGAPPNAME: database.appName } }),
        ...(options.heraldBin === undefined ? {} : { bin: options.heraldBin }),
        ...(options.cpuProfileDir === undefined
          ? {}
          : { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`] }),
      }),
    ]);
    // One source (Standard Webhooks, type from the body) and one endpoint for its type, so
    // each webhook also creates one delivery. The worker is off (--no-worker): nothing is sent.
    const secret = newStandardSecret();
    await call(herald.url, "POST", "/v1/sources", {
      name: SOURCE,
      scheme: "standard",
      secrets: [secret],
      type_from: { body: "type" },
    });
    if (settings.variant !== "message-only") {
      await call(herald.url, "POST", "/v1/endpoints", {
        url: "https://receiver.example.com/hooks",
        event_types: [`${SOURCE}.${EVENT_TYPE}`],
      });
    }
    if (settings.variant === "fewer-indexes") {
      for (const name of DELIVERY_INDEXES) await database.query(`DROP INDEX ${name}`);
    }

    let poolNo = 0;
    const pool = (count: number): PooledRequest[] =>
      signedPool(secret, count, { prefix: `p${poolNo++}`, bodyBytes: settings.bodyBytes });
    const load = async (
      server: ServerChild,
      requests: readonly PooledRequest[],
      durationS: number,
    ): Promise<TimedRun> => {
      const isHerald = server === herald;
      const backendsBefore = isHerald ? await database.backendCpuMs?.() : undefined;
      const cpuBefore = server.cpuMs();
      const mainBefore = server.mainThreadCpuMs();
      const clientBefore = process.cpuUsage();
      const run = await runLoad({
        url: server.url,
        path: PATH,
        pool: requests,
        connections: settings.connections,
        durationS,
        okStatus: 202,
      });
      const clientCpu = process.cpuUsage(clientBefore);
      const cpuAfter = server.cpuMs();
      const mainAfter = server.mainThreadCpuMs();
      const backendsAfter =
        backendsBefore === undefined ? undefined : await database.backendCpuMs?.();
      const answered = run.ok + Object.values(run.other).reduce((a, b) => a + b, 0);
      const perRequest = (before: number | null, after: number | null) =>
        before === null || after === null || answered === 0
          ? null
          : ((after - before) * 1000) / answered;
      let backendMs: number | null = null;
      if (backendsBefore !== undefined && backendsAfter !== undefined) {
        // A backend opened during the run counts from 0 (it started then); one closed during
        // the run is missed (the pool keeps its connections while busy).
        backendMs = 0;
        for (const [pid, ms] of backendsAfter) backendMs += ms - (backendsBefore.get(pid) ?? 0);
      }
      return {
        ...run,
        serverCpuUsPerRequest: perRequest(cpuBefore, cpuAfter),
        serverMainThreadCpuUsPerRequest: perRequest(mainBefore, mainAfter),
        pgBackendCpuUsPerRequest: perRequest(backendMs === null ? null : 0, backendMs),
        clientCpuUsPerRequest:
          answered === 0 ? null : (clientCpu.user + clientCpu.system) / answered,
      };
    };

    // Warm-up: both servers, then size each run's pool from Herald's fastest run so far (×3,
    // at least 3,000/s, so a faster timed run still never repeats a webhook; result.pool says).
    const warmPool = pool(Math.max(2000, 8000 * settings.warmupS));
    await load(bare, warmPool, settings.warmupS);
    const warm = await load(herald, warmPool, settings.warmupS);
    let fastest = warm.okPerSecond;
    await pause(200);

    const bareRuns: TimedRun[] = [];
    const heraldRuns: TimedRun[] = [];
    const poolSizes: number[] = [];
    let batchDelta = { sum: 0, count: 0 };
    for (let run = 0; run < settings.runs; run++) {
      const requests = pool(Math.ceil(Math.max(fastest * 3, 3000) * settings.durationS) + 1000);
      poolSizes.push(requests.length);
      bareRuns.push(await load(bare, requests, settings.durationS));
      await pause(200);
      const start = await batchCounters(herald.url);
      const result = await load(herald, requests, settings.durationS);
      heraldRuns.push(result);
      fastest = Math.max(fastest, result.okPerSecond);
      await pause(200); // requests cut off at the end of the run finish committing
      const end = await batchCounters(herald.url);
      batchDelta = {
        sum: batchDelta.sum + end.sum - start.sum,
        count: batchDelta.count + end.count - start.count,
      };
    }

    const stored = await storedRows(database, dialect);
    const bareSeries = series(bareRuns.map((r) => r.okPerSecond));
    const heraldSeries = series(heraldRuns.map((r) => r.okPerSecond));
    const p50 = heraldRuns.map((r) => r.latencyMs.p50);
    const p99 = heraldRuns.map((r) => r.latencyMs.p99);
    const ratio = bareSeries.median > 0 ? heraldSeries.median / bareSeries.median : 0;
    const targets = TARGETS[dialect];
    const failures = {
      bare: { other: {}, errors: 0, timeouts: 0 },
      herald: { other: {}, errors: 0, timeouts: 0 },
    };
    for (const r of bareRuns) addFailures(failures.bare, r);
    for (const r of heraldRuns) addFailures(failures.herald, r);
    const p99Median = median(p99);
    const cpuUsPerRequest: IngestBenchResult["cpuUsPerRequest"] = {
      bare: medianOrNull(bareRuns.map((r) => r.serverCpuUsPerRequest)),
      herald: medianOrNull(heraldRuns.map((r) => r.serverCpuUsPerRequest)),
      heraldMainThread: medianOrNull(heraldRuns.map((r) => r.serverMainThreadCpuUsPerRequest)),
      pgBackends:
        dialect === "postgres"
          ? medianOrNull(heraldRuns.map((r) => r.pgBackendCpuUsPerRequest))
          : null,
      loadGenerator: medianOrNull([...bareRuns, ...heraldRuns].map((r) => r.clientCpuUsPerRequest)),
    };
    const result: IngestBenchResult = {
      benchmark,
      dialect,
      schema: database.schema ?? null,
      settings,
      bare: { ...bareSeries, p99Ms: bareRuns.map((r) => r.latencyMs.p99) },
      herald: {
        ...heraldSeries,
        p50Ms: p50,
        p99Ms: p99,
        p50Median: median(p50),
        p99Median,
        p99Worst: Math.max(...p99),
      },
      ratio,
      batch: {
        transactions: batchDelta.count,
        messages: batchDelta.sum,
        meanSize: batchDelta.count > 0 ? batchDelta.sum / batchDelta.count : 0,
      },
      failures,
      pool: { size: poolSizes, sent: heraldRuns.map((r) => r.sent) },
      stored,
      targets,
      met: {
        ratio: ratio >= targets.ratio,
        p99: targets.p99Ms === null ? null : p99Median <= targets.p99Ms,
      },
      cpuUsPerRequest,
      cpuBoundRatio: cpuBoundRatio(cpuUsPerRequest),
      rawRuns: { bare: bareRuns, herald: heraldRuns },
    };
    return { result, table: ingestTable(result) };
  } finally {
    await Promise.all([bare?.stop(), herald?.stop()]);
    await database.cleanup().catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

async function storedRows(
  database: Database,
  dialect: IngestDialect,
): Promise<IngestBenchResult["stored"]> {
  const count = async (table: string) =>
    Number(
      (await database.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n,
    );
  const indexes = await database.query<{ name: string }>(
    dialect === "sqlite"
      ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' ORDER BY name"
      : "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'deliveries' ORDER BY indexname",
  );
  return {
    messages: await count("messages"),
    deliveries: await count("deliveries"),
    deliveryIndexes: indexes.map((i) => i.name),
  };
}

/** (bare + load generator) ÷ (Herald + PostgreSQL backends + load generator); null if unknown. */
export function cpuBoundRatio(cpu: IngestBenchResult["cpuUsPerRequest"]): number | null {
  const { bare, herald, loadGenerator } = cpu;
  if (bare === null || herald === null || loadGenerator === null) return null;
  return (bare + loadGenerator) / (herald + (cpu.pgBackends ?? 0) + loadGenerator);
}

const rps = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => n.toFixed(1);
const cpu = (n: number | null) => (n === null ? "—" : Math.round(n).toString());
const pct = (n: number) => `${Math.round(n * 100)}%`;
const failureText = (f: { other: Record<string, number>; errors: number; timeouts: number }) => {
  const parts = Object.entries(f.other).map(([status, count]) => `${count}× ${status}`);
  if (f.errors > 0) parts.push(`${f.errors} errors`);
  if (f.timeouts > 0) parts.push(`${f.timeouts} timeouts`);
  return parts.length === 0 ? "none" : parts.join(", ");
};

const VARIANT_LABELS: Record<IngestVariant, string> = {
  "as-configured": "1 delivery",
  "message-only": "no delivery",
  "fewer-indexes": "1 delivery, no secondary delivery index",
};

export function ingestTable(result: IngestBenchResult): string {
  const { bare, herald, settings } = result;
  return formatTable([
    {
      contender: `bare Fastify route (parse JSON, 202)`,
      "median req/s": rps(bare.median),
      spread: pct(bare.spread),
      runs: bare.runs.map(rps).join(" "),
      "p50 ms": "—",
      "p99 ms": ms(median(bare.p99Ms)),
      "CPU µs/req": cpu(result.cpuUsPerRequest.bare),
      "not 202": failureText(result.failures.bare),
    },
    {
      contender: `herald serve (${settings.dialect}, durable 202, ${VARIANT_LABELS[settings.variant]})`,
      "median req/s": rps(herald.median),
      spread: pct(herald.spread),
      runs: herald.runs.map(rps).join(" "),
      "p50 ms": ms(herald.p50Median),
      "p99 ms": ms(herald.p99Median),
      "CPU µs/req": cpu(result.cpuUsPerRequest.herald),
      "not 202": failureText(result.failures.herald),
    },
  ]).concat(
    `\n\nherald ÷ bare: ${result.ratio.toFixed(2)} (target ≥ ${result.targets.ratio}); ` +
      `p99 ${ms(herald.p99Median)} ms median, ${ms(herald.p99Worst)} ms worst run` +
      (result.targets.p99Ms === null ? "" : ` (target ≤ ${result.targets.p99Ms} ms)`) +
      `; group commit: ${result.batch.meanSize.toFixed(1)} messages per transaction ` +
      `(${result.batch.messages} in ${result.batch.transactions}); ` +
      `CPU per request: load generator ${cpu(result.cpuUsPerRequest.loadGenerator)} µs, ` +
      `Herald's main thread ${cpu(result.cpuUsPerRequest.heraldMainThread)} µs of its ` +
      `${cpu(result.cpuUsPerRequest.herald)}` +
      (result.cpuUsPerRequest.pgBackends === null
        ? ""
        : `, its PostgreSQL backends ${cpu(result.cpuUsPerRequest.pgBackends)} µs`) +
      (result.cpuBoundRatio === null
        ? ""
        : ` (if the 2 cores were the only limit: ratio ≤ ${result.cpuBoundRatio.toFixed(2)})`) +
      `; ` +
      `${settings.runs} runs × ${settings.durationS} s, ${settings.connections} connections, ` +
      `${settings.bodyBytes}-byte bodies, warm-up ${settings.warmupS} s each.`,
  );
}
