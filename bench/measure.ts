// Measurement helpers shared by the benchmarks: warm-up, several timed runs of a fixed number
// of iterations, median and spread. Contenders are run interleaved, run by run, so machine
// noise hits them alike and their ratio is taken from the same run.
import { mkdirSync, writeFileSync } from "node:fs";

export interface Contender {
  name: string;
  fn: () => unknown;
}

export interface ContenderResult {
  name: string;
  /** Operations per second of each timed run. */
  runs: number[];
  median: number;
  /** (max − min) / median over the runs. */
  spread: number;
}

export interface MicroOptions {
  iterations: number;
  runs: number;
  warmupIterations: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

let sink: unknown;

function timeOne(fn: () => unknown, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink = fn();
  const ns = Number(process.hrtime.bigint() - start);
  return iterations / (ns / 1e9);
}

export function measureInterleaved(
  contenders: readonly Contender[],
  options: MicroOptions,
): ContenderResult[] {
  for (const contender of contenders) timeOne(contender.fn, options.warmupIterations);
  const runs = contenders.map(() => [] as number[]);
  for (let run = 0; run < options.runs; run++) {
    contenders.forEach((contender, index) => {
      runs[index]!.push(timeOne(contender.fn, options.iterations));
    });
  }
  if (sink === Symbol.for("never")) console.log(sink);
  return contenders.map((contender, index) => {
    const values = runs[index]!;
    const mid = median(values);
    return {
      name: contender.name,
      runs: values,
      median: mid,
      spread: (Math.max(...values) - Math.min(...values)) / mid,
    };
  });
}

export function formatTable(rows: readonly Record<string, string | number>[]): string {
  const first = rows[0];
  if (first === undefined) return "";
  const columns = Object.keys(first);
  const cell = (value: string | number | undefined) =>
    typeof value === "number"
      ? value.toLocaleString("en-US", { maximumFractionDigits: 2 })
      : (value ?? "");
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column]).length)),
  );
  const line = (values: string[]) =>
    `| ${values.map((value, i) => value.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(columns),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.map((row) => line(columns.map((column) => cell(row[column])))),
  ].join("\n");
}

export function writeResult(name: string, result: unknown): string {
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${name}.json`, dir);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file.pathname;
}
