// `npx vite-node bench/profileSummary.ts <file.cpuprofile>… [--top N]`: prints the largest
// items of each CPU profile (bench/profile.ts), e.g. the ones `HERALD_BENCH_CPU_PROF=<dir> npm
// run bench -- ingest-sqlite` writes for Herald's process.

import { readFileSync } from "node:fs";
import { scriptArgs } from "./cliArgs.js";
import { type CpuProfile, type ProfileSummary, summarizeProfile } from "./profile.js";

function print(file: string, summary: ProfileSummary): void {
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)} %`;
  console.log(`\n${file}`);
  console.log(
    `sampled ${summary.totalS.toFixed(2)} s: busy ${summary.busyS.toFixed(2)} s, idle ${summary.idleS.toFixed(2)} s`,
  );
  console.log("self (share of busy time):");
  for (const { name, share } of summary.self) console.log(`  ${pct(share)}  ${name}`);
  console.log("inclusive:");
  for (const { name, share } of summary.inclusive) console.log(`  ${pct(share)}  ${name}`);
}

const args = scriptArgs();
const at = args.indexOf("--top");
const top = at === -1 ? 30 : Number(args.splice(at, 2)[1]);
if (args.length === 0 || !Number.isInteger(top) || top < 1) {
  console.error("usage: npx vite-node bench/profileSummary.ts <file.cpuprofile>… [--top N]");
  process.exit(2);
}
for (const file of args) {
  print(file, summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, top));
}
