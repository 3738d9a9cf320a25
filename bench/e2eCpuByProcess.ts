// CPU per webhook by process at a fixed open-loop rate (the command line is bench/e2eCpu.ts):
// Herald's `serve`, its `worker` (PostgreSQL: serve --no-worker + one herald worker), the
// PostgreSQL backends of the bench's database, and this process (load generator and receiver),
// read from /proc before and after one run.
import { readdirSync, readFileSync } from "node:fs";
import { sleep } from "./deliverHarness.js";
import { measureOpenLoop, warmUp } from "./e2eLatency.js";
import { startLatencyReceiver } from "./e2eLatencyReceiver.js";
import { createBenchDatabase, type E2eStore, startHeraldTarget } from "./e2eLatencySetup.js";
import { processCpuMs } from "./http/children.js";

export interface CpuByProcessOptions {
  store: E2eStore;
  rate: number;
  seconds: number;
  /** The built CLI (default: this repository's). */
  bin?: string;
  /** PostgreSQL server for the bench's own database (default HERALD_TEST_PG or the local one). */
  pgUrl?: string;
}

export interface CpuByProcess {
  accepted: number;
  lost: number;
  /** ms of CPU per accepted webhook, by group of processes, and their total. */
  perWebhookMs: Record<string, number>;
  totalMs: number;
}

export const BENCH_GROUP = "bench (load + receiver)";

/** CPU ms so far of each group of processes: serve, worker, the bench database's backends, this one. */
function cpuByGroup(databaseName: string | undefined): Map<string, number> {
  const groups = new Map<string, number>();
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    let command: string;
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue; // gone meanwhile
    }
    let group: string | undefined;
    if (Number(pid) === process.pid) group = BENCH_GROUP;
    else if (command.includes("cli/bin.js"))
      group = command.includes(" worker ") ? "worker" : "serve";
    else if (databaseName !== undefined && command.includes(databaseName)) group = "postgres";
    if (group === undefined) continue;
    groups.set(group, (groups.get(group) ?? 0) + (processCpuMs(Number(pid)) ?? 0));
  }
  return groups;
}

/** Starts the setup, warms it up, and measures one open-loop run's CPU by process. */
export async function measureCpuByProcess(options: CpuByProcessOptions): Promise<CpuByProcess> {
  const { store, rate, seconds, bin } = options;
  const receiver = await startLatencyReceiver();
  const database =
    store === "postgres"
      ? await createBenchDatabase(
          options.pgUrl ?? process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test",
        )
      : undefined;
  try {
    const target = await startHeraldTarget({
      name: store,
      store,
      receiver,
      ...(database === undefined ? {} : { database, workers: 1 }),
      ...(bin === undefined ? {} : { bin }),
    });
    try {
      await warmUp([target], receiver, { rate: 500, seconds: 1 }, { idleMs: 5_000, capMs: 20_000 });
      await sleep(1_000);
      const before = cpuByGroup(database?.name);
      const run = await measureOpenLoop(target, receiver, rate, seconds);
      const after = cpuByGroup(database?.name);
      const perWebhookMs: Record<string, number> = {};
      let totalMs = 0;
      for (const [group, ms] of after) {
        // A backend that exited meanwhile takes its CPU with it: never below 0.
        const perWebhook = Math.max(0, ms - (before.get(group) ?? 0)) / run.accepted;
        perWebhookMs[group] = perWebhook;
        totalMs += perWebhook;
      }
      return { accepted: run.accepted, lost: run.lost, perWebhookMs, totalMs };
    } finally {
      await target.close();
    }
  } finally {
    await receiver.close();
    await database?.drop();
  }
}
