// What every benchmark module gives `npm run bench`. A module `bench/<topic>.bench.ts` exports
// `benches`, one entry per benchmark name (`ingest-sqlite`, `ingest-pg`, …).

/** One line of the summary table in docs/benchmarks.md. */
export interface SummaryRow {
  benchmark: string;
  /** Herald's figure, with its unit (`12,345 req/s`, `p99 8.1 ms`). */
  herald: string;
  /** The baseline's figure from the same run, or `—` for absolute targets. */
  baseline: string;
  /** Herald ÷ baseline (2 decimals), or `—`. */
  ratio: string;
  target: string;
  met: "yes" | "no" | "—";
}

export interface BenchOutput {
  /** Everything measured; written to bench/results/<name>.json with the summary. */
  result: unknown;
  /** Markdown table printed after the run. */
  table: string;
  summary: SummaryRow[];
}

export interface BenchOptions {
  /** A tiny size: the smoke tests and `npm run bench -- --quick`. */
  quick: boolean;
}

export type BenchFn = (options: BenchOptions) => Promise<BenchOutput>;

export type BenchModule = { benches: Record<string, BenchFn> };
