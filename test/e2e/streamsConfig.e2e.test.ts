// The built `herald serve` takes the live streams' settings from herald.yaml's `streams:`
// section, each HERALD_STREAM_* variable overriding its key, and refuses to start (exit 2) on a
// value out of bounds, naming the key and its line.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { api, makeTempDir } from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";

const NO_STREAM_ENV = {
  HERALD_STREAM_POLL_MS: undefined,
  HERALD_STREAM_HEARTBEAT_MS: undefined,
  HERALD_STREAM_MAX_BUFFER_BYTES: undefined,
  HERALD_STREAM_RETRY_MS: undefined,
};

const FILE = "streams:\n  heartbeat_ms: 200\n  retry_ms: 4321\n";

/** The SSE text of a stream until `until` matches it (or 10 s pass), then the stream is closed. */
async function readStream(base: string, until: RegExp): Promise<string> {
  const minted = await api(base, "POST", "/v1/stream-tokens", {
    tenant: "acme",
    event_types: ["order.*"],
    ttl_s: 600,
  });
  expect(minted.status, minted.text).toBe(201);
  const { token } = minted.json as { token: string };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  let text = "";
  try {
    const response = await fetch(`${base}/v1/stream?token=${token}`, {
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (until.test(text)) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return text;
}

describe("streams: in herald.yaml, with the built herald serve", () => {
  const processes: HeraldProcess[] = [];
  const dirs: { remove(): Promise<void> }[] = [];

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill9()));
    await Promise.all(dirs.map((d) => d.remove()));
  });

  async function serve(yaml: string, env: Record<string, string | undefined>) {
    const dir = await makeTempDir("streams-config");
    dirs.push(dir);
    await writeFile(join(dir.path, "herald.yaml"), yaml);
    const herald = await startHerald({
      cwd: dir.path,
      args: ["--db", join(dir.path, "herald.db"), "--no-worker"],
      env: { ...NO_STREAM_ENV, ...env },
    });
    processes.push(herald);
    return herald;
  }

  it("uses the file's retry_ms and heartbeat_ms", async () => {
    const herald = await serve(FILE, {});
    const text = await readStream(herald.url!, /: ping\n/);
    expect(text.startsWith("retry: 4321\n\n"), text).toBe(true);
    // The default heartbeat (15 s) would not have come before the read gave up (10 s).
    expect(text).toContain(": ping\n");
  });

  it("lets HERALD_STREAM_RETRY_MS override the file's retry_ms", async () => {
    const herald = await serve(FILE, { HERALD_STREAM_RETRY_MS: "777" });
    const text = await readStream(herald.url!, /^retry: \d+\n\n/);
    expect(text.startsWith("retry: 777\n\n"), text).toBe(true);
  });

  it("does not start with a value out of bounds, naming the key at its line", async () => {
    const started = serve("log:\n  level: warn\nstreams:\n  poll_ms: 5\n", {});
    await expect(started).rejects.toThrow(/exited with 2 before listening/);
    await expect(started).rejects.toThrow("herald.yaml:4:3: streams.poll_ms: must be ≥ 10");
  });
});
