// What a wake-up costs on this machine (bench/wakeCostProbes.ts): CPU per request between two
// processes, back to back against spaced out at a fixed rate.
//
//   npx vite-node bench/wakeCost.ts -- [--rate 200] [--count 1000] [--rounds 3]
//
// PostgreSQL is HERALD_TEST_PG or the local server's `test` database (a temp table only).

import { optionValue, scriptArgs } from "./cliArgs.js";
import { defaultPgUrl } from "./e2eLatency.js";
import { measureWakeCost } from "./wakeCostProbes.js";

const args = scriptArgs();
const rate = Number(optionValue(args, "rate") ?? 200);
const count = Number(optionValue(args, "count") ?? 1000);
const rounds = Number(optionValue(args, "rounds") ?? 3);
const positive = (n: number) => Number.isInteger(n) && n >= 1;
if (!positive(rate) || !positive(count) || !positive(rounds)) {
  console.error("usage: npx vite-node bench/wakeCost.ts -- [--rate N] [--count N] [--rounds N]");
  process.exit(2);
}

const result = await measureWakeCost({ rate, count, rounds, pgUrl: defaultPgUrl() });
const us = (n: number) => n.toFixed(0).padStart(6);
console.log(`${count} requests per measurement, spaced at ${rate}/s; µs of CPU per request`);
for (const m of result.measurements) {
  console.log(
    `round ${m.round}  ${m.probe.padEnd(16)} ${m.mode.padEnd(12)} peer ${us(m.peerUs)}  client ${us(m.clientUs)}`,
  );
}
console.log("medians:");
for (const s of result.summaries) {
  console.log(
    `  ${s.probe.padEnd(16)} peer ${us(s.backToBack.peerUs)} → ${us(s.spaced.peerUs)} (×${s.peerRatio.toFixed(2)})  client ${us(s.backToBack.clientUs)} → ${us(s.spaced.clientUs)} (×${s.clientRatio.toFixed(2)})`,
  );
}
