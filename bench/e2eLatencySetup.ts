// What e2e-latency sends to: the floor (the local receiver itself) and Herald set up as a user
// runs it — `herald serve` with its embedded worker on a fresh SQLite file, or `herald serve
// --no-worker` plus N `herald worker` processes on a PostgreSQL schema of the bench's own
// database. Each Herald setup gets, through its management API, one Standard Webhooks source
// (`bench`, type from the body) and one endpoint subscribed to that type, pointing at the
// receiver: every accepted webhook becomes one delivery to the receiver.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Pool } from "undici";
import { type ChildWorker, heraldBin, startHeraldWorker } from "./deliverHarness.js";
import { targetPool } from "./e2eLatencyLoad.js";
import type { LatencyReceiver } from "./e2eLatencyReceiver.js";
import { processCpuMs, type ServerChild, startHeraldServe } from "./http/children.js";
import { EVENT_TYPE, newStandardSecret } from "./http/webhooks.js";

export type E2eStore = "sqlite" | "postgres";

export interface E2eTarget {
  readonly name: string;
  readonly pool: Pool;
  readonly path: string;
  /** The answer that means "accepted": 202 from Herald (stored), 200 from the receiver. */
  readonly okStatus: number;
  /** The requests are signed with it (the floor ignores signatures but gets the same bytes). */
  readonly secret: string;
  /** CPU (user + system, ms) Herald's processes have used so far; null for the floor or without /proc. */
  cpuMs(): number | null;
  close(): Promise<void>;
}

const SOURCE = "bench";
/** Let the worker reach the receiver on loopback despite the SSRF guard. */
const SSRF_ENV = { HERALD_SSRF_ALLOW: "127.0.0.0/8" };

/** The receiver itself, as a target: what the same requests cost with no Herald in between. */
export function floorTarget(receiver: LatencyReceiver): E2eTarget {
  const pool = targetPool(receiver.origin);
  return {
    name: "floor",
    pool,
    path: "/floor",
    okStatus: 200,
    secret: newStandardSecret(),
    cpuMs: () => null,
    close: () => pool.close(),
  };
}

export interface BenchDatabase {
  /** postgres:// URL of the database. */
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

async function admin(pgUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database on the server of `pgUrl` (dropped first if a crashed run left it). */
export async function createBenchDatabase(pgUrl: string): Promise<BenchDatabase> {
  // The process id keeps a concurrent run (a smoke test beside a full run) out of this one's way.
  const name = `herald_bench_e2e_${process.pid}`;
  await admin(pgUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(pgUrl, `CREATE DATABASE ${name}`);
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin(pgUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function manage(base: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
}

export interface HeraldTargetOptions {
  /** Shown in the tables; on PostgreSQL also names the setup's schema. */
  name: string;
  store: E2eStore;
  /** PostgreSQL: `herald worker` processes beside `serve --no-worker` (default 1). */
  workers?: number;
  /** PostgreSQL: the bench's database (createBenchDatabase). */
  database?: BenchDatabase;
  /** The built CLI (default: this repository's, or HERALD_BENCH_BIN). */
  bin?: string;
  /** Extra node flags for every Herald process of the setup (`--cpu-prof` …). */
  nodeArgs?: readonly string[];
  receiver: LatencyReceiver;
}

/** Starts a Herald setup, creates its source and endpoint, and returns it as a target. */
export async function startHeraldTarget(options: HeraldTargetOptions): Promise<E2eTarget> {
  const bin = options.bin ?? heraldBin;
  const nodeArgs = options.nodeArgs ?? [];
  const dir = await mkdtemp(join(tmpdir(), "herald-bench-e2e-"));
  const workers: ChildWorker[] = [];
  let serve: ServerChild | undefined;
  let pool: Pool | undefined;
  const close = async () => {
    await pool?.close();
    await Promise.all(workers.map((worker) => worker.stop()));
    await serve?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (options.store === "sqlite") {
      serve = await startHeraldServe({
        db: join(dir, "herald.db"),
        cwd: dir,
        bin,
        nodeArgs,
        worker: true,
        env: SSRF_ENV,
      });
    } else {
      const { database } = options;
      if (database === undefined) throw new Error("a PostgreSQL setup needs the bench database");
      const schema = `e2e_${options.name.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`;
      serve = await startHeraldServe({
        db: database.url,
        schema,
        cwd: dir,
        bin,
        nodeArgs,
        env: SSRF_ENV,
      });
      // After serve: it migrated the schema, so the workers start on a ready one.
      for (let i = 0; i < (options.workers ?? 1); i++) {
        workers.push(
          await startHeraldWorker(["--db", database.url, "--schema", schema], { bin, nodeArgs }),
        );
      }
    }
    const secret = newStandardSecret();
    await manage(serve.url, "/v1/sources", {
      name: SOURCE,
      scheme: "standard",
      secrets: [secret],
      type_from: { body: "type" },
    });
    await manage(serve.url, "/v1/endpoints", {
      url: `${options.receiver.origin}/hook`,
      event_types: [`${SOURCE}.${EVENT_TYPE}`],
    });
    pool = targetPool(serve.url);
    const pids = [serve.pid, ...workers.map((worker) => worker.pid)];
    return {
      name: options.name,
      pool,
      path: `/webhooks/${SOURCE}`,
      okStatus: 202,
      secret,
      cpuMs() {
        let total = 0;
        for (const pid of pids) {
          const ms = processCpuMs(pid);
          if (ms === null) return null;
          total += ms;
        }
        return total;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
