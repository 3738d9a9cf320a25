// A client that opens the SSE stream and never reads: the built `herald serve` (SQLite) must cut
// it off once the bytes waiting in its socket pass the bound (HERALD_STREAM_MAX_BUFFER_BYTES),
// not hold everything dispatched meanwhile. 64 MiB of events, 256 times the bound, are
// dispatched to a second `herald serve` on the same database (so the streaming process's memory
// is the stream's, not the ingestion's); the streaming server's resident memory, read from
// /proc/<pid>/status (VmRSS before, VmHWM — the peak — after), must grow by less than the bound
// plus 32 MiB of slack. Without the cut-off it would hold what the client does not take.
// docs/streams.md records the figures this test prints.
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { api, makeTempDir, mapLimit, waitUntil } from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";

const BOUND = 256 * 1024;
const SLACK = 32 * 1024 * 1024;
const EVENT_BYTES = 256 * 1024;
const EVENTS = 256;
const MiB = 1024 * 1024;

/** A figure of /proc/<pid>/status in bytes (VmRSS, VmHWM). */
function memory(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

describe("a stream client that never reads", () => {
  let herald: HeraldProcess | undefined;
  let ingest: HeraldProcess | undefined;
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;

  afterAll(async () => {
    await herald?.kill9();
    await ingest?.kill9();
    await dir?.remove();
  });

  it("is cut off at the buffer bound; the server's memory stays bounded", async () => {
    dir = await makeTempDir("streams-slow-client");
    herald = await startHerald({
      cwd: dir.path,
      args: ["--db", join(dir.path, "herald.db"), "--no-worker"],
      env: {
        HERALD_STREAM_MAX_BUFFER_BYTES: String(BOUND),
        HERALD_STREAM_POLL_MS: "50",
        HERALD_STREAM_HEARTBEAT_MS: "60000",
      },
    });
    const base = herald.url!;
    ingest = await startHerald({
      cwd: dir.path,
      args: ["--db", join(dir.path, "herald.db"), "--no-worker"],
    });
    const pid = herald.child.pid!;
    const minted = await api(base, "POST", "/v1/stream-tokens", { event_types: ["bulk.*"] });
    expect(minted.status).toBe(201);
    const { token } = minted.json as { token: string };
    const blob = "x".repeat(EVENT_BYTES);
    const dispatch = async (n: number) => {
      const result = await api(ingest!.url!, "POST", "/v1/messages", {
        type: "bulk.item",
        payload: { n, blob },
      });
      expect(result.status).toBe(202);
    };
    // Warm up the paths the test then drives, so their first-use allocations are in `before`.
    await mapLimit([0, 1, 2, 3], 4, dispatch);
    await new Promise((r) => setTimeout(r, 500));
    const before = memory(pid, "VmRSS");

    // The client sends its request, reads the status line, then never reads again.
    const { port } = new URL(base);
    const socket: Socket = connect(Number(port), "127.0.0.1");
    const head = await new Promise<string>((resolve, reject) => {
      socket.once("error", reject);
      socket.once("data", (chunk: Buffer) => {
        socket.pause();
        resolve(chunk.toString("latin1"));
      });
      socket.write(`GET /v1/stream?token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));

    await mapLimit(
      Array.from({ length: EVENTS }, (_, i) => i + 10),
      4,
      dispatch,
    );
    await waitUntil(
      () => herald!.stdout().includes("stream cut off"),
      20_000,
      () => `no cut-off in the log:\n${herald!.stdout().slice(-2000)}`,
    );
    const after = memory(pid, "VmRSS");
    const peak = memory(pid, "VmHWM");
    const growth = peak - before;
    console.log(
      `slow client: bound ${BOUND / 1024} KiB, dispatched ${(EVENTS * EVENT_BYTES) / MiB} MiB; server RSS before ${(before / MiB).toFixed(1)} MiB, after ${(after / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB: grew ${(growth / MiB).toFixed(1)} MiB (limit ${((BOUND + SLACK) / MiB).toFixed(1)} MiB)`,
    );
    expect(herald.stdout()).toContain('"reason":"buffer_full"');
    expect(growth).toBeLessThan(BOUND + SLACK);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('herald_streams_ended_total{reason="buffer_full"} 1');

    // What the kernel had buffered comes out, then the end: the client got far less than sent.
    let received = 0;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    await closed;
    expect(received).toBeLessThan(EVENTS * EVENT_BYTES);
  }, 60_000);
});
