// The fanout benchmark's runs on one backend (fanoutBackends.ts). One tenant per size N holds N
// endpoints, every one subscribed to `bench.fanout` (and to a type of its own, `bench.only.<i>`,
// so the largest tenant also holds 10,000 endpoints of which one matches that type).
//  1. Stored: one dispatch (routing, then the message and its N deliveries in one transaction)
//     of `bench.fanout` to each tenant, round after round across the sizes, no worker running.
//  2. Routing: what a dispatch does before its write, on the largest tenant — the cached
//     router (read the store's endpoint version, look the type up) against listing and
//     compiling every enabled endpoint per message, as dispatching did before; interleaved.
//  3. Delivered: one built `herald worker` started once; each run dispatches one message to N
//     endpoints and is timed until the store holds all N as delivered (the worker's last
//     write), and also until the receiver has answered all N.
import { createDispatcher } from "../packages/core/src/delivery/dispatcher.js";
import { createEndpointRoutes } from "../packages/core/src/model/endpointRoutes.js";
import { createEndpointRouter, enabledEndpoints } from "../packages/core/src/model/routing.js";
import { WORKER_SETTINGS } from "./deliver.bench.js";
import {
  BENCH_SECRET,
  median,
  type Receiver,
  sleep,
  spreadOf,
  startHeraldWorker,
  threadCpuSecondsOf,
  writeWorkerConfig,
} from "./deliverHarness.js";
import type { FanoutBackend } from "./fanoutBackends.js";

export interface FanoutSizes {
  /** Endpoints per message, smallest first; the last is the routing tenant's size. */
  fanouts: number[];
  /** Timed rounds of the stored phase (each dispatches `messages(n)` per size). */
  storeRounds: number;
  /** Messages per size per round of the stored phase. */
  messages: (n: number) => number;
  /** Interleaved rounds of the routing phase, and messages per contender per round. */
  routingRounds: number;
  routedPerRound: { cached: number; listed: number };
  /** Timed runs of the delivered phase for a size. */
  deliverRuns: (n: number) => number;
}

export function fanoutSizes(quick: boolean): FanoutSizes {
  return quick
    ? {
        fanouts: [1, 10, 100],
        storeRounds: 1,
        messages: () => 3,
        routingRounds: 2,
        routedPerRound: { cached: 50, listed: 2 },
        deliverRuns: () => 1,
      }
    : {
        fanouts: [1, 100, 1000, 10_000],
        storeRounds: 3,
        messages: (n) => Math.max(1, Math.min(40, Math.round(1000 / n))),
        routingRounds: 5,
        routedPerRound: { cached: 500, listed: 1 },
        // The small sizes are mostly the wait for the worker's claim: more runs, less noise.
        deliverRuns: (n) => (n < 10_000 ? 5 : 1),
      };
}

export const tenantOf = (n: number) => `fanout_${n}`;
const FANOUT_TYPE = "bench.fanout";
/** The type only the largest tenant's first endpoint takes. */
const ONE_MATCH_TYPE = "bench.only.0";
const PAYLOAD = { kind: "bench", note: "a small JSON payload of about a hundred bytes", n: 0 };
/**
 * N endpoints to the receiver in the size's tenant, signed like production ones: the first
 * (`bench.only.0`) through the store, the others copies of it (FanoutBackend.copyEndpoint).
 */
export async function seedEndpoints(backend: FanoutBackend, n: number, target: string) {
  const id = `ep_${n}`;
  await backend.store.createEndpoint({
    id,
    tenant: tenantOf(n),
    target,
    eventTypes: [FANOUT_TYPE, ONE_MATCH_TYPE],
    secrets: [{ secret: BENCH_SECRET }],
  });
  if (n > 1) await backend.copyEndpoint(id, n - 1);
}

export interface SizeFigure {
  endpoints: number;
  /** Median per message, ms. */
  msPerMessage: number;
  /** msPerMessage over the endpoints, µs. */
  usPerEndpoint: number;
  spread: number;
  samples: number;
}

function figure(endpoints: number, msSamples: number[]): SizeFigure {
  const ms = median(msSamples);
  return {
    endpoints,
    msPerMessage: ms,
    usPerEndpoint: (ms * 1000) / endpoints,
    spread: spreadOf(msSamples),
    samples: msSamples.length,
  };
}

export interface StoredPhase {
  bySize: SizeFigure[];
  /** The largest tenant, a type one of its endpoints takes: one delivery. */
  oneOfLargest: SizeFigure;
}

export async function storedPhase(
  backend: FanoutBackend,
  sizes: FanoutSizes,
): Promise<StoredPhase> {
  const dispatcher = createDispatcher({ store: backend.store });
  const largest = sizes.fanouts[sizes.fanouts.length - 1]!;
  const dispatch = async (n: number, type: string, expected: number) => {
    const started = performance.now();
    const result = await dispatcher.dispatch({ type, tenant: tenantOf(n), payload: PAYLOAD });
    const ms = performance.now() - started;
    if (result.deliveries !== expected) {
      throw new Error(
        `${type} to ${tenantOf(n)}: ${result.deliveries} deliveries, not ${expected}`,
      );
    }
    return ms;
  };
  // Warm-up: the code paths, each tenant's cached router.
  for (const n of sizes.fanouts) await dispatch(n, FANOUT_TYPE, n);
  const samples = new Map<number, number[]>(sizes.fanouts.map((n) => [n, []]));
  const one: number[] = [];
  for (let round = 0; round < sizes.storeRounds; round++) {
    for (const n of sizes.fanouts) {
      for (let m = 0; m < sizes.messages(n); m++) {
        samples.get(n)!.push(await dispatch(n, FANOUT_TYPE, n));
      }
    }
    for (let m = 0; m < sizes.messages(1); m++)
      one.push(await dispatch(largest, ONE_MATCH_TYPE, 1));
  }
  await backend.clearMessages();
  return {
    bySize: sizes.fanouts.map((n) => figure(n, samples.get(n)!)),
    oneOfLargest: figure(1, one),
  };
}

export interface RoutingContender {
  name: string;
  /** Median over the rounds of the mean per message, µs. */
  usPerMessage: number;
  spread: number;
  perRound: number[];
}

export interface RoutingPhase {
  endpoints: number;
  oneMatch: { cached: RoutingContender; listed: RoutingContender };
  allMatch: { cached: RoutingContender };
  /** A trivial query: the cached router reads one row per message, so this is its floor. */
  floor: RoutingContender;
}

export async function routingPhase(
  backend: FanoutBackend,
  sizes: FanoutSizes,
): Promise<RoutingPhase> {
  const { store } = backend;
  const endpoints = sizes.fanouts[sizes.fanouts.length - 1]!;
  const tenant = tenantOf(endpoints);
  const subject = { payload: PAYLOAD, headers: {} };
  const routes = createEndpointRoutes(store);
  // Each resolves to the deliveries its route found (the floor: the one row it read).
  const contenders = {
    cachedOne: async () =>
      (await routes.router(tenant)).route(ONE_MATCH_TYPE, subject).deliver.length,
    cachedAll: async () => (await routes.router(tenant)).route(FANOUT_TYPE, subject).deliver.length,
    floor: async () => {
      await backend.roundTrip();
      return 1;
    },
    listedOne: async () =>
      createEndpointRouter(await enabledEndpoints(store, tenant)).route(ONE_MATCH_TYPE, subject)
        .deliver.length,
  };
  type Name = keyof typeof contenders;
  const expected: Record<Name, number> = {
    cachedOne: 1,
    cachedAll: endpoints,
    floor: 1,
    listedOne: 1,
  };
  const perRound: Record<Name, number[]> = {
    cachedOne: [],
    cachedAll: [],
    floor: [],
    listedOne: [],
  };
  const time = async (name: Name, count: number) => {
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      if ((await contenders[name]()) !== expected[name]) throw new Error(`${name}: wrong route`);
    }
    return ((performance.now() - started) * 1000) / count;
  };
  await time("cachedOne", 10);
  await time("listedOne", 1);
  for (let round = 0; round < sizes.routingRounds; round++) {
    perRound.cachedOne.push(await time("cachedOne", sizes.routedPerRound.cached));
    perRound.listedOne.push(await time("listedOne", sizes.routedPerRound.listed));
    perRound.cachedAll.push(await time("cachedAll", sizes.routedPerRound.cached));
    perRound.floor.push(await time("floor", sizes.routedPerRound.cached));
  }
  const contender = (name: string, values: number[]): RoutingContender => ({
    name,
    usPerMessage: median(values),
    spread: spreadOf(values),
    perRound: values,
  });
  return {
    endpoints,
    oneMatch: {
      cached: contender("cached index (version read + lookup)", perRound.cachedOne),
      listed: contender("list every endpoint per message (before)", perRound.listedOne),
    },
    allMatch: { cached: contender("cached index, every endpoint matches", perRound.cachedAll) },
    floor: contender("floor: one SELECT 1 on the store's connection", perRound.floor),
  };
}

/**
 * Timed until the store holds every delivery as delivered: the whole of the work, the outcome
 * writes included. `answered` is the same runs timed until the receiver had answered all N,
 * which leaves out the outcome writes of the sends still in flight then — at 100 endpoints
 * (one wave of the worker's slots) nearly all of them, at 10,000 only the last wave's.
 */
export interface DeliveredFigure extends SizeFigure {
  answered: SizeFigure;
  /** Worker CPU (user + system) per delivery, ms. */
  workerCpuMsPerDelivery: number;
}

export interface DeliveredPhase {
  bySize: DeliveredFigure[];
  workerExitCode: number | null;
}

/**
 * Waits until every delivery of the message is stored as delivered (the worker's last write),
 * reading every millisecond: it is called once the receiver has answered all of them, when only
 * the outcome writes of the last sends are left.
 */
async function allDelivered(backend: FanoutBackend, messageId: string, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (await backend.anyUndelivered(messageId)) {
    if (performance.now() > deadline) {
      throw new Error(`fanout: message ${messageId} not all delivered after ${timeoutMs} ms`);
    }
    await sleep(1);
  }
}

export async function deliveredPhase(
  backend: FanoutBackend,
  sizes: FanoutSizes,
  receiver: Receiver,
  configPath: string,
): Promise<DeliveredPhase> {
  writeWorkerConfig(configPath, WORKER_SETTINGS);
  const dispatcher = createDispatcher({ store: backend.store });
  const worker = await startHeraldWorker([...backend.workerArgs, "--config", configPath]);
  let exitCode: number | null = null;
  try {
    const run = async (n: number) => {
      receiver.reset();
      const cpuBefore = threadCpuSecondsOf(worker.pid) ?? 0;
      const started = performance.now();
      const { messageId } = await dispatcher.dispatch({
        type: FANOUT_TYPE,
        tenant: tenantOf(n),
        payload: PAYLOAD,
      });
      const timeoutMs = Math.max(60_000, n * 10);
      await receiver.waitFor(n, timeoutMs);
      const answeredMs = performance.now() - started;
      await allDelivered(backend, messageId, timeoutMs);
      const ms = performance.now() - started;
      const cpu = Math.max(0, (threadCpuSecondsOf(worker.pid) ?? cpuBefore) - cpuBefore);
      return { ms, answeredMs, cpuMs: (cpu * 1000) / n };
    };
    // Warm-up: every size but the largest (whose run alone takes most of the phase).
    for (const n of sizes.fanouts.slice(0, -1)) await run(n);
    const samples = new Map<number, { ms: number; answeredMs: number; cpuMs: number }[]>(
      sizes.fanouts.map((n) => [n, []]),
    );
    const rounds = Math.max(...sizes.fanouts.map(sizes.deliverRuns));
    for (let i = 0; i < rounds; i++) {
      for (const n of sizes.fanouts) {
        if (i < sizes.deliverRuns(n)) samples.get(n)!.push(await run(n));
      }
    }
    const bySize = sizes.fanouts.map((n) => {
      const runs = samples.get(n)!;
      return {
        ...figure(
          n,
          runs.map((r) => r.ms),
        ),
        answered: figure(
          n,
          runs.map((r) => r.answeredMs),
        ),
        workerCpuMsPerDelivery: median(runs.map((r) => r.cpuMs)),
      };
    });
    exitCode = await worker.stop();
    return { bySize, workerExitCode: exitCode };
  } finally {
    if (exitCode === null) await worker.stop();
    await backend.clearMessages();
  }
}
