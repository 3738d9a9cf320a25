// Where the CPU of one webhook goes, by process, at a fixed open-loop rate
// (bench/e2eCpuByProcess.ts). Builds can be compared by running it once per build, alternately:
//
//   npx vite-node bench/e2eCpu.ts -- [--store postgres|sqlite] [--rate 200] [--seconds 10]
//     [--workers N] [--runs N] [--database-setting name=value]… [--bin <cli>]
//
// The figures of docs/benchmarks.md#round-seven-ingestion-without-the-version-read--before--after-and-the-cpu-budget
// and of round nine come from it.

import { optionValue, scriptArgs } from "./cliArgs.js";
import { measureCpuByProcess } from "./e2eCpuByProcess.js";
import type { E2eStore } from "./e2eLatencySetup.js";

const args = scriptArgs();
const option = (name: string) => optionValue(args, name);
const store = (option("store") ?? "postgres") as E2eStore;
const rate = Number(option("rate") ?? 200);
const seconds = Number(option("seconds") ?? 10);
const workers = Number(option("workers") ?? 1);
const runs = Number(option("runs") ?? 1);
const databaseSettings = args.flatMap((arg, i) =>
  arg === "--database-setting" && args[i + 1] !== undefined ? [args[i + 1]!] : [],
);
const bin = option("bin");
const positive = (n: number) => Number.isInteger(n) && n >= 1;
if (
  (store !== "postgres" && store !== "sqlite") ||
  !positive(rate) ||
  !positive(workers) ||
  !positive(runs) ||
  !(seconds > 0)
) {
  console.error(
    "usage: npx vite-node bench/e2eCpu.ts -- [--store postgres|sqlite] [--rate N] [--seconds S] [--workers N] [--runs N] [--database-setting name=value]… [--bin <cli>]",
  );
  process.exit(2);
}

const result = await measureCpuByProcess({
  store,
  rate,
  seconds,
  workers,
  runs,
  databaseSettings,
  ...(bin === undefined ? {} : { bin }),
});
const settings = databaseSettings.length === 0 ? "" : `, database ${databaseSettings.join(" ")}`;
console.log(
  `${store}${store === "postgres" ? ` ×${workers}` : ""} at ${rate}/s for ${seconds} s${settings}${bin === undefined ? "" : ` (${bin})`}`,
);
result.runs.forEach((run, i) => {
  console.log(
    `run ${i + 1}: ${run.accepted} accepted, ${run.lost} lost, p50 ${run.p50Ms.toFixed(1)} ms, p99 ${run.p99Ms.toFixed(1)} ms`,
  );
  for (const [group, ms] of Object.entries(run.perWebhookMs)) {
    console.log(`  ${group.padEnd(24)} ${ms.toFixed(3)} ms CPU per webhook`);
  }
  for (const [owner, ms] of Object.entries(run.postgresByOwnerMs)) {
    console.log(`    ${`for ${owner}`.padEnd(22)} ${ms.toFixed(3)} ms`);
  }
  console.log(`  ${"total".padEnd(24)} ${run.totalMs.toFixed(3)} ms CPU per webhook`);
});
