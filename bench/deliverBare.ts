// deliver-sqlite's ceiling: the bare undici sender (bench/workers/bareSender.mjs), one child
// process started once and driven run by run, sending the requests Herald's worker sends (same
// payloads, headers and per-request signatures, same receiver, same concurrency) with no
// storage. A run is timed as Herald's is: from the first request the receiver sees until the
// receiver has seen all N and the sender has read every answer.
import { readFileSync } from "node:fs";
import {
  BENCH_EVENT_TYPE,
  BENCH_PAYLOAD,
  BENCH_SECRET,
  type ChildWorker,
  cpuSecondsOf,
  type Receiver,
  repoRoot,
  startBareSender,
} from "./deliverHarness.js";
import type { DeliverRun } from "./deliverSqlite.js";

export interface BareBench {
  readonly worker: ChildWorker;
  /** CPU seconds the process used to start. */
  readonly startCpuSeconds: number;
  /** One run of `n` requests through the running sender. */
  run(n: number): Promise<DeliverRun>;
  /** Stops the sender (SIGTERM, graceful): its exit code. */
  close(): Promise<number | null>;
}

/** Herald's `user-agent` (`Herald/<@heraldjs/core version>`), so the requests are byte for byte alike. */
function heraldUserAgent(): string {
  const manifest = JSON.parse(readFileSync(`${repoRoot}packages/core/package.json`, "utf8")) as {
    version: string;
  };
  return `Herald/${manifest.version}`;
}

export async function setUpBareBench(options: {
  receiver: Receiver;
  /** Requests in flight: Herald's worker concurrency. */
  concurrency: number;
}): Promise<BareBench> {
  const { receiver } = options;
  const worker = await startBareSender({
    BARE_TARGET: receiver.url,
    BARE_SECRET: BENCH_SECRET,
    BARE_CONCURRENCY: String(options.concurrency),
    BARE_PAYLOAD: JSON.stringify(BENCH_PAYLOAD),
    BARE_EVENT_TYPE: BENCH_EVENT_TYPE,
    BARE_USER_AGENT: heraldUserAgent(),
  });
  const stdin = worker.child.stdin;
  if (stdin === null) throw new Error("the bare sender has no stdin");
  return {
    worker,
    startCpuSeconds: cpuSecondsOf(worker.pid) ?? 0,
    async run(n) {
      receiver.reset();
      const cpuBefore = cpuSecondsOf(worker.pid) ?? 0;
      const timeoutMs = Math.max(60_000, n * 2);
      const done = worker.line(/^done \d+/, timeoutMs);
      stdin.write(`run ${n}\n`);
      await receiver.waitFor(n, timeoutMs);
      const ok = Number((await done).slice("done ".length));
      const end = performance.now();
      const cpu = (cpuSecondsOf(worker.pid) ?? cpuBefore) - cpuBefore;
      const first = receiver.firstAt() ?? end;
      return {
        perSecond: n / ((end - first) / 1000),
        seconds: (end - first) / 1000,
        delivered: ok,
        received: receiver.count(),
        cpuMsPerDelivery: (cpu * 1000) / n,
      };
    },
    close: () => worker.stop(),
  };
}
