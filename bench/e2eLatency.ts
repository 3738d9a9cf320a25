// e2e-latency: from a webhook POSTed to Herald to its delivery at an endpoint, measured from
// outside. One open-loop generator (bench/e2eLatencyLoad.ts) and one receiver
// (bench/e2eLatencyReceiver.ts) share this process and its monotonic clock: a webhook's latency
// is its first receipt at the receiver minus its SCHEDULED send time. The floor is the same
// requests from the same generator POSTed straight to the receiver. Setups, rates and the
// saturation method are described in docs/benchmarks.md#e2e-latency.
import { median, percentile, sleep } from "./deliverHarness.js";
import { closedLoop, openLoop, POOL_CONNECTIONS } from "./e2eLatencyLoad.js";
import type { LatencyReceiver, RunReceipts } from "./e2eLatencyReceiver.js";
import { startLatencyReceiver } from "./e2eLatencyReceiver.js";
import {
  createBenchDatabase,
  type E2eStore,
  type E2eTarget,
  floorTarget,
  type HeraldTargetOptions,
  startHeraldTarget,
} from "./e2eLatencySetup.js";
import { signedPool } from "./http/webhooks.js";
import { formatTable } from "./measure.js";

/** One open-loop run of one target at one rate. */
export interface E2eRun {
  target: string;
  rate: number;
  sent: number;
  /** Answered with the target's ok status (202 / 200): each must reach the receiver. */
  accepted: number;
  /** Other answers by status, and socket errors. */
  refused: Record<string, number>;
  errors: number;
  /** Distinct webhooks of the run received. */
  received: number;
  /** Accepted but never received (within the drain wait). */
  lost: number;
  duplicates: number;
  /** Receipt − scheduled send, ms, one per received webhook, in index order. */
  latenciesMs: number[];
  /** The target's answer − scheduled send, ms, per accepted webhook. */
  answerMs: number[];
  /** Sends per second the generator achieved. */
  offeredPerSecond: number;
  /** Distinct receipts per second, from the first scheduled send to the last receipt. */
  deliveredPerSecond: number;
  /** The latest the generator fired a send after its scheduled time, ms. */
  maxFireLagMs: number;
  /**
   * CPU of Herald's processes (serve and workers, all threads; not PostgreSQL's) from the first
   * send until the run's deliveries arrived, per accepted webhook, µs: steadier than latency
   * on a busy machine. Null for the floor.
   */
  cpuUsPerWebhook: number | null;
}

/** A target's runs at one rate, pooled. */
export interface E2eStats {
  target: string;
  rate: number;
  runs: number;
  sent: number;
  accepted: number;
  received: number;
  lost: number;
  duplicates: number;
  refused: Record<string, number>;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  answerP50: number;
  answerP99: number;
  /** Medians over the runs. */
  offeredPerSecond: number;
  deliveredPerSecond: number;
  maxFireLagMs: number;
  cpuUsPerWebhook: number | null;
}

export interface DrainSettings {
  /** Stop waiting once nothing new arrived for this long, ms. */
  idleMs: number;
  /** Never wait longer than this after the last answer, ms. */
  capMs: number;
}

const FULL_DRAIN: DrainSettings = { idleMs: 10_000, capMs: 60_000 };
const QUICK_DRAIN: DrainSettings = { idleMs: 5_000, capMs: 20_000 };

let runNo = 0;
/** A run id for the webhooks' ids (`msg_<run>_<index>`), unique in this process. */
const nextRunId = () => `r${(runNo++).toString(36)}`;

/** Waits until `expected` distinct webhooks arrived, or none arrived for `idleMs`, or `capMs`. */
async function drain(receipts: RunReceipts, expected: number, settings: DrainSettings) {
  const started = performance.now();
  let seen = receipts.received();
  let progressAt = started;
  while (receipts.received() < expected) {
    const now = performance.now();
    if (now - progressAt >= settings.idleMs || now - started >= settings.capMs) return;
    await sleep(10);
    if (receipts.received() !== seen) {
      seen = receipts.received();
      progressAt = performance.now();
    }
  }
}

/** Sends `rate` × `seconds` distinct webhooks open-loop to `target` and waits for their delivery. */
export async function measureOpenLoop(
  target: E2eTarget,
  receiver: LatencyReceiver,
  rate: number,
  seconds: number,
  drainSettings: DrainSettings = FULL_DRAIN,
): Promise<E2eRun> {
  const n = Math.max(1, Math.round(rate * seconds));
  const runId = nextRunId();
  const requests = signedPool(target.secret, n, { prefix: runId });
  const receipts = receiver.track(runId, n);
  const cpuBefore = target.cpuMs();
  const sent = await openLoop({
    pool: target.pool,
    path: target.path,
    requests,
    rate,
    okStatus: target.okStatus,
  });
  await drain(receipts, sent.okCount, drainSettings);
  const cpuAfter = target.cpuMs();
  const scheduled = (i: number) => sent.t0 + i * sent.intervalMs;
  const latenciesMs: number[] = [];
  const answerMs: number[] = [];
  let lost = 0;
  for (let i = 0; i < n; i++) {
    const at = receipts.firstAt[i]!;
    if (!Number.isNaN(at)) latenciesMs.push(at - scheduled(i));
    else if (sent.ok[i] === 1) lost++;
    if (sent.ok[i] === 1) answerMs.push(sent.answeredAt[i]! - scheduled(i));
  }
  const last = receipts.lastAt() ?? sent.t0;
  return {
    target: target.name,
    rate,
    sent: n,
    accepted: sent.okCount,
    refused: sent.other,
    errors: sent.errors,
    received: receipts.received(),
    lost,
    duplicates: receipts.duplicates(),
    latenciesMs,
    answerMs,
    offeredPerSecond: n / ((sent.lastFiredAt - sent.t0 + sent.intervalMs) / 1000),
    deliveredPerSecond: last > sent.t0 ? receipts.received() / ((last - sent.t0) / 1000) : 0,
    maxFireLagMs: sent.maxFireLagMs,
    cpuUsPerWebhook:
      cpuBefore === null || cpuAfter === null || sent.okCount === 0
        ? null
        : ((cpuAfter - cpuBefore) * 1000) / sent.okCount,
  };
}

/** Pools the runs of one target at one rate. */
export function statsOf(runs: readonly E2eRun[]): E2eStats {
  const first = runs[0];
  if (first === undefined) throw new Error("statsOf needs at least one run");
  const latencies = runs.flatMap((run) => run.latenciesMs);
  const answers = runs.flatMap((run) => run.answerMs);
  const sum = (pick: (run: E2eRun) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const refused: Record<string, number> = {};
  for (const run of runs) {
    for (const [status, count] of Object.entries(run.refused)) {
      refused[status] = (refused[status] ?? 0) + count;
    }
  }
  return {
    target: first.target,
    rate: first.rate,
    runs: runs.length,
    sent: sum((run) => run.sent),
    accepted: sum((run) => run.accepted),
    received: sum((run) => run.received),
    lost: sum((run) => run.lost),
    duplicates: sum((run) => run.duplicates),
    refused,
    errors: sum((run) => run.errors),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length === 0 ? 0 : Math.max(...latencies),
    answerP50: percentile(answers, 50),
    answerP99: percentile(answers, 99),
    offeredPerSecond: median(runs.map((run) => run.offeredPerSecond)),
    deliveredPerSecond: median(runs.map((run) => run.deliveredPerSecond)),
    maxFireLagMs: Math.max(...runs.map((run) => run.maxFireLagMs)),
    cpuUsPerWebhook:
      first.cpuUsPerWebhook === null ? null : median(runs.map((run) => run.cpuUsPerWebhook ?? 0)),
  };
}

/** A rate and how long each run at it lasts. */
export interface RateStep {
  rate: number;
  seconds: number;
}

/**
 * `rounds` rounds; in each, every rate step and, per step, every target once, in the order
 * given (rotated by one each round, so no target always follows the same one). Returns the
 * runs by target name and rate.
 */
export async function runRounds(options: {
  targets: readonly E2eTarget[];
  receiver: LatencyReceiver;
  steps: readonly RateStep[];
  rounds: number;
  drain?: DrainSettings;
}): Promise<Map<string, E2eRun[]>> {
  const runs = new Map<string, E2eRun[]>();
  const { targets } = options;
  for (let round = 0; round < options.rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const step of options.steps) {
      for (const target of order) {
        const run = await measureOpenLoop(
          target,
          options.receiver,
          step.rate,
          step.seconds,
          options.drain,
        );
        const key = runKey(target.name, step.rate);
        runs.set(key, [...(runs.get(key) ?? []), run]);
      }
    }
  }
  return runs;
}

export const runKey = (target: string, rate: number) => `${target}@${rate}`;

/**
 * Warms each target (JIT, connections, prepared statements) with unrecorded runs: each step in
 * turn, the targets interleaved within a step as in a round.
 */
export async function warmUp(
  targets: readonly E2eTarget[],
  receiver: LatencyReceiver,
  steps: readonly RateStep[],
  drain: DrainSettings,
): Promise<void> {
  for (const step of steps) {
    for (const target of targets)
      await measureOpenLoop(target, receiver, step.rate, step.seconds, drain);
  }
}

const PROBE_CONNECTIONS = 32;

export interface SaturationProbe {
  /** The lower of the two rates below: what the whole path sustained. */
  rate: number;
  /** Accepted answers per second during the burst. */
  acceptedPerSecond: number;
  /** Distinct deliveries per second from the burst's first receipt to its last. */
  deliveredPerSecond: number;
  sent: number;
  received: number;
  connections: number;
  durationMs: number;
}

/**
 * The saturation rate of a target: a closed-loop burst (each of `connections` senders sends
 * again as soon as answered, for `durationMs`), then the wait for its deliveries. Two rates come
 * out: webhooks accepted per second during the burst, and distinct deliveries per second from the
 * first receipt to the last (deliveries lag the burst and drain after it). The path sustains at
 * most the lower of the two, so that is the rate the open-loop run at saturation uses.
 */
export async function probeSaturation(
  target: E2eTarget,
  receiver: LatencyReceiver,
  durationMs: number,
  drainSettings: DrainSettings,
): Promise<SaturationProbe> {
  const connections = PROBE_CONNECTIONS;
  // More than any setup answers in the time (ingest-sqlite answers ≈ 10,000/s on this class
  // of machine, with 64 connections and no worker beside it).
  const n = Math.ceil((15_000 * durationMs) / 1000);
  const runId = nextRunId();
  const requests = signedPool(target.secret, n, { prefix: runId });
  const receipts = receiver.track(runId, n);
  const burst = await closedLoop({
    pool: target.pool,
    path: target.path,
    requests,
    connections,
    durationMs,
    okStatus: target.okStatus,
  });
  const burstMs = performance.now() - burst.startedAt;
  await drain(receipts, burst.okCount, drainSettings);
  let first = Number.POSITIVE_INFINITY;
  for (const at of receipts.firstAt) if (at < first) first = at;
  const last = receipts.lastAt() ?? first;
  const received = receipts.received();
  const deliveredPerSecond =
    received > 1 && last > first ? (received - 1) / ((last - first) / 1000) : received;
  const acceptedPerSecond = burst.okCount / (burstMs / 1000);
  return {
    rate: Math.min(deliveredPerSecond, acceptedPerSecond),
    deliveredPerSecond,
    acceptedPerSecond,
    sent: burst.sent,
    received,
    connections,
    durationMs,
  };
}

export interface SaturationResult {
  target: string;
  probe: SaturationProbe;
  /** Open loop at the probe's rate (rounded down to 10/s). */
  herald: E2eStats;
  floor: E2eStats;
}

export const TARGETS = {
  /** p99 at 200/s and at 1,000/s, ms. */
  p99Ms: { 200: 20, 1000: 50 } as Record<number, number>,
  /** p50 at 200/s at most this far above the same-run floor's p50, ms. */
  p50OverFloorMs: 5,
};

export interface E2eLatencyResult {
  settings: {
    quick: boolean;
    rounds: number;
    /** Unrecorded, before the rounds. */
    warmup: readonly RateStep[];
    steps: RateStep[];
    probeMs: number;
    saturationSeconds: number;
    bodyBytes: number;
    connections: number;
    node: string;
    bin: string | null;
  };
  /** Per rate: the floor, then each setup. */
  steady: E2eStats[];
  saturation: SaturationResult[];
  /** Requests the receiver could not attribute to a run (late copies, strays). */
  stray: number;
  /** The PostgreSQL database the run created and dropped. */
  database: string;
}

const SETUPS: readonly { name: string; store: E2eStore; workers: number }[] = [
  { name: "sqlite", store: "sqlite", workers: 1 },
  { name: "pg ×1", store: "postgres", workers: 1 },
  { name: "pg ×2", store: "postgres", workers: 2 },
];

const PLANS: Record<
  "full" | "quick",
  {
    rounds: number;
    steps: RateStep[];
    /** Unrecorded steps before the rounds (warmUp); none in the quick plan. */
    warmup: readonly RateStep[];
    probeMs: number;
    saturationSeconds: number;
    drain: DrainSettings;
  }
> = {
  full: {
    rounds: 2,
    steps: [
      { rate: 200, seconds: 4 },
      { rate: 1000, seconds: 2 },
    ],
    // A short burst, then one unrecorded round of the measured steps: at 200/s the processes'
    // JIT goes on compiling for about as long (docs/benchmarks.md, round eleven).
    warmup: [
      { rate: 500, seconds: 1 },
      { rate: 200, seconds: 4 },
      { rate: 1000, seconds: 2 },
    ],
    probeMs: 1500,
    saturationSeconds: 2,
    drain: FULL_DRAIN,
  },
  quick: {
    rounds: 1,
    steps: [
      { rate: 200, seconds: 0.5 },
      { rate: 1000, seconds: 0.5 },
    ],
    // The smoke test checks the shape only: no warm-up.
    warmup: [],
    probeMs: 300,
    saturationSeconds: 0.5,
    drain: QUICK_DRAIN,
  },
};

/** Starts the setups side by side; if one fails, stops the others and throws its error. */
export async function startAll(setups: readonly HeraldTargetOptions[]): Promise<E2eTarget[]> {
  const started = await Promise.allSettled(setups.map((setup) => startHeraldTarget(setup)));
  const targets = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s) => s.status === "rejected");
  if (failed === undefined) return targets;
  await Promise.all(targets.map((target) => target.close().catch(() => {})));
  throw failed.reason;
}

export interface E2eLatencyOptions {
  quick: boolean;
  /** PostgreSQL server: the bench creates and drops its own database there. */
  pgUrl?: string;
  /** The built CLI (default this repository's, or HERALD_BENCH_BIN). */
  bin?: string;
}

export const defaultPgUrl = () =>
  process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

export async function runE2eLatency(
  options: E2eLatencyOptions,
): Promise<{ result: E2eLatencyResult; table: string }> {
  const plan = options.quick ? PLANS.quick : PLANS.full;
  const receiver = await startLatencyReceiver();
  const database = await createBenchDatabase(options.pgUrl ?? defaultPgUrl());
  const targets: E2eTarget[] = [floorTarget(receiver)];
  try {
    targets.push(
      ...(await startAll(
        SETUPS.map((setup) => ({
          ...setup,
          receiver,
          database,
          ...(options.bin === undefined ? {} : { bin: options.bin }),
        })),
      )),
    );
    await warmUp(targets, receiver, plan.warmup, plan.drain);
    const runs = await runRounds({
      targets,
      receiver,
      steps: plan.steps,
      rounds: plan.rounds,
      drain: plan.drain,
    });
    const steady = plan.steps.flatMap((step) =>
      targets.map((target) => statsOf(runs.get(runKey(target.name, step.rate)) ?? [])),
    );
    const [floor, ...heralds] = targets;
    const saturation: SaturationResult[] = [];
    for (const target of heralds) {
      const probe = await probeSaturation(target, receiver, plan.probeMs, plan.drain);
      const rate = Math.max(10, Math.floor(probe.rate / 10) * 10);
      const floorRun = await measureOpenLoop(floor!, receiver, rate, plan.saturationSeconds);
      const run = await measureOpenLoop(target, receiver, rate, plan.saturationSeconds, plan.drain);
      saturation.push({
        target: target.name,
        probe,
        herald: statsOf([run]),
        floor: statsOf([floorRun]),
      });
    }
    const result: E2eLatencyResult = {
      settings: {
        quick: options.quick,
        rounds: plan.rounds,
        warmup: plan.warmup,
        steps: plan.steps,
        probeMs: plan.probeMs,
        saturationSeconds: plan.saturationSeconds,
        bodyBytes: 1024,
        connections: POOL_CONNECTIONS,
        node: process.version,
        bin: options.bin ?? null,
      },
      steady,
      saturation,
      stray: receiver.stray(),
      database: database.name,
    };
    return { result, table: e2eTable(result) };
  } finally {
    for (const target of targets) await target.close().catch(() => {});
    await receiver.close();
    await database.drop().catch(() => {});
  }
}

export interface E2eSetupRunOptions {
  /** The built CLI (default this repository's, or HERALD_BENCH_BIN). */
  bin?: string;
  store: E2eStore;
  /** PostgreSQL: `herald worker` processes (default 1); SQLite: the worker of `herald serve`. */
  workers?: number;
  rate: number;
  seconds: number;
  /** Runs of `seconds` each, floor and Herald interleaved (default 1). */
  rounds?: number;
  pgUrl?: string;
  /** Extra node flags for every Herald process of the setup (`--cpu-prof` …). */
  nodeArgs?: readonly string[];
}

/**
 * One setup of one build at one rate, with the floor interleaved, after the full plan's warm-up:
 * the pieces A/B comparisons of two builds are made of (bench/e2eAb.ts interleaves two builds).
 */
export async function runE2eSetup(
  options: E2eSetupRunOptions,
): Promise<{ herald: E2eStats; floor: E2eStats }> {
  const receiver = await startLatencyReceiver();
  const database =
    options.store === "postgres"
      ? await createBenchDatabase(options.pgUrl ?? defaultPgUrl())
      : undefined;
  const targets: E2eTarget[] = [floorTarget(receiver)];
  try {
    const name = options.store === "sqlite" ? "sqlite" : `pg ×${options.workers ?? 1}`;
    targets.push(
      await startHeraldTarget({
        name,
        store: options.store,
        receiver,
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        ...(database === undefined ? {} : { database }),
        ...(options.bin === undefined ? {} : { bin: options.bin }),
        ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
      }),
    );
    await warmUp(targets, receiver, PLANS.full.warmup, FULL_DRAIN);
    const step = { rate: options.rate, seconds: options.seconds };
    const runs = await runRounds({ targets, receiver, steps: [step], rounds: options.rounds ?? 1 });
    return {
      herald: statsOf(runs.get(runKey(name, step.rate)) ?? []),
      floor: statsOf(runs.get(runKey("floor", step.rate)) ?? []),
    };
  } finally {
    for (const target of targets) await target.close().catch(() => {});
    await receiver.close();
    await database?.drop().catch(() => {});
  }
}

const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const rounded = (n: number) => Math.round(n).toLocaleString("en-US");

export function statsRow(stats: E2eStats, rateLabel: string): Record<string, string | number> {
  const refused = Object.entries(stats.refused).map(([status, count]) => `${count}× ${status}`);
  if (stats.errors > 0) refused.push(`${stats.errors} errors`);
  return {
    rate: rateLabel,
    setup: stats.target,
    sent: stats.sent,
    "not accepted": refused.length === 0 ? "0" : refused.join(", "),
    lost: stats.lost,
    dup: stats.duplicates,
    "p50 ms": ms(stats.p50),
    "p95 ms": ms(stats.p95),
    "p99 ms": ms(stats.p99),
    "max ms": ms(stats.max),
    "answer p99 ms": ms(stats.answerP99),
    "CPU µs/webhook": stats.cpuUsPerWebhook === null ? "—" : Math.round(stats.cpuUsPerWebhook),
    "offered/s": rounded(stats.offeredPerSecond),
    "delivered/s": rounded(stats.deliveredPerSecond),
  };
}

const describeSteps = (list: readonly RateStep[]) =>
  list.map((s) => `${s.rate}/s × ${s.seconds} s`).join(", ");

export function e2eTable(result: E2eLatencyResult): string {
  const rows = result.steady.map((stats) => statsRow(stats, `${rounded(stats.rate)}/s`));
  for (const sat of result.saturation) {
    const label = `saturation ${sat.target} (${rounded(sat.probe.rate)}/s)`;
    rows.push(statsRow(sat.floor, label), statsRow(sat.herald, label));
  }
  const { settings } = result;
  const probes = result.saturation
    .map(
      (sat) =>
        `${sat.target} ${rounded(sat.probe.acceptedPerSecond)}/s accepted, ${rounded(sat.probe.deliveredPerSecond)}/s delivered`,
    )
    .join(", ");
  return formatTable(rows).concat(
    `\n\nLatency: first receipt at the receiver − scheduled send time (open loop). ` +
      `Unrecorded warm-up: ${settings.warmup.length === 0 ? "none" : describeSteps(settings.warmup)} per target, interleaved; ` +
      `${settings.rounds} round(s) of ${describeSteps(settings.steps)} per target, interleaved; ` +
      `saturation probes (${settings.probeMs} ms closed-loop burst, ${PROBE_CONNECTIONS} connections): ${probes}; ` +
      `then ${settings.saturationSeconds} s open loop at that rate (floor first). ` +
      `"answer p99": the POST's answer − scheduled send; "CPU µs/webhook": Herald's processes (not PostgreSQL's), median over the runs. ` +
      `Requests the receiver could not place: ${result.stray}.`,
  );
}
