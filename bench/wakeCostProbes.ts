// What a wake-up costs on this machine: the same small request between two processes, sent
// back to back and spaced out at a fixed rate, with the CPU each side spends per request.
// Back to back, the peer never sleeps between requests; spaced, every request wakes a process
// that went idle, as each hop of a webhook does at e2e-latency's 200/s
// (docs/benchmarks.md#round-thirteen-what-a-wake-up-costs-at-200s). Two probes:
// - `tcp echo`: a child Node process echoing 64 bytes over loopback TCP;
// - `postgres insert`: one 1 KiB row inserted (its own transaction, so a WAL flush) by a
//   PostgreSQL backend.
// The peer's CPU is its threads' time on the CPU (threadCpuSecondsOf: each thread's schedstat,
// in ns), the client's from process.cpuUsage() (which includes, spaced, the timer that paces it).
import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import pg from "pg";
import { median, sleep, threadCpuSecondsOf } from "./deliverHarness.js";

export type WakeProbe = "tcp echo" | "postgres insert";
export type WakeMode = "back to back" | "spaced";

export interface WakeCostOptions {
  /** Requests per measurement. */
  count: number;
  /** Spaced mode's rate, requests per second. */
  rate: number;
  /** Rounds; each measures every probe in both modes, alternated. */
  rounds: number;
  /** PostgreSQL server (its `test` database or any other): the probe needs a temp table only. */
  pgUrl: string;
}

export interface WakeMeasurement {
  probe: WakeProbe;
  mode: WakeMode;
  round: number;
  /** CPU per request, µs: the process that answers it, and this one. */
  peerUs: number;
  clientUs: number;
  /** Wall time per request, µs (spaced: mostly the pause). */
  wallUs: number;
}

export interface WakeCostSummary {
  probe: WakeProbe;
  /** Medians over the rounds, µs per request. */
  backToBack: { peerUs: number; clientUs: number };
  spaced: { peerUs: number; clientUs: number };
  /** Spaced ÷ back to back, of the medians. */
  peerRatio: number;
  clientRatio: number;
}

export interface WakeCostResult {
  rate: number;
  count: number;
  measurements: WakeMeasurement[];
  summaries: WakeCostSummary[];
}

/** CPU seconds of the peer process so far; it must run on this machine (read from /proc). */
function peerCpuSeconds(pid: number): number {
  const seconds = threadCpuSecondsOf(pid);
  if (seconds === null) {
    throw new Error(`cannot read the CPU of process ${pid}: the peer must run on this machine`);
  }
  return seconds;
}

interface Peer {
  pid: number;
  request(): Promise<void>;
  close(): Promise<void>;
}

const ECHO_BYTES = 64;
const ECHO_SERVER = `
const server = require("node:net").createServer((socket) => {
  socket.setNoDelay(true);
  socket.on("data", (chunk) => socket.write(chunk));
});
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

async function startEchoPeer(): Promise<Peer> {
  const child: ChildProcess = spawn(process.execPath, ["-e", ECHO_SERVER], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`echo server exited with ${code}`)));
    child.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  const socket: Socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const message = Buffer.alloc(ECHO_BYTES, 1);
  let waiting: { left: number; resolve: () => void } | null = null;
  socket.on("data", (chunk: Buffer) => {
    if (waiting === null) return;
    waiting.left -= chunk.length;
    if (waiting.left <= 0) {
      const { resolve } = waiting;
      waiting = null;
      resolve();
    }
  });
  return {
    pid: child.pid!,
    request: () =>
      new Promise<void>((resolve) => {
        waiting = { left: ECHO_BYTES, resolve };
        socket.write(message);
      }),
    async close() {
      socket.destroy();
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.stdin!.end();
      await exited;
    },
  };
}

async function startPostgresPeer(pgUrl: string): Promise<Peer> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query("CREATE TEMP TABLE wake_probe (id bigserial PRIMARY KEY, body text)");
  const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const body = "x".repeat(1024);
  return {
    pid: rows[0]!.pid,
    request: async () => {
      await client.query({
        name: "wake_probe",
        text: "INSERT INTO wake_probe (body) VALUES ($1)",
        values: [body],
      });
    },
    close: () => client.end(),
  };
}

async function measure(
  peer: Peer,
  mode: WakeMode,
  options: WakeCostOptions,
): Promise<Omit<WakeMeasurement, "probe" | "round">> {
  const gapMs = 1000 / options.rate;
  // A few unmeasured requests first: the first of a series pays for plans and buffers.
  for (let i = 0; i < 20; i++) await peer.request();
  if (mode === "spaced") await sleep(gapMs);
  const peerBefore = peerCpuSeconds(peer.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < options.count; i++) {
    await peer.request();
    if (mode === "spaced") await sleep(gapMs);
  }
  const wallMs = performance.now() - started;
  const client = process.cpuUsage(clientBefore);
  const peerSeconds = peerCpuSeconds(peer.pid) - peerBefore;
  return {
    mode,
    peerUs: (peerSeconds * 1e6) / options.count,
    clientUs: (client.user + client.system) / options.count,
    wallUs: (wallMs * 1000) / options.count,
  };
}

/** Measures both probes in both modes, `rounds` times, alternated, and their medians. */
export async function measureWakeCost(options: WakeCostOptions): Promise<WakeCostResult> {
  const peers: [WakeProbe, Peer][] = [];
  try {
    peers.push(["tcp echo", await startEchoPeer()]);
    peers.push(["postgres insert", await startPostgresPeer(options.pgUrl)]);
    const measurements: WakeMeasurement[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      // Alternate which mode goes first, so neither always follows the other.
      const modes: WakeMode[] =
        round % 2 === 1 ? ["back to back", "spaced"] : ["spaced", "back to back"];
      for (const mode of modes) {
        for (const [probe, peer] of peers) {
          measurements.push({ probe, round, ...(await measure(peer, mode, options)) });
        }
      }
    }
    const summaries = peers.map(([probe]): WakeCostSummary => {
      const of = (mode: WakeMode) => {
        const rows = measurements.filter((m) => m.probe === probe && m.mode === mode);
        return {
          peerUs: median(rows.map((m) => m.peerUs)),
          clientUs: median(rows.map((m) => m.clientUs)),
        };
      };
      const backToBack = of("back to back");
      const spaced = of("spaced");
      return {
        probe,
        backToBack,
        spaced,
        peerRatio: spaced.peerUs / backToBack.peerUs,
        clientRatio: spaced.clientUs / backToBack.clientUs,
      };
    });
    return { rate: options.rate, count: options.count, measurements, summaries };
  } finally {
    for (const [, peer] of peers) await peer.close();
  }
}
