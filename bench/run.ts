// `npm run bench [-- <name> …] [-- --quick]`: runs the named benchmarks (all by default) from
// every bench/*.bench.ts, prints each table, writes bench/results/<name>.json, and rewrites
// the summary table of docs/benchmarks.md from the latest result of every benchmark.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { scriptArgs } from "./cliArgs.js";
import { formatTable, writeResult } from "./measure.js";
import type { BenchFn, BenchModule, SummaryRow } from "./types.js";

const SUMMARY_START = "<!-- bench:summary:start -->";
const SUMMARY_END = "<!-- bench:summary:end -->";

async function loadBenches(): Promise<Map<string, BenchFn>> {
  const benches = new Map<string, BenchFn>();
  const files = readdirSync(new URL(".", import.meta.url)).filter((f) => f.endsWith(".bench.ts"));
  for (const file of files.sort()) {
    const module = (await import(new URL(file, import.meta.url).href)) as BenchModule;
    for (const [name, fn] of Object.entries(module.benches)) benches.set(name, fn);
  }
  return benches;
}

/** The rows of the summary table now in docs/benchmarks.md, in their order. */
function documentedRows(text: string): SummaryRow[] {
  const lines = text
    .slice(text.indexOf(SUMMARY_START), text.indexOf(SUMMARY_END))
    .split("\n")
    .filter((line) => line.startsWith("|"));
  const cells = (line: string) =>
    line
      .slice(1, -1)
      .split("|")
      .map((cell) => cell.trim());
  const [header, , ...body] = lines;
  if (header === undefined) return [];
  const columns = cells(header);
  return body.map(
    (line) =>
      Object.fromEntries(
        cells(line).map((value, i) => [columns[i], value]),
      ) as unknown as SummaryRow,
  );
}

/**
 * The summary rows of every benchmark, in the order given: from its latest result on this
 * machine, else (never run here, e.g. a fresh clone) the rows the docs already show for it.
 */
function latestSummary(order: readonly string[], documented: readonly SummaryRow[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const name of order) {
    try {
      const text = readFileSync(new URL(`./results/${name}.json`, import.meta.url), "utf8");
      const saved = JSON.parse(text) as { summary?: SummaryRow[]; date?: string };
      rows.push(...(saved.summary ?? []));
    } catch {
      rows.push(...documented.filter((row) => row.benchmark.split(" ")[0] === name));
    }
  }
  return rows;
}

function updateDocs(order: readonly string[], command: string, took: string): string {
  const docs = new URL("../docs/benchmarks.md", import.meta.url);
  const text = readFileSync(docs, "utf8");
  const start = text.indexOf(SUMMARY_START);
  const end = text.indexOf(SUMMARY_END);
  if (start < 0 || end < start) return "docs/benchmarks.md has no summary markers; not updated";
  const rows = latestSummary(order, documentedRows(text));
  const table = formatTable(rows.map((row) => ({ ...row })));
  const block = `${SUMMARY_START}\nLatest: ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, \`${command}\`, ${took} (rows of benchmarks not in this run keep their previous figures).\n\n${table}\n${SUMMARY_END}`;
  writeFileSync(docs, text.slice(0, start) + block + text.slice(end + SUMMARY_END.length));
  return "docs/benchmarks.md summary updated";
}

const args = scriptArgs();
const quick = args.includes("--quick");
const names = args.filter((arg) => !arg.startsWith("--"));
const benches = await loadBenches();
const selected = names.length === 0 ? [...benches.keys()] : names;
for (const name of selected) {
  if (!benches.has(name)) {
    console.error(`Unknown benchmark ${name}; known: ${[...benches.keys()].join(", ")}`);
    process.exit(2);
  }
}
const runStarted = performance.now();
const durations: string[] = [];
for (const name of selected) {
  const bench = benches.get(name) as BenchFn;
  const started = performance.now();
  const { result, table, summary } = await bench({ quick });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  durations.push(`${name} ${seconds} s`);
  console.log(`\n## ${name} (${seconds} s)\n\n${table}\n`);
  const saved = { name, date: new Date().toISOString(), quick, summary, result };
  console.log(`results: ${writeResult(name, saved)}`);
}
const minutes = ((performance.now() - runStarted) / 60_000).toFixed(1);
const took = `took ${minutes} min after the build (${durations.join(", ")})`;
console.log(`\n${took}`);
if (!quick) {
  const command = `npm run bench${names.length === 0 ? "" : ` -- ${names.join(" ")}`}`;
  console.log(`\n${updateDocs([...benches.keys()], command, took)}`);
}
