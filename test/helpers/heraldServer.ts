// Starts the built `herald serve` (or `herald worker`) as a child process, as a user would, on
// a free port, and waits until it says where it listens.
import { type ChildProcess, spawn } from "node:child_process";
import { heraldBin, repoRoot } from "./spawnNode.js";

export interface HeraldProcess {
  /** `http://127.0.0.1:<port>` (null for `worker`). */
  readonly url: string | null;
  readonly child: ChildProcess;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM (graceful) and the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL: no shutdown at all. */
  kill9(): Promise<void>;
  /** Resolves with the exit code when the process ends. */
  readonly exited: Promise<number | null>;
}

export interface StartHeraldOptions {
  /** Working directory (where ./herald.db goes). */
  cwd: string;
  /** `serve` (default) or `worker`. */
  command?: "serve" | "worker";
  /** Extra CLI arguments (`--db`, `--config`…). `--port 0` is added for serve unless given. */
  args?: readonly string[];
  /** Added to this process's environment; undefined removes a variable. */
  env?: Record<string, string | undefined>;
  /** Default 20000. */
  timeoutMs?: number;
}

const LISTENING = /Herald listening on (http:\/\/\S+?) \(/;
const WORKER_RUNNING = /Herald worker running/;

export async function startHerald(options: StartHeraldOptions): Promise<HeraldProcess> {
  const command = options.command ?? "serve";
  const args = [heraldBin, command, ...(options.args ?? [])];
  if (command === "serve" && !args.includes("--port")) args.push("--port", "0");
  const env: NodeJS.ProcessEnv = { ...process.env, HERALD_LOG_LEVEL: "warn", ...options.env };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
  }
  const child = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const timeoutMs = options.timeoutMs ?? 20_000;
  const url = await new Promise<string | null>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`herald ${command} did not start in ${timeoutMs} ms:\n${err}\n${out}`)),
      timeoutMs,
    );
    const check = () => {
      const match = LISTENING.exec(err);
      if (match?.[1] !== undefined || WORKER_RUNNING.test(err)) {
        clearTimeout(timer);
        child.stderr.off("data", check);
        resolve(match?.[1] ?? null);
      }
    };
    child.stderr.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`herald ${command} exited with ${code} before listening:\n${err}\n${out}`));
    });
  });
  return {
    url,
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

export { repoRoot };
