// A nats-server of the test's own (JetStream, a free port, a temp store directory), for suites
// whose subjects (`agent.*.*.evt`) would collide with other suites on the shared server.
// Without the binary a suite skips loudly, except under CI=true / HERALD_REQUIRE_SERVICES=1.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./freePort.js";
import { servicesRequired } from "./services.js";

export const NATS_SERVER_BIN = "/usr/sbin/nats-server";

/** True when the binary is there; throws under CI without it, else warns (the caller skips). */
export function natsServerAvailable(what: string): boolean {
  if (existsSync(NATS_SERVER_BIN)) return true;
  const message = `${NATS_SERVER_BIN} not found`;
  if (servicesRequired()) {
    throw new Error(`${message}; CI=true or HERALD_REQUIRE_SERVICES=1 makes it mandatory`);
  }
  console.warn(`\n  ⚠ SKIPPING ${what}: ${message}\n`);
  return false;
}

export interface OwnNatsServer {
  url: string;
  port: number;
  readonly child: ChildProcess;
  /** Everything it logged (since its last start). */
  log(): string;
  /** SIGKILL, then the same server again (same port, same JetStream store). */
  restart(): Promise<void>;
  /** SIGKILL and removal of its store directory. */
  stop(): Promise<void>;
}

async function spawnServer(
  port: number,
  dir: string,
): Promise<{ child: ChildProcess; log(): string }> {
  const child = spawn(
    NATS_SERVER_BIN,
    ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "js")],
    { stdio: "pipe" },
  );
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  const deadline = Date.now() + 10_000;
  while (!log.includes("Server is ready")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nats-server did not start on ${port}:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { child, log: () => log };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}

/** Starts it and resolves once it accepts clients. */
export async function startOwnNatsServer(): Promise<OwnNatsServer> {
  const dir = await mkdtemp(join(tmpdir(), "herald-nats-"));
  const port = await freePort();
  let current: Awaited<ReturnType<typeof spawnServer>>;
  try {
    current = await spawnServer(port, dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get child() {
      return current.child;
    },
    log: () => current.log(),
    async restart() {
      await kill(current.child);
      current = await spawnServer(port, dir);
    },
    async stop() {
      await kill(current.child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
