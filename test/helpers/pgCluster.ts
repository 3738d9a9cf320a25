// A private, throw-away PostgreSQL cluster for tests that stop and start the database (outages,
// crashes) or freeze it (SIGSTOP, as a network partition or a stuck host looks to clients):
// initdb in a temp dir, pg_ctl start / stop on a free port, all as the `postgres` user (initdb
// refuses to run as root). Never touches the shared server on 5432: only the processes of this
// cluster's postmaster (from its own postmaster.pid) are signalled.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./freePort.js";
import { serviceAvailable, servicesRequired } from "./services.js";

const run = promisify(execFile);
const PG_ROOT = "/usr/lib/postgresql";

/** The bin directory of the newest installed PostgreSQL that has initdb, or null. */
export async function findPostgresBin(): Promise<string | null> {
  if (!existsSync(PG_ROOT)) return null;
  const versions = (await readdir(PG_ROOT))
    .filter((v) => /^\d+$/.test(v) && existsSync(join(PG_ROOT, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(PG_ROOT, versions[0], "bin");
}

/** Why a private cluster cannot be made here (null when it can). */
export async function privateClusterUnavailable(): Promise<string | null> {
  const bin = await findPostgresBin();
  if (bin === null) return `no initdb under ${PG_ROOT}/<version>/bin`;
  if (process.getuid?.() !== 0)
    return "not running as root (initdb/pg_ctl run as postgres via runuser)";
  try {
    await run("id", ["-u", "postgres"]);
  } catch {
    return "no postgres user";
  }
  return null;
}

/** The pids whose parent is `parent` (from /proc/<pid>/stat). */
async function childrenOf(parent: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === parent) children.push(Number(entry));
  }
  return children;
}

/**
 * Whether `what` (a test of a private cluster) can run: PostgreSQL is installed and reachable
 * and a cluster can be made. When not, says so loudly, or throws when services are required
 * (CI=true).
 */
export async function privateClusterUsable(what: string): Promise<boolean> {
  if (!(await serviceAvailable("postgres"))) return false;
  const problem = await privateClusterUnavailable();
  if (problem === null) return true;
  const message = `cannot create a private PostgreSQL cluster: ${problem}`;
  if (servicesRequired()) throw new Error(`${message}; CI=true makes it mandatory`);
  console.warn(`\n  ⚠ SKIPPING ${what}: ${message}\n`);
  return false;
}

export interface PgCluster {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  dir: string;
  start(): Promise<void>;
  /** `pg_ctl -m immediate stop`: no checkpoint, backends killed — a crash as clients see it. */
  stopImmediate(): Promise<void>;
  /**
   * SIGSTOP the postmaster and every process it started (backends, checkpointer…): connections
   * stay open and the kernel still accepts and acknowledges, but nothing answers and no timer
   * of the server runs.
   */
  freeze(): Promise<void>;
  /** SIGCONT them all. */
  thaw(): Promise<void>;
  /** The server log so far. */
  log(): Promise<string>;
  /** Stops the server (if running) and removes every file. Safe to call more than once. */
  destroy(): Promise<void>;
}

export async function createPgCluster(): Promise<PgCluster> {
  const bin = await findPostgresBin();
  if (bin === null) throw new Error("initdb not found");
  const { stdout } = await run("id", ["-u", "postgres"]);
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  const dir = await mkdtemp(join(tmpdir(), "herald-pgcluster-"));
  await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  const data = join(dir, "data");
  const logFile = join(dir, "postgres.log");
  const port = await freePort();
  const asPostgres = (tool: string, args: string[]) =>
    run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args], { timeout: 60_000 });
  let running = false;
  let frozen = false;
  const postmasterPid = async () => {
    const text = await readFile(join(data, "postmaster.pid"), "utf8");
    const pid = Number(text.split("\n")[0]);
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no postmaster pid in ${data}`);
    return pid;
  };
  const signalCluster = async (signal: "SIGSTOP" | "SIGCONT") => {
    const pid = await postmasterPid();
    // The postmaster first when stopping (it forks no backend after that), last when resuming.
    if (signal === "SIGSTOP") process.kill(pid, signal);
    for (const child of await childrenOf(pid)) {
      try {
        process.kill(child, signal);
      } catch {
        // It exited meanwhile.
      }
    }
    if (signal === "SIGCONT") process.kill(pid, signal);
  };
  const cluster: PgCluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    async start() {
      await asPostgres("pg_ctl", [
        "-D",
        data,
        "-l",
        logFile,
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
        "-w",
        "-t",
        "30",
        "start",
      ]);
      running = true;
    },
    async stopImmediate() {
      await asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      running = false;
    },
    async freeze() {
      await signalCluster("SIGSTOP");
      frozen = true;
    },
    async thaw() {
      await signalCluster("SIGCONT");
      frozen = false;
    },
    async log() {
      return readFile(logFile, "utf8").catch(() => "");
    },
    async destroy() {
      // A stopped process would not act on pg_ctl's stop signal.
      if (frozen) await cluster.thaw().catch(() => {});
      if (running || existsSync(join(data, "postmaster.pid"))) {
        await asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
        running = false;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return cluster;
}
