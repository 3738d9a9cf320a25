// `soak`: up to 1,000,000 deliveries through SQLite with one built `herald worker` process,
// seeded in phases of 100,000 while the worker runs, within a time budget. Samples the
// worker's RSS (/proc/<pid>/status VmRSS) every 2 s, and between phases times claims on the
// grown table from the bench process (each claimed batch is given straight back). Targets:
// RSS ≤ 200 MB, no growth after warm-up, p99 claim latency flat as the table grows.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlite } from "../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../packages/sqlite/src/store/sqlite/migrate.js";
import { WORKER_SETTINGS } from "./deliver.bench.js";
import {
  createBenchEndpoint,
  percentile,
  rssOf,
  seedDeliveries,
  startHeraldWorker,
  startReceiver,
  writeWorkerConfig,
} from "./deliverHarness.js";
import { formatTable } from "./measure.js";
import type { BenchFn } from "./types.js";

const MB = 1024 * 1024;

export interface SoakOptions {
  total: number;
  phase: number;
  /** Stop seeding new phases after this; the phase under way is finished. */
  budgetMs: number;
  claimSamples: number;
}

export interface SoakPhase {
  /** Deliveries made when the phase ended. */
  delivered: number;
  /** Rows in `deliveries` when its claims were timed. */
  tableRows: number;
  /** A claim as a second worker sees it: waiting for the write lock, the work, the COMMIT. */
  claimP50Ms: number;
  claimP99Ms: number;
  /**
   * The claim's own work (its statements and row mapping) on the grown table, timed while the
   * bench holds the write lock and rolled back: no lock wait, no COMMIT.
   */
  claimWorkP50Ms: number;
  claimWorkP99Ms: number;
  /** Claims timed (fewer when the queue ran dry). */
  claimSamples: number;
  perSecond: number;
  rssMb: number;
}

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
  const my = points.reduce((s, p) => s + p.y, 0) / points.length;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export async function runSoak(options: SoakOptions) {
  const dir = mkdtempSync(join(tmpdir(), "herald-soak-"));
  const path = join(dir, "herald.db");
  const config = join(dir, "herald.yaml");
  writeWorkerConfig(config, WORKER_SETTINGS);
  const receiver = await startReceiver();
  const db = openSqlite(path, { durability: "normal" });
  const started = performance.now();
  const samples: { t: number; delivered: number; rssMb: number }[] = [];
  const phases: SoakPhase[] = [];
  let worker: Awaited<ReturnType<typeof startHeraldWorker>> | null = null;
  let sampler: NodeJS.Timeout | undefined;
  try {
    migrateSqlite(db);
    const store = createSqliteDeliveryStore(db);
    await createBenchEndpoint(store, receiver.url);
    const count = db.prepare("SELECT count(*) AS n FROM deliveries");
    await seedDeliveries(store, Math.min(options.phase, options.total));
    let seeded = Math.min(options.phase, options.total);
    worker = await startHeraldWorker(["--db", path, "--config", config]);
    const pid = worker.pid;
    const sample = () => {
      const rss = rssOf(pid);
      if (rss !== null) {
        samples.push({
          t: (performance.now() - started) / 1000,
          delivered: receiver.count(),
          rssMb: rss / MB,
        });
      }
    };
    sample();
    sampler = setInterval(sample, 2000);
    let phaseStart = performance.now();
    let phaseFrom = 0;
    for (;;) {
      await receiver.waitFor(seeded, 600_000);
      const now = performance.now();
      const rate = (seeded - phaseFrom) / ((now - phaseStart) / 1000);
      const done = receiver.count();
      const outOfTime = now - started > options.budgetMs;
      const more = seeded < options.total && !outOfTime;
      if (more) {
        const next = Math.min(options.phase, options.total - seeded);
        await seedDeliveries(store, next);
        seeded += next;
      }
      // Claims on the grown table: the bench process takes a batch like a worker would and
      // gives it straight back (due now), so the worker delivers it all the same.
      const latencies: number[] = [];
      for (let i = 0; i < options.claimSamples; i++) {
        const t = performance.now();
        const claimed = await store.claimDueDeliveries({
          owner: "soak-probe",
          limit: 50,
          leaseMs: 60_000,
        });
        latencies.push(performance.now() - t);
        await Promise.all(
          claimed.map((c) =>
            store.releaseLease({ deliveryId: c.delivery.id, owner: "soak-probe" }),
          ),
        );
        if (claimed.length === 0) break;
      }
      // The same claims with the lock already held and rolled back afterwards: what the table's
      // size can change, without the waits for the worker's commits (fsyncs) around it.
      const work: number[] = [];
      for (let i = 0; i < latencies.length; i++) {
        db.exec("BEGIN IMMEDIATE");
        try {
          const t = performance.now();
          const claimed = await store.claimDueDeliveries({
            owner: "soak-probe",
            limit: 50,
            leaseMs: 60_000,
          });
          work.push(performance.now() - t);
          if (claimed.length === 0) break;
        } finally {
          db.exec("ROLLBACK");
        }
      }
      phases.push({
        delivered: done,
        tableRows: (count.get() as { n: number }).n,
        claimP50Ms: percentile(latencies, 50),
        claimP99Ms: percentile(latencies, 99),
        claimWorkP50Ms: percentile(work, 50),
        claimWorkP99Ms: percentile(work, 99),
        claimSamples: latencies.length,
        perSecond: rate,
        rssMb: (rssOf(pid) ?? 0) / MB,
      });
      if (!more) break;
      phaseStart = performance.now();
      phaseFrom = receiver.count();
    }
    clearInterval(sampler);
    sample();
  } finally {
    clearInterval(sampler);
    await worker?.stop();
    await receiver.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const delivered = phases.at(-1)?.delivered ?? 0;
  const seconds = (performance.now() - started) / 1000;
  // Warm-up: the first phase (caches, JIT, undici pool, SQLite page cache).
  const warm = samples.filter((s) => s.delivered >= Math.min(options.phase, delivered));
  const rssMax = Math.max(...samples.map((s) => s.rssMb));
  const rssSlopePer100k = slope(warm.map((s) => ({ x: s.delivered / 100_000, y: s.rssMb })));
  // The last probe of a run that drained its queue finds nothing due: not a claim of a batch.
  const full = phases.filter((p) => p.claimSamples > 1);
  const growth = (values: number[]) =>
    values.length < 2 ? 1 : values.at(-1)! / Math.max(0.001, values[0]!);
  const claimGrowth = growth(full.map((p) => p.claimP99Ms));
  const claimWorkGrowth = growth(full.map((p) => p.claimWorkP99Ms));
  return {
    options,
    delivered,
    seconds,
    reachedTotal: delivered >= options.total,
    rssMaxMb: rssMax,
    rssAfterWarmupMb: warm.length === 0 ? null : warm[0]!.rssMb,
    rssSlopeMbPer100k: rssSlopePer100k,
    claimP99FirstToLast: claimGrowth,
    claimWorkP99FirstToLast: claimWorkGrowth,
    phases,
    samples,
  };
}

/**
 * The seeding budget of a full run, in seconds: `HERALD_BENCH_SOAK_BUDGET_S` (0 = none: run all
 * 1,000,000) or 330 s: enough for 1,000,000 at ≈ 3,200/s, and `npm run bench` stays under 15 min.
 */
function budgetMs(): number {
  const raw = process.env.HERALD_BENCH_SOAK_BUDGET_S;
  if (raw === undefined || raw === "") return 330_000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new Error(`HERALD_BENCH_SOAK_BUDGET_S must be a number of seconds ≥ 0, got "${raw}"`);
  }
  return seconds === 0 ? Number.POSITIVE_INFINITY : seconds * 1000;
}

const soak: BenchFn = async ({ quick }) => {
  const result = await runSoak(
    quick
      ? { total: 5000, phase: 1000, budgetMs: 20_000, claimSamples: 20 }
      : { total: 1_000_000, phase: 100_000, budgetMs: budgetMs(), claimSamples: 100 },
  );
  const rssOk = result.rssMaxMb <= 200;
  // "No growth": under 2 MB per 100,000 deliveries after warm-up.
  const flatRss = result.rssSlopeMbPer100k < 2;
  // "Flat": the last phase's p99 of the claim's own work within 2× the first's (same order of
  // magnitude, noise allowed). The p99 with the lock wait and COMMIT is reported beside it: it
  // follows the worker's fsyncs and the machine's load, not the table's size.
  const flatClaims = result.claimWorkP99FirstToLast <= 2;
  const table = formatTable(
    result.phases.map((p) => ({
      delivered: p.delivered,
      "table rows": p.tableRows,
      "deliveries/s in phase": Math.round(p.perSecond),
      "claim p50 ms": p.claimP50Ms.toFixed(2),
      "claim p99 ms": p.claimP99Ms.toFixed(2),
      "claim work p50 ms": p.claimWorkP50Ms.toFixed(2),
      "claim work p99 ms": p.claimWorkP99Ms.toFixed(2),
      "worker RSS MB": p.rssMb.toFixed(1),
    })),
  );
  const summaryText = `${result.delivered.toLocaleString("en-US")} deliveries in ${result.seconds.toFixed(0)} s; RSS max ${result.rssMaxMb.toFixed(0)} MB, slope ${result.rssSlopeMbPer100k.toFixed(2)} MB/100k; claim p99 last ÷ first ${result.claimP99FirstToLast.toFixed(2)} (work only ${result.claimWorkP99FirstToLast.toFixed(2)})`;
  return {
    result,
    table: `${table}\n\n${summaryText}`,
    summary: [
      {
        benchmark: `soak (SQLite, ${result.delivered.toLocaleString("en-US")} deliveries${result.reachedTotal ? "" : ` of ${result.options.total.toLocaleString("en-US")}`})`,
        herald: `RSS max ${result.rssMaxMb.toFixed(0)} MB, ${result.rssSlopeMbPer100k >= 0 ? "+" : ""}${result.rssSlopeMbPer100k.toFixed(1)} MB/100k, claim work p99 ×${result.claimWorkP99FirstToLast.toFixed(2)} (with lock wait ×${result.claimP99FirstToLast.toFixed(2)})`,
        baseline: "—",
        ratio: "—",
        target: "1M; RSS ≤ 200 MB, flat; claim p99 flat",
        met: rssOk && flatRss && flatClaims && result.reachedTotal ? "yes" : "no",
      },
    ],
  };
};

export const benches = { soak };
