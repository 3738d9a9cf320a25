// The servers under load, each in its own child process: the built `herald serve` (as a user
// runs it) and the bare Fastify baseline (bareServer.mjs). Each is started, asked for its URL
// and stopped by its own pid.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const heraldBin = fileURLToPath(new URL("../../packages/server/dist/cli/bin.js", import.meta.url));
const bareScript = fileURLToPath(new URL("./bareServer.mjs", import.meta.url));

export interface ServerChild {
  readonly url: string;
  readonly pid: number;
  /**
   * CPU time (user + system, ms) the process has used so far, from /proc (Linux); null where
   * /proc is not available.
   */
  cpuMs(): number | null;
  /** The same for the process's main thread only (its JavaScript event loop). */
  mainThreadCpuMs(): number | null;
  /** Everything written to stderr so far (Herald's warnings, crashes). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

interface SpawnOptions {
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where the process announces its URL, and how. */
  stream: "stdout" | "stderr";
  pattern: RegExp;
  timeoutMs?: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on every Linux that Node supports

/** utime + stime of a process (all its threads), in ms; null without /proc. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) end at the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** utime + stime of one thread of a process (`/proc/<pid>/task/<tid>`), in ms; null without it. */
export function threadCpuMs(pid: number, tid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

async function spawnServer(options: SpawnOptions): Promise<ServerChild> {
  const child: ChildProcess = spawn(process.execPath, [...options.args], {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    // Keep only the tail: a long run must not grow this process's memory.
    out = (out + chunk).slice(-20_000);
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    err = (err + chunk).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start in time:\n${err}\n${out}`));
    }, options.timeoutMs ?? 20_000);
    const check = () => {
      const match = options.pattern.exec(options.stream === "stdout" ? out : err);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child[options.stream]!.on("data", check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (${child.exitCode}):\n${err}\n${out}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    cpuMs: () => processCpuMs(child.pid!),
    mainThreadCpuMs: () => threadCpuMs(child.pid!, child.pid!),
    stderr: () => err,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The bare Fastify route (bareServer.mjs) on a free port. */
export function startBare(): Promise<ServerChild> {
  return spawnServer({
    args: [bareScript, "0"],
    stream: "stdout",
    pattern: /listening (http:\/\/\S+)/,
  });
}

export interface HeraldChildOptions {
  /** A SQLite file path or a postgres:// URL. */
  db: string;
  schema?: string;
  /** Another build's `cli/bin.js` (before/after comparisons). Default: this repository's dist. */
  bin?: string;
  /** Extra arguments for node before the script (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run the delivery worker in the serving process too (default: `--no-worker`). */
  worker?: boolean;
}

/** `node packages/server/dist/cli/bin.js serve --port 0 --no-worker --db …` with HERALD_LOG_LEVEL=warn (`worker`: without --no-worker). */
export function startHeraldServe(options: HeraldChildOptions): Promise<ServerChild> {
  const args = [
    ...(options.nodeArgs ?? []),
    options.bin ?? heraldBin,
    "serve",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    ...(options.worker === true ? [] : ["--no-worker"]),
    "--db",
    options.db,
    ...(options.schema === undefined ? [] : ["--schema", options.schema]),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, HERALD_LOG_LEVEL: "warn", ...options.env };
  // The benchmark's own settings, not whatever the caller's shell has.
  for (const name of ["HERALD_DB", "HERALD_CONFIG", "HERALD_API_KEY", "HERALD_PORT"]) {
    delete env[name];
  }
  return spawnServer({
    args,
    env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stream: "stderr",
    pattern: /Herald listening on (http:\/\/\S+?) \(/,
  });
}
