// Before/after figures of e2e-latency for two builds of the CLI:
//   npx vite-node bench/e2eAb.ts -- <binA> <binB> [--rounds N]
// (each bin a `packages/server/dist/cli/bin.js`). Both builds run SQLite (`herald serve`) and
// PostgreSQL with one `herald worker`, side by side; the floor and the four setups are measured
// in rounds at 200/s and 1,000/s, the order rotated each round so no setup always follows the
// same one. Prints one table per build (with the same floor rows) and their p50/p99 side by side.
import { scriptArgs } from "./cliArgs.js";
import {
  type E2eStats,
  runKey,
  runRounds,
  startAll,
  statsOf,
  statsRow,
  warmUp,
} from "./e2eLatency.js";
import { startLatencyReceiver } from "./e2eLatencyReceiver.js";
import { createBenchDatabase, type E2eTarget, floorTarget } from "./e2eLatencySetup.js";
import { formatTable } from "./measure.js";

const args = scriptArgs();
const roundsAt = args.indexOf("--rounds");
const rounds = roundsAt < 0 ? 3 : Number(args[roundsAt + 1]);
const bins = args.filter((arg, i) => !arg.startsWith("--") && (roundsAt < 0 || i !== roundsAt + 1));
if (bins.length !== 2 || !Number.isInteger(rounds) || rounds < 1) {
  console.error("usage: npx vite-node bench/e2eAb.ts -- <binA> <binB> [--rounds N]");
  process.exit(2);
}
const builds = [
  { label: "A", bin: bins[0]! },
  { label: "B", bin: bins[1]! },
];
const steps = [
  { rate: 200, seconds: 3 },
  { rate: 1000, seconds: 2 },
];
const drain = { idleMs: 10_000, capMs: 60_000 };
const cpu = (stats: E2eStats) =>
  stats.cpuUsPerWebhook === null ? "—" : Math.round(stats.cpuUsPerWebhook).toString();

const receiver = await startLatencyReceiver();
const database = await createBenchDatabase(
  process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test",
);
const targets: E2eTarget[] = [floorTarget(receiver)];
try {
  targets.push(
    ...(await startAll(
      // The two builds of one setup side by side in the order, so they run back to back.
      [
        ...builds.map(({ label, bin }) => ({
          name: `${label} sqlite`,
          store: "sqlite" as const,
          bin,
          receiver,
        })),
        ...builds.map(({ label, bin }) => ({
          name: `${label} pg ×1`,
          store: "postgres" as const,
          workers: 1,
          bin,
          receiver,
          database,
        })),
      ],
    )),
  );
  await warmUp(targets, receiver, [{ rate: 500, seconds: 1 }], drain);
  const runs = await runRounds({ targets, receiver, steps, rounds, drain });
  const stats = (name: string, rate: number): E2eStats =>
    statsOf(runs.get(runKey(name, rate)) ?? []);
  for (const { label, bin } of builds) {
    const rows = steps.flatMap(({ rate }) =>
      ["floor", `${label} sqlite`, `${label} pg ×1`].map((name) =>
        statsRow(stats(name, rate), `${rate.toLocaleString("en-US")}/s`),
      ),
    );
    console.log(`\n## ${label}: ${bin}\n\n${formatTable(rows)}`);
  }
  const side = steps.flatMap(({ rate }) =>
    ["sqlite", "pg ×1"].map((setup) => {
      const a = stats(`A ${setup}`, rate);
      const b = stats(`B ${setup}`, rate);
      return {
        rate: `${rate.toLocaleString("en-US")}/s`,
        setup,
        "A p50 ms": a.p50.toFixed(1),
        "B p50 ms": b.p50.toFixed(1),
        "A p99 ms": a.p99.toFixed(1),
        "B p99 ms": b.p99.toFixed(1),
        "B ÷ A p99": a.p99 > 0 ? (b.p99 / a.p99).toFixed(2) : "—",
        "CPU µs/webhook A/B": `${cpu(a)}/${cpu(b)}`,
        "lost A/B": `${a.lost}/${b.lost}`,
      };
    }),
  );
  console.log(
    `\n## A vs B\n\n${formatTable(side)}\n\n${rounds} round(s) of ${steps.map((s) => `${s.rate}/s × ${s.seconds} s`).join(", ")} per setup, interleaved; latency = first receipt − scheduled send (open loop).`,
  );
} finally {
  for (const target of targets) await target.close().catch(() => {});
  await receiver.close();
  await database.drop().catch(() => {});
}
