// CPU per webhook by process at a fixed open-loop rate (the command line is bench/e2eCpu.ts):
// Herald's `serve`, its `worker` (PostgreSQL: serve --no-worker + N herald workers), the
// PostgreSQL backends of the bench's database, and this process (load generator and receiver),
// read from /proc before and after each run. On PostgreSQL the backends' CPU is also split by the
// process whose connection each serves (bench/pgBackendOwners.ts): what serve's statements cost
// the database, and what the workers' do.
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { percentile, sleep } from "./deliverHarness.js";
import { defaultPgUrl, measureOpenLoop, warmUp } from "./e2eLatency.js";
import { startLatencyReceiver } from "./e2eLatencyReceiver.js";
import {
  type BenchDatabase,
  createBenchDatabase,
  type E2eStore,
  startHeraldTarget,
} from "./e2eLatencySetup.js";
import { processCpuMs } from "./http/children.js";
import { backendOwners } from "./pgBackendOwners.js";

export interface CpuByProcessOptions {
  store: E2eStore;
  rate: number;
  seconds: number;
  /** PostgreSQL: `herald worker` processes (default 1). */
  workers?: number;
  /** Timed runs, one after the other after the warm-up (default 1). */
  runs?: number;
  /**
   * PostgreSQL: `name=value` settings of the bench's own database (ALTER DATABASE … SET),
   * applied before Herald connects, for experiments such as `synchronous_commit=off`.
   */
  databaseSettings?: readonly string[];
  /** The built CLI (default: this repository's). */
  bin?: string;
  /** PostgreSQL server for the bench's own database (default HERALD_TEST_PG or the local one). */
  pgUrl?: string;
}

export interface CpuRun {
  accepted: number;
  lost: number;
  /** Receipt − scheduled send, ms. */
  p50Ms: number;
  p99Ms: number;
  /** ms of CPU per accepted webhook, by group of processes, and their total. */
  perWebhookMs: Record<string, number>;
  totalMs: number;
  /**
   * PostgreSQL: the `postgres` group's ms per webhook by the process each backend works for
   * (`serve`, `worker`, `worker LISTEN`; `unattributed` for a backend none of them holds).
   */
  postgresByOwnerMs: Record<string, number>;
}

export interface CpuByProcess {
  runs: CpuRun[];
}

export const BENCH_GROUP = "bench (load + receiver)";

/** Every process's command line (NULs as spaces), by pid; one that exits meanwhile is left out. */
function commandLines(): Map<number, string> {
  const commands = new Map<number, string>();
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      commands.set(Number(pid), readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "));
    } catch {
      // gone meanwhile
    }
  }
  return commands;
}

interface CpuSnapshot {
  /** CPU ms so far of each group: serve, worker, the bench database's backends, this process. */
  groups: Map<string, number>;
  /** PostgreSQL: CPU ms so far of each client backend, labelled by the process it works for. */
  backends: Map<number, { label: string; ms: number }>;
}

/**
 * One reading of /proc (and, on PostgreSQL, of pg_stat_activity through `client`, whose own
 * backend `ownBackend` is left out of every group).
 */
async function snapshot(
  databaseName: string | undefined,
  client: pg.Client | undefined,
  ownBackend: number | undefined,
): Promise<CpuSnapshot> {
  const groups = new Map<string, number>();
  const add = (group: string, pid: number) =>
    groups.set(group, (groups.get(group) ?? 0) + (processCpuMs(pid) ?? 0));
  add(BENCH_GROUP, process.pid);
  // pid → serve | worker
  const herald = new Map<number, string>();
  for (const [pid, command] of commandLines()) {
    if (command.includes("cli/bin.js")) {
      const role = command.includes(" worker ") ? "worker" : "serve";
      herald.set(pid, role);
      add(role, pid);
      // Herald's own command lines name the database too (--db): they are not backends.
    } else if (databaseName !== undefined && pid !== ownBackend && command.includes(databaseName)) {
      add("postgres", pid);
    }
  }
  const backends = new Map<number, { label: string; ms: number }>();
  for (const backend of client === undefined ? [] : await backendOwners(client, herald)) {
    const label =
      backend.owner === null
        ? "unattributed"
        : `${backend.owner}${backend.listening ? " LISTEN" : ""}`;
    backends.set(backend.backendPid, { label, ms: processCpuMs(backend.backendPid) ?? 0 });
  }
  return { groups, backends };
}

const SETTING = /^([a-z_][a-z0-9_.]*)=(.*)$/;

async function applySettings(database: BenchDatabase, settings: readonly string[], pgUrl: string) {
  if (settings.length === 0) return;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    for (const setting of settings) {
      const match = SETTING.exec(setting);
      if (match === null) throw new Error(`database setting ${setting}: expected name=value`);
      await client.query(
        `ALTER DATABASE ${database.name} SET ${match[1]} = ${client.escapeLiteral(match[2]!)}`,
      );
    }
  } finally {
    await client.end();
  }
}

/** Starts the setup, warms it up, and measures each open-loop run's CPU by process. */
export async function measureCpuByProcess(options: CpuByProcessOptions): Promise<CpuByProcess> {
  const { store, rate, seconds, bin } = options;
  const pgUrl = options.pgUrl ?? defaultPgUrl();
  const receiver = await startLatencyReceiver();
  const database = store === "postgres" ? await createBenchDatabase(pgUrl) : undefined;
  let client: pg.Client | undefined;
  let ownBackend: number | undefined;
  try {
    if (database !== undefined) {
      await applySettings(database, options.databaseSettings ?? [], pgUrl);
      client = new pg.Client({ connectionString: database.url });
      await client.connect();
      ownBackend = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!
        .pid;
    }
    const target = await startHeraldTarget({
      name: store,
      store,
      receiver,
      ...(database === undefined ? {} : { database, workers: options.workers ?? 1 }),
      ...(bin === undefined ? {} : { bin }),
    });
    try {
      await warmUp([target], receiver, [{ rate: 500, seconds: 1 }], {
        idleMs: 5_000,
        capMs: 20_000,
      });
      await sleep(1_000);
      const runs: CpuRun[] = [];
      for (let i = 0; i < (options.runs ?? 1); i++) {
        const before = await snapshot(database?.name, client, ownBackend);
        const run = await measureOpenLoop(target, receiver, rate, seconds);
        const after = await snapshot(database?.name, client, ownBackend);
        // A process that exited meanwhile takes its CPU with it: never below 0.
        const perWebhook = (ms: number, earlier: number | undefined) =>
          Math.max(0, ms - (earlier ?? 0)) / run.accepted;
        const perWebhookMs: Record<string, number> = {};
        let totalMs = 0;
        for (const [group, ms] of after.groups) {
          perWebhookMs[group] = perWebhook(ms, before.groups.get(group));
          totalMs += perWebhookMs[group];
        }
        const postgresByOwnerMs: Record<string, number> = {};
        for (const [pid, { label, ms }] of after.backends) {
          postgresByOwnerMs[label] =
            (postgresByOwnerMs[label] ?? 0) + perWebhook(ms, before.backends.get(pid)?.ms);
        }
        runs.push({
          accepted: run.accepted,
          lost: run.lost,
          p50Ms: percentile(run.latenciesMs, 50),
          p99Ms: percentile(run.latenciesMs, 99),
          perWebhookMs,
          totalMs,
          postgresByOwnerMs,
        });
      }
      return { runs };
    } finally {
      await target.close();
    }
  } finally {
    await client?.end();
    await receiver.close();
    await database?.drop();
  }
}
