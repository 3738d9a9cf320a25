// `npm run bench [-- <name> …] [-- --quick]`: runs the named benchmarks (all by default),
// prints each table and writes bench/results/<name>.json.
import { writeResult } from "./measure.js";
import { runVerifyBench } from "./verify.js";

type Bench = (quick: boolean) => Promise<{ result: unknown; table: string }>;

const benches: Record<string, Bench> = {
  verify: (quick) => runVerifyBench(quick ? { iterations: 500, runs: 3 } : {}),
};

const args = process.argv.slice(2).filter((arg) => arg !== "--");
const quick = args.includes("--quick");
const names = args.filter((arg) => !arg.startsWith("--"));
const selected = names.length === 0 ? Object.keys(benches) : names;
for (const name of selected) {
  const bench = benches[name];
  if (bench === undefined) {
    console.error(`Unknown benchmark ${name}; known: ${Object.keys(benches).join(", ")}`);
    process.exit(2);
  }
  const { result, table } = await bench(quick);
  console.log(`\n## ${name}\n\n${table}\n`);
  console.log(`results: ${writeResult(name, result)}`);
}
