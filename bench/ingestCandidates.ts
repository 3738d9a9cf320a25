// The ingest benchmark's candidates as upper bounds, without building them: Herald as
// configured, storing the message only (no delivery at ingestion), and with the six secondary
// indexes of `deliveries` dropped (bench/ingest.ts, IngestVariant). Each variant is a whole
// ingest run with its own same-run bare route, so the ratios are comparable across variants:
//
//   npx vite-node bench/ingestCandidates.ts -- [--dialect sqlite|postgres] [--rounds N] [--quick]
//
// The figures of docs/benchmarks.md#round-eight-the-issues-candidates-measured come from it.

import { optionValue, scriptArgs } from "./cliArgs.js";
import { type IngestDialect, type IngestVariant, runIngestBench } from "./ingest.js";
import { formatTable } from "./measure.js";

const VARIANTS: readonly IngestVariant[] = ["as-configured", "message-only", "fewer-indexes"];

const args = scriptArgs();
const option = (name: string) => optionValue(args, name);
const dialect = (option("dialect") ?? "sqlite") as IngestDialect;
const rounds = Number(option("rounds") ?? 1);
const quick = args.includes("--quick");
if ((dialect !== "sqlite" && dialect !== "postgres") || !Number.isInteger(rounds) || rounds < 1) {
  console.error(
    "usage: npx vite-node bench/ingestCandidates.ts -- [--dialect sqlite|postgres] [--rounds N] [--quick]",
  );
  process.exit(2);
}

const us = (n: number | null) => (n === null ? "—" : Math.round(n).toString());
const rows: Record<string, string>[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const variant of VARIANTS) {
    const { result } = await runIngestBench({
      dialect,
      variant,
      ...(quick ? { runs: 2, durationS: 1, warmupS: 1 } : {}),
    });
    const cpu = result.cpuUsPerRequest;
    rows.push({
      round: String(round),
      variant,
      "herald req/s": Math.round(result.herald.median).toLocaleString("en-US"),
      "bare req/s": Math.round(result.bare.median).toLocaleString("en-US"),
      ratio: result.ratio.toFixed(2),
      "p99 ms": result.herald.p99Median.toFixed(1),
      "herald µs/req (main thread)": `${us(cpu.herald)} (${us(cpu.heraldMainThread)})`,
      "PG backends µs/req": us(cpu.pgBackends),
      "load gen. µs/req": us(cpu.loadGenerator),
      "CPU-bound ceiling": result.cpuBoundRatio === null ? "—" : result.cpuBoundRatio.toFixed(2),
      "deliveries stored": result.stored.deliveries.toLocaleString("en-US"),
      "delivery indexes": String(result.stored.deliveryIndexes.length),
    });
    console.error(`${dialect} ${variant} (round ${round}): ratio ${result.ratio.toFixed(2)}`);
  }
}
console.log(formatTable(rows));
