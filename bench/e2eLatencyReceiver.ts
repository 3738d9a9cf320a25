// The receiving end of e2e-latency: one node:http server in the load generator's own process, so
// a receipt time and a scheduled send time come from the same monotonic clock
// (performance.now()). Every request, from Herald's worker or straight from the generator (the
// floor), carries a webhook whose JSON names `msg_<run>_<index>`; the receiver records the
// first receipt of each index of the run and counts the copies after it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RunReceipts {
  /** performance.now() of the first receipt of each index; NaN until it arrives. */
  readonly firstAt: Float64Array;
  /** Distinct indexes received. */
  received(): number;
  /** Receipts of an index already received (at-least-once copies). */
  duplicates(): number;
  /** performance.now() of the latest receipt (duplicates included), or null. */
  lastAt(): number | null;
}

export interface LatencyReceiver {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Starts recording the `n` webhooks of run `prefix` (`[A-Za-z0-9]+`). */
  track(prefix: string, n: number): RunReceipts;
  /** Requests naming no tracked run (late copies of an earlier run, foreign bodies). */
  stray(): number;
  close(): Promise<void>;
}

const ID = /"id":"msg_([A-Za-z0-9]+)_(\d+)"/;

interface Tracked extends RunReceipts {
  record(index: number, at: number): void;
}

function tracked(n: number): Tracked {
  const firstAt = new Float64Array(n).fill(Number.NaN);
  let received = 0;
  let duplicates = 0;
  let last: number | null = null;
  return {
    firstAt,
    received: () => received,
    duplicates: () => duplicates,
    lastAt: () => last,
    record(index, at) {
      last = at;
      if (Number.isNaN(firstAt[index]!)) {
        firstAt[index] = at;
        received++;
      } else {
        duplicates++;
      }
    },
  };
}

/** node:http on 127.0.0.1, keep-alive, answering 200 with an empty body once the body is read. */
export async function startLatencyReceiver(): Promise<LatencyReceiver> {
  const runs = new Map<string, Tracked>();
  let stray = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const at = performance.now();
      const match = ID.exec(Buffer.concat(chunks).toString("utf8"));
      const run = match === null ? undefined : runs.get(match[1]!);
      const index = match === null ? -1 : Number(match[2]);
      if (run !== undefined && index < run.firstAt.length) run.record(index, at);
      else stray++;
      res.writeHead(200, { "content-length": "0" });
      res.end();
    });
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    track(prefix, n) {
      const run = tracked(n);
      runs.set(prefix, run);
      return run;
    },
    stray: () => stray,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
