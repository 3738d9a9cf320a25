// Shared by the worker crash and two-worker tests: a 127.0.0.1 receiver that counts requests by
// `webhook-id`, worker child processes running fixtures/workerProcess.mjs (built dist/), and a
// full read of the deliveries table.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { DeliveryRecord, DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";

export const workerFixture = fileURLToPath(
  new URL("./fixtures/workerProcess.mjs", import.meta.url),
);
export const builtWorker = fileURLToPath(
  new URL("../../packages/core/dist/delivery/deliveryWorker.js", import.meta.url),
);

export interface CountingReceiver {
  url: string;
  /** Requests per `webhook-id` (the message id). */
  seen: Map<string, number>;
  /** Every request received. */
  total(): number;
  /** Requests received and not yet answered. */
  inFlight(): number;
  close(): Promise<void>;
}

/** Answers 200 after `delayMs()` ms; counts a request when it arrives. */
export async function startCountingReceiver(delayMs: () => number): Promise<CountingReceiver> {
  const seen = new Map<string, number>();
  let total = 0;
  let open = 0;
  const server: Server = createServer((req, res) => {
    const id = String(req.headers["webhook-id"] ?? "");
    seen.set(id, (seen.get(id) ?? 0) + 1);
    total++;
    open++;
    req.resume();
    req.on("end", () => {
      setTimeout(() => {
        open--;
        if (!res.destroyed) res.end("ok");
      }, delayMs());
    });
    // A killed client closes its socket: the request is no longer in flight.
    res.on("close", () => {
      if (!res.writableFinished) open = Math.max(0, open - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    seen,
    total: () => total,
    inFlight: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface WorkerStatus {
  owner: string;
  attempts: number;
  succeeded: number;
  errors: number;
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker has started claiming. */
  ready: Promise<void>;
  /** Resolves with everything the process wrote, when it exits. */
  exited: Promise<string>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful stop), then the status line it prints. */
  stop(): Promise<WorkerStatus>;
}

const running = new Set<ChildProcess>();

/** SIGKILLs every worker process still running (afterAll). */
export function killAllWorkers(): void {
  for (const child of running) child.kill("SIGKILL");
}

export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [workerFixture], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout!.on("data", (chunk) => {
    output += chunk;
    if (output.includes("ready\n")) markReady();
  });
  child.stderr!.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<string>((resolve) => {
    child.once("exit", () => {
      running.delete(child);
      resolve(output);
    });
  });
  const readyOrExit = Promise.race([
    ready,
    exited.then((out) => {
      throw new Error(`worker process exited before it was ready:\n${out}`);
    }),
  ]);
  return {
    child,
    ready: readyOrExit,
    exited,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      child.kill("SIGTERM");
      const out = await exited;
      const line = out
        .trim()
        .split("\n")
        .findLast((l) => l.startsWith("{"));
      if (line === undefined) throw new Error(`worker process printed no status:\n${out}`);
      return JSON.parse(line) as WorkerStatus;
    },
  };
}

/** Every delivery in the store, oldest first. */
export async function allDeliveries(store: DeliveryStore): Promise<DeliveryRecord[]> {
  const all: DeliveryRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listDeliveries({ limit: 1000, order: "oldest", cursor });
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all;
}

/** Polls until `condition` holds; throws after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs, intervalMs = 50, what }: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
