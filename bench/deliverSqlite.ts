// One timed run of Herald's delivery worker on SQLite: seed N pending deliveries through the
// store API, start the built `herald worker` on the file, time until the receiver has seen all
// N and the store says all N are delivered.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlite } from "../src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../src/store/sqlite/migrate.js";
import {
  type ChildWorker,
  cpuSecondsOf,
  createBenchEndpoint,
  type Receiver,
  seedDeliveries,
  sleep,
  startHeraldWorker,
  type WorkerSettings,
  writeWorkerConfig,
} from "./deliverHarness.js";

export interface DeliverRun {
  /** Deliveries per second from the first request the receiver saw to the last one stored. */
  perSecond: number;
  /** Same N over the whole time from spawning the worker(s) (start-up included). */
  wallPerSecond: number;
  seconds: number;
  delivered: number;
  /** Requests the receiver answered (≥ N: at-least-once). */
  received: number;
  /** Worker CPU seconds (user + system) per 1,000 deliveries: less sensitive to a busy machine. */
  cpuMsPerDelivery: number;
}

export interface SqliteRunOptions {
  n: number;
  settings: WorkerSettings;
  receiver: Receiver;
  /** Extra node flags for the worker child (`--cpu-prof` …). */
  nodeArgs?: readonly string[];
  /** The built CLI to run (default `heraldBin`): A/B runs of two builds. */
  bin?: string;
  /** Called with the worker while it runs (the soak samples its RSS). */
  onWorker?: (worker: ChildWorker) => void;
}

export async function runSqliteOnce(options: SqliteRunOptions): Promise<DeliverRun> {
  const { n, receiver } = options;
  const dir = mkdtempSync(join(tmpdir(), "herald-deliver-"));
  const path = join(dir, "herald.db");
  const config = join(dir, "herald.yaml");
  writeWorkerConfig(config, options.settings);
  const db = openSqlite(path, { durability: "normal" });
  try {
    migrateSqlite(db);
    const store = createSqliteDeliveryStore(db);
    await createBenchEndpoint(store, receiver.url);
    await seedDeliveries(store, n);
    const delivered = db.prepare("SELECT count(*) AS n FROM deliveries WHERE status = 'delivered'");
    receiver.reset();
    const spawned = performance.now();
    const worker = await startHeraldWorker(["--db", path, "--config", config], {
      nodeArgs: options.nodeArgs ?? [],
      ...(options.bin === undefined ? {} : { bin: options.bin }),
    });
    options.onWorker?.(worker);
    try {
      await receiver.waitFor(n, Math.max(60_000, n * 2));
      let stored = 0;
      for (;;) {
        stored = (delivered.get() as { n: number }).n;
        if (stored >= n) break;
        await sleep(5);
      }
      const end = performance.now();
      const cpu = cpuSecondsOf(worker.pid) ?? 0;
      const first = receiver.firstAt() ?? spawned;
      return {
        perSecond: n / ((end - first) / 1000),
        wallPerSecond: n / ((end - spawned) / 1000),
        seconds: (end - first) / 1000,
        delivered: stored,
        received: receiver.count(),
        cpuMsPerDelivery: (cpu * 1000) / n,
      };
    } finally {
      await worker.stop();
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
