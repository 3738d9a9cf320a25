// CPU per webhook by process at a fixed open-loop rate (the command line is bench/e2eCpu.ts):
// Herald's `serve`, its `worker` (PostgreSQL: serve --no-worker + N herald workers), the
// PostgreSQL backends of the bench's database, and this process (load generator and receiver),
// read from /proc before and after each run. On PostgreSQL the backends' CPU is also split by the
// process whose connection each serves (bench/pgBackendOwners.ts): what serve's statements cost
// the database, and what the workers' do.
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { percentile, sleep } from "./deliverHarness.js";
import { measureOpenLoop, warmUp } from "./e2eLatency.js";
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

/** Herald's processes on this machine: pid → `serve` or `worker`. */
function heraldProcesses(): Map<number, string> {
  const found = new Map<number, string>();
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    let command: string;
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue; // gone meanwhile
    }
    if (command.includes("cli/bin.js")) {
      found.set(Number(pid), command.includes(" worker ") ? "worker" : "serve");
    }
  }
  return found;
}

/**
 * CPU ms so far of each group of processes: serve, worker, the bench database's backends (but
 * the bench's own, `ownBackend`), this one.
 */
function cpuByGroup(databaseName: string | undefined, ownBackend?: number): Map<string, number> {
  const groups = new Map<string, number>();
  const add = (group: string, pid: number) =>
    groups.set(group, (groups.get(group) ?? 0) + (processCpuMs(pid) ?? 0));
  add(BENCH_GROUP, process.pid);
  const herald = heraldProcesses();
  for (const [pid, role] of herald) add(role, pid);
  if (databaseName !== undefined) {
    for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
      // Herald's own command lines name the database too (--db).
      if (herald.has(Number(pid)) || Number(pid) === ownBackend) continue;
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
        if (command.includes(databaseName)) add("postgres", Number(pid));
      } catch {
        // gone meanwhile
      }
    }
  }
  return groups;
}

/** CPU ms so far of each backend of the bench database, labelled by the process it works for. */
async function backendCpu(client: pg.Client): Promise<Map<number, { label: string; ms: number }>> {
  const backends = await backendOwners(client, heraldProcesses());
  const cpu = new Map<number, { label: string; ms: number }>();
  for (const backend of backends) {
    const label =
      backend.owner === null
        ? "unattributed"
        : `${backend.owner}${backend.listening ? " LISTEN" : ""}`;
    cpu.set(backend.backendPid, { label, ms: processCpuMs(backend.backendPid) ?? 0 });
  }
  return cpu;
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
  const pgUrl =
    options.pgUrl ?? process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
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
      await warmUp([target], receiver, { rate: 500, seconds: 1 }, { idleMs: 5_000, capMs: 20_000 });
      await sleep(1_000);
      const runs: CpuRun[] = [];
      for (let i = 0; i < (options.runs ?? 1); i++) {
        const before = cpuByGroup(database?.name, ownBackend);
        const backendsBefore = client === undefined ? undefined : await backendCpu(client);
        const run = await measureOpenLoop(target, receiver, rate, seconds);
        const after = cpuByGroup(database?.name, ownBackend);
        const backendsAfter = client === undefined ? undefined : await backendCpu(client);
        // A process that exited meanwhile takes its CPU with it: never below 0.
        const perWebhook = (ms: number, earlier: number | undefined) =>
          Math.max(0, ms - (earlier ?? 0)) / run.accepted;
        const perWebhookMs: Record<string, number> = {};
        let totalMs = 0;
        for (const [group, ms] of after) {
          perWebhookMs[group] = perWebhook(ms, before.get(group));
          totalMs += perWebhookMs[group];
        }
        const postgresByOwnerMs: Record<string, number> = {};
        for (const [pid, { label, ms }] of backendsAfter ?? []) {
          postgresByOwnerMs[label] =
            (postgresByOwnerMs[label] ?? 0) + perWebhook(ms, backendsBefore?.get(pid)?.ms);
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
