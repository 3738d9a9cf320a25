// A private, throw-away PostgreSQL cluster for tests that stop and start the database (outages,
// crashes): initdb in a temp dir, pg_ctl start / stop on a free port, all as the `postgres`
// user (initdb refuses to run as root). Never touches the shared server on 5432.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./freePort.js";

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

export interface PgCluster {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  dir: string;
  start(): Promise<void>;
  /** `pg_ctl -m immediate stop`: no checkpoint, backends killed — a crash as clients see it. */
  stopImmediate(): Promise<void>;
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
    async log() {
      return readFile(logFile, "utf8").catch(() => "");
    },
    async destroy() {
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
