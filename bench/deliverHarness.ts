// Plumbing of the delivery benchmarks (deliver-sqlite, deliver-pg, soak): a keep-alive
// receiver that answers 200 at once, seeding N pending deliveries through the store API, and
// the BUILT `herald worker` (and the baselines: pg-boss, graphile-worker, the bare undici
// sender) as child processes.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { DEFAULT_RETRY_POLICY, maxAttempts } from "../packages/core/src/core/retryPolicy.js";
import type { DeliveryStore } from "../packages/core/src/store/deliveryPorts.js";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url));
/** The built CLI; `HERALD_BENCH_BIN` points the benchmarks at another build (A/B runs). */
export const heraldBin =
  process.env.HERALD_BENCH_BIN ??
  fileURLToPath(new URL("../packages/server/dist/cli/bin.js", import.meta.url));

/**
 * Extra node flags for the worker child from `HERALD_BENCH_NODE_ARGS` (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the worker of a benchmark run.
 */
export const benchNodeArgs: readonly string[] = (process.env.HERALD_BENCH_NODE_ARGS ?? "")
  .split(" ")
  .filter((arg) => arg !== "");

/** A fixed test secret: every delivery is signed (Standard Webhooks) as in production. */
export const BENCH_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const ENDPOINT_ID = "ep_bench";

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spreadOf(values: readonly number[]): number {
  const mid = median(values);
  return mid === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / mid;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const perSecond = (n: number, unit: string) =>
  `${Math.round(n).toLocaleString("en-US")} ${unit}`;

export interface Receiver {
  readonly url: string;
  /** Requests answered since the last reset. */
  count(): number;
  /** performance.now() of the first request since the last reset, or null. */
  firstAt(): number | null;
  reset(): void;
  /** Resolves once `n` requests were answered since the last reset. */
  waitFor(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** node:http on 127.0.0.1, keep-alive, answers 200 with an empty body at once. */
export async function startReceiver(): Promise<Receiver> {
  let count = 0;
  let first: number | null = null;
  let waiter: { n: number; resolve: () => void } | null = null;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (first === null) first = performance.now();
      count++;
      res.writeHead(200, { "content-length": "0" });
      res.end();
      if (waiter !== null && count >= waiter.n) {
        const { resolve } = waiter;
        waiter = null;
        resolve();
      }
    });
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: () => count,
    firstAt: () => first,
    reset() {
      count = 0;
      first = null;
    },
    waitFor(n, timeoutMs) {
      if (count >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`receiver saw ${count} of ${n} in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The benchmark's one endpoint: http, signed with a fixed secret, to the receiver. */
export async function createBenchEndpoint(store: DeliveryStore, target: string): Promise<void> {
  await store.createEndpoint({
    id: ENDPOINT_ID,
    target,
    eventTypes: ["bench.*"],
    secrets: [{ secret: BENCH_SECRET }],
  });
}

/** Every seeded message's payload (`n` is its index) and its event type. */
export const BENCH_PAYLOAD = {
  kind: "bench",
  note: "a small JSON payload of about a hundred bytes",
  n: 0,
};
export const BENCH_EVENT_TYPE = "bench.event";

/**
 * N pending deliveries (one per message), due now, in transactions of `batch` messages; message
 * i goes to `endpointIds[i % length]` (default the benchmark's one endpoint).
 */
export async function seedDeliveries(
  store: DeliveryStore,
  n: number,
  batch = 1000,
  endpointIds: readonly string[] = [ENDPOINT_ID],
): Promise<void> {
  const attempts = maxAttempts(DEFAULT_RETRY_POLICY);
  for (let done = 0; done < n; done += batch) {
    const size = Math.min(batch, n - done);
    const inputs = Array.from({ length: size }, (_, i) => ({
      message: { type: BENCH_EVENT_TYPE, payload: { ...BENCH_PAYLOAD, n: done + i } },
      deliveries: [
        { endpointId: endpointIds[(done + i) % endpointIds.length]!, maxAttempts: attempts },
      ],
    }));
    await store.createMessages(inputs);
  }
}

export interface WorkerSettings {
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
}

/** herald.yaml for the worker: only the `worker:` keys (and the SSRF allowance via env). */
export function writeWorkerConfig(path: string, settings: WorkerSettings): void {
  writeFileSync(
    path,
    `worker:\n  concurrency: ${settings.concurrency}\n  lease_ms: ${settings.leaseMs}\n  poll_interval_ms: ${settings.pollIntervalMs}\n`,
  );
}

export interface ChildWorker {
  readonly child: ChildProcess;
  readonly pid: number;
  stderr(): string;
  stdout(): string;
  /** Resolves with the next stdout line matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (graceful), then the exit code; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

function spawnChild(
  args: readonly string[],
  env: Record<string, string>,
  ready: RegExp,
  extraNodeArgs: readonly string[] = [],
  stdin: "ignore" | "pipe" = "ignore",
): Promise<ChildWorker> {
  const child = spawn(process.execPath, [...extraNodeArgs, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: [stdin, "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const lineWaiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const line of chunk.split("\n")) {
      for (let i = lineWaiters.length - 1; i >= 0; i--) {
        const w = lineWaiters[i]!;
        if (w.pattern.test(line)) {
          lineWaiters.splice(i, 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const worker: ChildWorker = {
    child,
    pid: child.pid!,
    stderr: () => err,
    stdout: () => out,
    line(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} from child`)), timeoutMs);
        lineWaiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child ${args.join(" ")} did not start:\n${err}\n${out}`));
    }, 30_000);
    const check = () => {
      if (ready.test(err) || ready.test(out)) {
        clearTimeout(timer);
        child.stderr!.off("data", check);
        child.stdout!.off("data", check);
        resolve(worker);
      }
    };
    child.stderr!.on("data", check);
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code} before it was ready:\n${err}\n${out}`));
    });
  });
}

/** The built `herald worker` (packages/server/dist/cli/bin.js), allowed to reach 127.0.0.0/8, logging at warn. */
export function startHeraldWorker(
  args: readonly string[],
  options: { env?: Record<string, string>; nodeArgs?: readonly string[]; bin?: string } = {},
): Promise<ChildWorker> {
  return spawnChild(
    [options.bin ?? heraldBin, "worker", ...args],
    { HERALD_SSRF_ALLOW: "127.0.0.0/8", HERALD_LOG_LEVEL: "warn", ...options.env },
    /Herald worker running/,
    [...benchNodeArgs, ...(options.nodeArgs ?? [])],
  );
}

export const pgBossWorkerScript = fileURLToPath(
  new URL("./workers/pgBossWorker.mjs", import.meta.url),
);

/** The pg-boss no-op worker (bench/workers/pgBossWorker.mjs): ready once `work()` is called. */
export function startPgBossWorker(env: Record<string, string>): Promise<ChildWorker> {
  return spawnChild([pgBossWorkerScript], env, /^ready/m);
}

export const graphileWorkerScript = fileURLToPath(
  new URL("./workers/graphileWorker.mjs", import.meta.url),
);

/** The graphile-worker no-op worker (bench/workers/graphileWorker.mjs): ready once it runs. */
export function startGraphileWorker(env: Record<string, string>): Promise<ChildWorker> {
  return spawnChild([graphileWorkerScript], env, /^ready/m);
}

export const bareSenderScript = fileURLToPath(new URL("./workers/bareSender.mjs", import.meta.url));

/** The bare undici sender (bench/workers/bareSender.mjs), driven by `run <n>` lines on stdin. */
export function startBareSender(env: Record<string, string>): Promise<ChildWorker> {
  return spawnChild([bareSenderScript], env, /^ready/m, [], "pipe");
}

/** VmRSS of a process in bytes (Linux), or null when it is gone. */
export function rssOf(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process has used so far (Linux), or null when it is gone. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the line (11 and 12 after the state field).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * CPU seconds the live threads of a process have run so far, from each thread's
 * `/proc/<pid>/task/<tid>/schedstat` (nanoseconds, where `/proc/<pid>/stat` counts 10 ms ticks:
 * a fanout run of 100 deliveries takes about one tick). Threads that ended are not counted, so a
 * delta between two readings is only meaningful for a process whose threads live on (Node's do).
 * Null when the process is gone.
 */
export function threadCpuSecondsOf(pid: number): number | null {
  try {
    let nanos = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        nanos += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return nanos / 1e9;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
