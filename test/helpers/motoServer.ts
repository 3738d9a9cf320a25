// A moto server of the test file's own: Python moto's real AWS API emulator (DynamoDB,
// EventBridge, SQS) over HTTP on a free loopback port, started by the suite and stopped after it.
// Without the `moto_server` binary a suite skips loudly, except under CI=true /
// HERALD_REQUIRE_SERVICES=1, where it fails. moto_server's Python loads
// motoServer/sitecustomize.py: DynamoDB requests run one at a time, as DynamoDB's serializable
// transactions need (moto's own rollback would undo other requests' writes), and a transaction
// snapshots each table once instead of once per item.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AwsClientOptions } from "../../packages/aws/src/core/awsClientConfig.js";
import { freePort } from "./freePort.js";
import { servicesRequired } from "./services.js";

/** The folder whose sitecustomize.py moto_server's Python loads at start-up. */
const SITE = fileURLToPath(new URL("./motoServer", import.meta.url));

/** Where moto_server may be when it is not on PATH (pip under pyenv, a system pip). */
const KNOWN_PLACES = [
  join(homedir(), ".pyenv", "shims", "moto_server"),
  "/usr/local/bin/moto_server",
  "/usr/bin/moto_server",
];

function motoBinary(): string | undefined {
  const fromEnv = process.env.HERALD_MOTO_SERVER;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  try {
    const onPath = execFileSync("sh", ["-c", "command -v moto_server"], {
      encoding: "utf8",
    }).trim();
    if (onPath !== "") return onPath;
  } catch {
    // not on PATH: look in the usual places
  }
  return KNOWN_PLACES.find((place) => existsSync(place));
}

/** True when moto_server is installed; throws under CI without it, else warns (the caller skips). */
export function motoAvailable(what: string): boolean {
  if (motoBinary() !== undefined) return true;
  const message = "moto_server not found (pip install 'moto[server]', or set HERALD_MOTO_SERVER)";
  if (servicesRequired()) {
    throw new Error(`${message}; CI=true or HERALD_REQUIRE_SERVICES=1 makes it mandatory`);
  }
  console.warn(`\n  ⚠ SKIPPING ${what}: ${message}\n`);
  return false;
}

export interface MotoServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** Client options for Herald's AWS clients: this endpoint, us-east-1, dummy credentials. */
  aws: Required<Pick<AwsClientOptions, "endpoint" | "region" | "credentials">>;
  /** Everything it logged. */
  log(): string;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, timeout: 500 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}

/** Starts moto_server on a free port and waits until it accepts connections (about 2–3 s). */
export async function startMoto(): Promise<MotoServer> {
  const binary = motoBinary();
  if (binary === undefined) throw new Error("moto_server not found");
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PYTHONUNBUFFERED: "1",
      PYTHONPATH: [SITE, process.env.PYTHONPATH]
        .filter((p) => p !== undefined && p !== "")
        .join(":"),
    },
  });
  let log = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    if (log.length < 200_000) log += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    if (log.length < 200_000) log += chunk;
  });
  const deadline = Date.now() + 30_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not start on ${port}:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (log.includes("NOT serialised")) {
    child.kill("SIGKILL");
    throw new Error(`moto_server started without Herald's DynamoDB isolation:\n${log}`);
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    aws: {
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    },
    log: () => log,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
