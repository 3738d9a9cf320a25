// `scale`: delivery throughput and claim latency of one built `herald worker` process as the
// deliveries table grows (PostgreSQL 10^4, 10^6 and 10^7 rows; SQLite 10^4 and 10^6), with a
// retention job deleting old messages during every run, and the disk bytes per stored
// delivery.
//
// Per store: the worker starts once and delivers a warm-up run (whose first delivery is the
// template of the background rows, scaleSeed.ts). Then, size by size, smallest first, the
// table is grown to the size with background rows (SQL, not the worker), and runs are timed:
// the first alone, then runs with the probe and the retention job beside them until their
// claims pooled number `minClaims` (or `maxProbeRuns` were made): a run of 10,000 takes 1–3 s
// and holds 10–30 claims, whose p99 would simply be the slowest. A run:
// N pending deliveries are stored while the endpoint is disabled, the endpoint is enabled, and
// the run lasts from the receiver's first request until it has had all N and the store holds
// none of them open. During each probe run the bench claims up to 50 due deliveries every 100 ms
// in a transaction it rolls back (the worker skips the locked rows, or on SQLite waits for the
// write lock: kept to every 100 ms so the probe holds it a small share of the time), and the
// retention job deletes, every 50 ms, the messages of up to 500 deliveries older than 7 days
// whose deliveries are all final, until it has deleted N deliveries' worth (N / FANOUT
// background messages): as many as the run adds, the steady state of a table kept at its size.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WORKER_SETTINGS } from "./deliver.bench.js";
import {
  type ChildWorker,
  createBenchEndpoint,
  ENDPOINT_ID,
  percentile,
  type Receiver,
  seedDeliveries,
  sleep,
  startHeraldWorker,
  startReceiver,
  writeWorkerConfig,
} from "./deliverHarness.js";
import {
  type BackendName,
  openPgBackend,
  openSqliteBackend,
  type ScaleBackend,
} from "./scaleBackends.js";
import { createHistoryEndpoints, FANOUT, HISTORY_MS } from "./scaleSeed.js";

const RETENTION_MS = 7 * 24 * 3600 * 1000;
const PRUNE_BATCH = 500;
const PRUNE_EVERY_MS = 50;
const CLAIM_LIMIT = 50;
const CLAIM_EVERY_MS = 100;

export interface ScalePoint {
  backend: BackendName;
  /** Background rows the table was grown to. */
  size: number;
  /** Rows in `deliveries` when the run started (background and earlier runs'). */
  tableRows: number;
  /** Seconds to seed this size's new background rows (and ANALYZE). */
  seedSeconds: number;
  /** Deliveries the probe runs made (`n` each). */
  delivered: number;
  /** Deliveries per second over the probe runs (all their deliveries ÷ all their seconds). */
  perSecond: number;
  seconds: number;
  /** Runs with the claim probe and the retention job. */
  runs: number;
  /**
   * Deliveries per second of a run of the same size just before, without the claim probe and
   * the retention job: the baseline of the same table.
   */
  quietPerSecond: number;
  /** Claims that found due deliveries, timed during the probe runs. */
  claims: number;
  claimP50Ms: number;
  claimP99Ms: number;
  /** Messages the retention job deleted during the probe runs (FANOUT deliveries each). */
  pruned: number;
  /** Time of one retention batch (a DELETE of up to 500 deliveries' messages, cascading). */
  pruneP50Ms: number;
  pruneP99Ms: number;
  /** After the run: delivery tables' bytes on disk, stored deliveries, bytes per delivery. */
  diskBytes: number;
  deliveries: number;
  bytesPerDelivery: number;
}

export interface ScaleOptions {
  /** PostgreSQL server URL (the bench makes its own database), or null to leave PG out. */
  pgUrl: string | null;
  pgDatabase: string;
  pgSizes: readonly number[];
  sqliteSizes: readonly number[];
  /** Deliveries per timed run. */
  n: number;
  /**
   * Claims to pool per size: runs with the claim probe and the retention job are repeated until
   * they timed this many, or made `maxProbeRuns` (at least one run).
   */
  minClaims: number;
  maxProbeRuns: number;
  warmup: number;
}

export interface ScaleResult {
  options: ScaleOptions;
  points: ScalePoint[];
  /** Worker exit codes by store (0: stopped gracefully). */
  exitCodes: Partial<Record<BackendName, number | null>>;
  seconds: number;
}

interface RunFigures {
  delivered: number;
  perSecond: number;
  seconds: number;
  latencies: number[];
  pruned: number;
  pruneMs: number[];
}

/** Repeats `step` every `everyMs` until `stop.done` (or `step` says it is finished). */
async function repeat(
  stop: { done: boolean },
  everyMs: number,
  step: () => Promise<boolean>,
): Promise<void> {
  while (!stop.done) {
    if (!(await step())) return;
    await sleep(everyMs);
  }
}

/** One timed run of `n` deliveries, with the claim probe and the retention job beside it. */
async function timedRun(
  backend: ScaleBackend,
  receiver: Receiver,
  n: number,
  jobs: boolean,
): Promise<RunFigures> {
  const since = Date.now();
  await seedDeliveries(backend.store, n);
  receiver.reset();
  const stop = { done: false };
  const latencies: number[] = [];
  const pruneMs: number[] = [];
  let pruned = 0;
  const cutoff = Date.now() - RETENTION_MS;
  // Enabled before the side jobs start: on SQLite the bench's own connection waits for the
  // write lock synchronously, and would stall the probe holding it.
  await backend.store.setEndpointEnabled(ENDPOINT_ID, true);
  const side = jobs
    ? [
        repeat(stop, CLAIM_EVERY_MS, async () => {
          const { ms, claimed } = await backend.claim(CLAIM_LIMIT);
          if (claimed > 0) latencies.push(ms);
          return true;
        }),
        repeat(stop, PRUNE_EVERY_MS, async () => {
          const started = performance.now();
          pruned += await backend.prune(cutoff, Math.min(PRUNE_BATCH, n - pruned * FANOUT));
          pruneMs.push(performance.now() - started);
          return pruned * FANOUT < n;
        }),
      ]
    : [];
  try {
    await receiver.waitFor(n, Math.max(120_000, n * 5));
    while ((await backend.openSince(since)) > 0) await sleep(10);
  } finally {
    stop.done = true;
    await Promise.all(side);
  }
  const end = performance.now();
  await backend.store.setEndpointEnabled(ENDPOINT_ID, false, "bench: between runs");
  const seconds = (end - (receiver.firstAt() ?? end)) / 1000;
  return { delivered: n, perSecond: n / seconds, seconds, latencies, pruned, pruneMs };
}

/** The store's curve: the worker runs throughout; the table grows size by size. */
async function curve(
  backend: ScaleBackend,
  receiver: Receiver,
  sizes: readonly number[],
  options: ScaleOptions,
): Promise<{ points: ScalePoint[]; exitCode: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), "herald-scale-config-"));
  const config = join(dir, "herald.yaml");
  writeWorkerConfig(config, WORKER_SETTINGS);
  let worker: ChildWorker | null = null;
  let exitCode: number | null = null;
  const points: ScalePoint[] = [];
  try {
    await createBenchEndpoint(backend.store, receiver.url);
    await createHistoryEndpoints(backend.store, receiver.url);
    await backend.store.setEndpointEnabled(ENDPOINT_ID, false, "bench: between runs");
    worker = await startHeraldWorker([...backend.workerArgs, "--config", config]);
    await timedRun(backend, receiver, options.warmup, false);
    const template = await backend.template();
    const t0 = Date.now() - HISTORY_MS;
    let seeded = 0;
    for (const size of sizes) {
      const seedStart = performance.now();
      await backend.seed(template, { from: seeded, to: size, t0, now: Date.now() });
      const seedSeconds = (performance.now() - seedStart) / 1000;
      seeded = size;
      const tableRows = await backend.rows();
      const quiet = await timedRun(backend, receiver, options.n, false);
      const runs: RunFigures[] = [];
      do {
        runs.push(await timedRun(backend, receiver, options.n, true));
      } while (
        runs.reduce((sum, run) => sum + run.latencies.length, 0) < options.minClaims &&
        runs.length < options.maxProbeRuns
      );
      const delivered = runs.reduce((sum, run) => sum + run.delivered, 0);
      const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
      const latencies = runs.flatMap((run) => run.latencies);
      const pruneMs = runs.flatMap((run) => run.pruneMs);
      const disk = await backend.disk();
      points.push({
        backend: backend.name,
        size,
        tableRows,
        seedSeconds,
        delivered,
        perSecond: delivered / seconds,
        seconds,
        runs: runs.length,
        quietPerSecond: quiet.perSecond,
        claims: latencies.length,
        claimP50Ms: percentile(latencies, 50),
        claimP99Ms: percentile(latencies, 99),
        pruned: runs.reduce((sum, run) => sum + run.pruned, 0),
        pruneP50Ms: percentile(pruneMs, 50),
        pruneP99Ms: percentile(pruneMs, 99),
        diskBytes: disk.bytes,
        deliveries: disk.deliveries,
        bytesPerDelivery: disk.deliveries === 0 ? 0 : disk.bytes / disk.deliveries,
      });
    }
  } finally {
    exitCode = (await worker?.stop()) ?? null;
    rmSync(dir, { recursive: true, force: true });
  }
  return { points, exitCode };
}

export async function runScale(options: ScaleOptions): Promise<ScaleResult> {
  const started = performance.now();
  const receiver = await startReceiver();
  const points: ScalePoint[] = [];
  const exitCodes: ScaleResult["exitCodes"] = {};
  try {
    if (options.sqliteSizes.length > 0) {
      const backend = openSqliteBackend();
      try {
        const { points: sqlite, exitCode } = await curve(
          backend,
          receiver,
          options.sqliteSizes,
          options,
        );
        points.push(...sqlite);
        exitCodes.sqlite = exitCode;
      } finally {
        await backend.close();
      }
    }
    if (options.pgUrl !== null && options.pgSizes.length > 0) {
      const backend = await openPgBackend(options.pgUrl, options.pgDatabase);
      try {
        const { points: postgres, exitCode } = await curve(
          backend,
          receiver,
          options.pgSizes,
          options,
        );
        points.push(...postgres);
        exitCodes.postgres = exitCode;
      } finally {
        await backend.close();
      }
    }
  } finally {
    await receiver.close();
  }
  return { options, points, exitCodes, seconds: (performance.now() - started) / 1000 };
}
