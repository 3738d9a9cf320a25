// Where the CPU of one webhook goes, by process, at a fixed open-loop rate: Herald's `serve`, its
// `worker` (PostgreSQL: serve --no-worker + one herald worker), the PostgreSQL backends of the
// bench's database, and this process (load generator and receiver), from /proc before and after.
// Builds can be compared by running it once per build, alternately:
//
//   npx vite-node bench/e2eCpu.ts -- [--store postgres|sqlite] [--rate 200] [--seconds 10] [--bin <cli>]
//
// The figures of docs/benchmarks.md#round-seven-ingestion-without-the-version-read come from it.
import { readdirSync, readFileSync } from "node:fs";
import { sleep } from "./deliverHarness.js";
import { measureOpenLoop, warmUp } from "./e2eLatency.js";
import { startLatencyReceiver } from "./e2eLatencyReceiver.js";
import { createBenchDatabase, type E2eStore, startHeraldTarget } from "./e2eLatencySetup.js";
import { processCpuMs } from "./http/children.js";

const args = process.argv.slice(2).filter((arg) => arg !== "--");
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? undefined : args[at + 1];
};
const store = (option("store") ?? "postgres") as E2eStore;
const rate = Number(option("rate") ?? 200);
const seconds = Number(option("seconds") ?? 10);
const bin = option("bin");
if (
  (store !== "postgres" && store !== "sqlite") ||
  !Number.isInteger(rate) ||
  rate < 1 ||
  !(seconds > 0)
) {
  console.error(
    "usage: npx vite-node bench/e2eCpu.ts -- [--store postgres|sqlite] [--rate N] [--seconds S] [--bin <cli>]",
  );
  process.exit(2);
}

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
    if (Number(pid) === process.pid) group = "bench (load + receiver)";
    else if (command.includes("cli/bin.js"))
      group = command.includes(" worker ") ? "worker" : "serve";
    else if (databaseName !== undefined && command.includes(databaseName)) group = "postgres";
    if (group === undefined) continue;
    groups.set(group, (groups.get(group) ?? 0) + (processCpuMs(Number(pid)) ?? 0));
  }
  return groups;
}

const receiver = await startLatencyReceiver();
const database =
  store === "postgres"
    ? await createBenchDatabase(
        process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test",
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
    console.log(
      `${store} at ${rate}/s for ${seconds} s${bin === undefined ? "" : ` (${bin})`}: ${run.accepted} accepted, ${run.lost} lost`,
    );
    let total = 0;
    for (const [group, ms] of after) {
      // A backend that exited meanwhile takes its CPU with it: never below 0.
      const perWebhook = Math.max(0, ms - (before.get(group) ?? 0)) / run.accepted;
      total += perWebhook;
      console.log(`  ${group.padEnd(24)} ${perWebhook.toFixed(3)} ms CPU per webhook`);
    }
    console.log(`  ${"total".padEnd(24)} ${total.toFixed(3)} ms CPU per webhook`);
  } finally {
    await target.close();
  }
} finally {
  await receiver.close();
  await database?.drop();
}
