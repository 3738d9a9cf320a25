// deliver-sqlite's runs: one built `herald worker` process, started once on one SQLite file,
// warmed up, then timed run after run. Each run seeds N pending deliveries into the same file
// (delivered rows of earlier runs stay: the table grows) while the endpoint is disabled, then
// enables it; the run is timed from the first request the receiver sees until the receiver has
// seen all N and the store says all N are delivered.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlite } from "../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../packages/sqlite/src/store/sqlite/migrate.js";
import {
  type ChildWorker,
  cpuSecondsOf,
  createBenchEndpoint,
  ENDPOINT_ID,
  type Receiver,
  seedDeliveries,
  sleep,
  startHeraldWorker,
  type WorkerSettings,
  writeWorkerConfig,
} from "./deliverHarness.js";

export interface DeliverRun {
  /** Deliveries per second from the run's first delivery to the last one stored. */
  perSecond: number;
  seconds: number;
  /** Items this run delivered (jobs completed). */
  delivered: number;
  /** Requests the receiver answered during the run (≥ N: at-least-once). */
  received: number;
  /**
   * Worker CPU (user + system, all processes of the set) during the run only, per delivery, ms:
   * the processes were started and warmed up before; less sensitive to a busy machine.
   */
  cpuMsPerDelivery: number;
}

export interface SqliteRunOptions {
  settings: WorkerSettings;
  receiver: Receiver;
  /** Extra node flags for the worker child (`--cpu-prof` …). */
  nodeArgs?: readonly string[];
  /** The built CLI to run (default `heraldBin`): A/B runs of two builds. */
  bin?: string;
  /** Called with the worker once it runs. */
  onWorker?: (worker: ChildWorker) => void;
}

export interface SqliteBench {
  readonly worker: ChildWorker;
  /** Worker CPU seconds used to start (until it printed that it runs). */
  readonly startCpuSeconds: number;
  /** One run of `n` deliveries through the running worker. */
  run(n: number): Promise<DeliverRun>;
  /** Stops the worker (SIGTERM, graceful) and removes the file; the worker's exit code. */
  close(): Promise<number | null>;
}

export async function setUpSqliteBench(options: SqliteRunOptions): Promise<SqliteBench> {
  const { receiver } = options;
  const dir = mkdtempSync(join(tmpdir(), "herald-deliver-"));
  const path = join(dir, "herald.db");
  const config = join(dir, "herald.yaml");
  writeWorkerConfig(config, options.settings);
  // The bench's own connection seeds at `normal`; the worker runs at the default (`full`).
  const db = openSqlite(path, { durability: "normal" });
  let worker: ChildWorker | null = null;
  try {
    migrateSqlite(db);
    const store = createSqliteDeliveryStore(db);
    await createBenchEndpoint(store, receiver.url);
    // Nothing is due until a run enables the endpoint (after its seeding).
    await store.setEndpointEnabled(ENDPOINT_ID, false, "bench: between runs");
    const deliveredSql = db.prepare(
      "SELECT count(*) AS n FROM deliveries WHERE status = 'delivered'",
    );
    const delivered = () => (deliveredSql.get() as { n: number }).n;
    worker = await startHeraldWorker(["--db", path, "--config", config], {
      nodeArgs: options.nodeArgs ?? [],
      ...(options.bin === undefined ? {} : { bin: options.bin }),
    });
    const running = worker;
    options.onWorker?.(running);
    const startCpuSeconds = cpuSecondsOf(running.pid) ?? 0;
    return {
      worker: running,
      startCpuSeconds,
      async run(n) {
        const before = delivered();
        await seedDeliveries(store, n);
        receiver.reset();
        const cpuBefore = cpuSecondsOf(running.pid) ?? 0;
        await store.setEndpointEnabled(ENDPOINT_ID, true);
        await receiver.waitFor(n, Math.max(60_000, n * 2));
        let stored = 0;
        for (;;) {
          stored = delivered() - before;
          if (stored >= n) break;
          await sleep(5);
        }
        const end = performance.now();
        const cpu = (cpuSecondsOf(running.pid) ?? cpuBefore) - cpuBefore;
        await store.setEndpointEnabled(ENDPOINT_ID, false, "bench: between runs");
        const first = receiver.firstAt() ?? end;
        return {
          perSecond: n / ((end - first) / 1000),
          seconds: (end - first) / 1000,
          delivered: stored,
          received: receiver.count(),
          cpuMsPerDelivery: (cpu * 1000) / n,
        };
      },
      async close() {
        const code = await running.stop();
        db.close();
        rmSync(dir, { recursive: true, force: true });
        return code;
      },
    };
  } catch (error) {
    await worker?.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** One run through a freshly started worker (start-up excluded from the figures): A/B checks. */
export async function runSqliteOnce(
  options: SqliteRunOptions & { n: number },
): Promise<DeliverRun> {
  const bench = await setUpSqliteBench(options);
  try {
    return await bench.run(options.n);
  } finally {
    await bench.close();
  }
}
