// A nats-server ≥ 2.10 with Herald's auth callout configured, for the NATS platform suites. The
// machine's own nats-server (2.9, port 4222) has no auth callout, so the binary comes from
// scripts/fetch-nats-server.sh (Debian 13's package, through the machine's mirror) or from
// HERALD_NATS_SERVER. Each server runs on its own ports with its own JetStream directory.
// Without a binary the suites skip loudly, except under CI=true (or HERALD_REQUIRE_SERVICES=1),
// where they fail.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateNatsKeys,
  type NatsPlatformKeys,
  natsConfSnippet,
} from "@heraldjs/nats/internal/platform/natsKeys.js";
import { freePort } from "./freePort.js";
import { servicesRequired } from "./services.js";
import { repoRoot } from "./spawnNode.js";

let binary: string | undefined | null = null;

/**
 * The path of a nats-server ≥ 2.10, fetched on first use; undefined (after a loud notice) when it
 * cannot be had, and an error instead under CI.
 */
export function natsServerBinary(): string | undefined {
  if (binary !== null) return binary;
  const fromEnv = process.env.HERALD_NATS_SERVER;
  try {
    binary =
      fromEnv !== undefined && fromEnv !== ""
        ? fromEnv
        : execFileSync(join(repoRoot, "scripts/fetch-nats-server.sh"), {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            timeout: 120_000,
          }).trim();
    const version = execFileSync(binary, ["--version"], { encoding: "utf8" });
    if (!/v2\.(1\d|[2-9]\d)\./.test(version)) throw new Error(`${binary} is ${version.trim()}`);
    return binary;
  } catch (error) {
    binary = undefined;
    const message = `no nats-server ≥ 2.10 (scripts/fetch-nats-server.sh: ${(error as Error).message.split("\n")[0]})`;
    if (servicesRequired()) {
      throw new Error(`${message}; CI=true or HERALD_REQUIRE_SERVICES=1 makes it mandatory`);
    }
    console.warn(`\n  ⚠ SKIPPING NATS platform tests: ${message}\n`);
    return undefined;
  }
}

export interface NatsPlatformServer {
  /** nats://127.0.0.1:port */
  url: string;
  /** ws://127.0.0.1:port (the websocket listener) */
  wsUrl: string;
  keys: NatsPlatformKeys;
  /** The account connections are placed in. */
  account: string;
  /** Whether the callout's requests and answers are encrypted with the xkey. */
  encrypt: boolean;
  stop(): Promise<void>;
  /** Stops and starts the server again on the same ports, keys and JetStream directory. */
  restart(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startNatsPlatform(
  options: { encrypt?: boolean; keys?: NatsPlatformKeys } = {},
): Promise<NatsPlatformServer> {
  const bin = natsServerBinary();
  if (bin === undefined) throw new Error("no nats-server ≥ 2.10: check natsServerBinary() first");
  const keys = options.keys ?? (await generateNatsKeys());
  const encrypt = options.encrypt ?? true;
  const dir = mkdtempSync(join(tmpdir(), "herald-nats-platform-"));
  const port = await freePort();
  const wsPort = await freePort();
  const conf = join(dir, "nats.conf");
  writeFileSync(
    conf,
    `listen: 127.0.0.1:${port}\n${natsConfSnippet(keys, {
      encrypt,
      websocketPort: wsPort,
      jetstreamStoreDir: join(dir, "js"),
    })}`,
  );
  let child: ChildProcess | undefined;
  let log = "";
  async function start(): Promise<void> {
    log = "";
    const proc = spawn(bin as string, ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    proc.stdout?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    proc.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    const deadline = Date.now() + 10_000;
    while (!(await listening(port)) || !(await listening(wsPort))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`nats-server did not start (exit ${proc.exitCode}):\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  async function stopChild(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
    await exited;
  }
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    keys,
    account: "APP",
    encrypt,
    async stop() {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await stopChild();
      await start();
    },
  };
}
