// HTTP load with autocannon, from this process (the servers under test are child processes).
// Requests come from a pre-built pool, cycled by one index shared by every connection, so no
// signing or JSON work happens in the load generator's hot loop and, as long as the pool is
// larger than the number of requests a run sends, every request of the run is distinct.
import { createRequire } from "node:module";

/** One pre-built request: the body's bytes and its headers (signature included). */
export interface PooledRequest {
  body: Buffer;
  headers: Record<string, string>;
}

export interface LoadOptions {
  /** `http://127.0.0.1:port` */
  url: string;
  path: string;
  pool: readonly PooledRequest[];
  connections: number;
  durationS: number;
  /** The status that counts as a success (202: stored). */
  okStatus?: number;
}

export interface LoadResult {
  /** Successful answers (okStatus) per second of the run. */
  okPerSecond: number;
  ok: number;
  /** Every answer that was not okStatus (2xx or not), by status. */
  other: Record<string, number>;
  /** Socket errors and timeouts. */
  errors: number;
  timeouts: number;
  /** Requests taken from the pool (a pool smaller than this repeats requests). */
  sent: number;
  poolSize: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  durationS: number;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
}

type Autocannon = (
  options: Record<string, unknown>,
  done: (error: Error | null, result: AutocannonResult) => void,
) => unknown;

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { pool } = options;
  if (pool.length === 0) throw new Error("runLoad needs a non-empty request pool");
  const okStatus = options.okStatus ?? 202;
  let next = 0;
  const request: AutocannonRequest = {
    method: "POST",
    path: options.path,
    setupRequest: (req) => {
      const pooled = pool[next % pool.length]!;
      next += 1;
      req.headers = pooled.headers;
      req.body = pooled.body;
      return req;
    },
  };
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: options.durationS,
        timeout: 10,
        requests: [request],
      },
      (error, done) => (error === null ? resolve(done) : reject(error)),
    );
  });
  const other: Record<string, number> = {};
  let ok = 0;
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    if (Number(status) === okStatus) ok += count;
    else other[status] = count;
  }
  // autocannon's duration is in seconds, measured from the first connection to the end.
  const durationS = result.duration > 0 ? result.duration : options.durationS;
  return {
    okPerSecond: ok / durationS,
    ok,
    other,
    errors: result.errors,
    timeouts: result.timeouts,
    sent: next,
    poolSize: pool.length,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.average,
    },
    durationS,
  };
}
