// Where the CPU of one webhook goes, by process, at a fixed open-loop rate
// (bench/e2eCpuByProcess.ts). Builds can be compared by running it once per build, alternately:
//
//   npx vite-node bench/e2eCpu.ts -- [--store postgres|sqlite] [--rate 200] [--seconds 10] [--bin <cli>]
//
// The figures of docs/benchmarks.md#round-seven-ingestion-without-the-version-read--before--after-and-the-cpu-budget
// come from it.

import { optionValue, scriptArgs } from "./cliArgs.js";
import { measureCpuByProcess } from "./e2eCpuByProcess.js";
import type { E2eStore } from "./e2eLatencySetup.js";

const args = scriptArgs();
const option = (name: string) => optionValue(args, name);
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

const result = await measureCpuByProcess({
  store,
  rate,
  seconds,
  ...(bin === undefined ? {} : { bin }),
});
console.log(
  `${store} at ${rate}/s for ${seconds} s${bin === undefined ? "" : ` (${bin})`}: ${result.accepted} accepted, ${result.lost} lost`,
);
for (const [group, ms] of Object.entries(result.perWebhookMs)) {
  console.log(`  ${group.padEnd(24)} ${ms.toFixed(3)} ms CPU per webhook`);
}
console.log(`  ${"total".padEnd(24)} ${result.totalMs.toFixed(3)} ms CPU per webhook`);
