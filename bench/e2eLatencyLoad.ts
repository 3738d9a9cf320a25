// e2e-latency's load: an open-loop generator (send i is fired at t0 + i / rate whatever the
// earlier answers, so a slow answer never delays the sends behind it: no coordinated omission)
// and the closed-loop burst that finds the saturation rate. Requests are pre-built and signed
// (bench/http/webhooks.ts) before the clock starts; undici keeps one pool per target.
import { Pool } from "undici";
import type { PooledRequest } from "./http/load.js";

/** Connections per pool: enough that an open-loop run never waits for a free socket. */
export const POOL_CONNECTIONS = 128;

export function targetPool(origin: string): Pool {
  return new Pool(origin, {
    connections: POOL_CONNECTIONS,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
}

export interface Answers {
  /** Answers with the expected status, by index: the requests that must be delivered. */
  readonly ok: Uint8Array;
  okCount: number;
  /** Other answers, by status. */
  readonly other: Record<string, number>;
  /** Socket errors and timeouts. */
  errors: number;
  /** performance.now() of each answer (NaN: none). */
  readonly answeredAt: Float64Array;
}

function newAnswers(n: number): Answers {
  return {
    ok: new Uint8Array(n),
    okCount: 0,
    other: {},
    errors: 0,
    answeredAt: new Float64Array(n).fill(Number.NaN),
  };
}

async function send(
  pool: Pool,
  path: string,
  request: PooledRequest,
  index: number,
  okStatus: number,
  answers: Answers,
): Promise<void> {
  try {
    const response = await pool.request({
      method: "POST",
      path,
      headers: request.headers,
      body: request.body,
    });
    await response.body.dump();
    answers.answeredAt[index] = performance.now();
    if (response.statusCode === okStatus) {
      answers.ok[index] = 1;
      answers.okCount++;
    } else {
      const key = String(response.statusCode);
      answers.other[key] = (answers.other[key] ?? 0) + 1;
    }
  } catch {
    answers.errors++;
  }
}

export interface OpenLoopResult extends Answers {
  /** performance.now() of send 0's scheduled time; send i is scheduled at t0 + i × 1000 / rate. */
  t0: number;
  intervalMs: number;
  /** performance.now() when the last send was fired. */
  lastFiredAt: number;
  /** The latest any send was fired after its scheduled time (the generator's own lag), ms. */
  maxFireLagMs: number;
}

/**
 * Fires every request of `requests` at its scheduled time and resolves once every one was
 * answered. A timer wakes the loop at the next scheduled time; each wake fires every send due
 * by then (at high rates several per wake, each still measured from its own scheduled time).
 */
export function openLoop(options: {
  pool: Pool;
  path: string;
  requests: readonly PooledRequest[];
  rate: number;
  okStatus: number;
}): Promise<OpenLoopResult> {
  const { pool, path, requests, okStatus } = options;
  const n = requests.length;
  const intervalMs = 1000 / options.rate;
  const answers = newAnswers(n);
  const inFlight: Promise<void>[] = [];
  // A short lead so the first sends are not late because the loop started late.
  const t0 = performance.now() + 5;
  let next = 0;
  let maxFireLagMs = 0;
  let lastFiredAt = t0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < n && t0 + next * intervalMs <= now) {
        maxFireLagMs = Math.max(maxFireLagMs, now - (t0 + next * intervalMs));
        inFlight.push(send(pool, path, requests[next]!, next, okStatus, answers));
        next++;
      }
      lastFiredAt = now;
      if (next < n) {
        setTimeout(tick, Math.max(0, t0 + next * intervalMs - performance.now()));
        return;
      }
      void Promise.all(inFlight).then(() =>
        resolve({ ...answers, t0, intervalMs, lastFiredAt, maxFireLagMs }),
      );
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
}

export interface ClosedLoopResult extends Answers {
  startedAt: number;
  /** Requests sent (a prefix of `requests`). */
  sent: number;
}

/**
 * `connections` senders, each sending its next request as soon as its previous one is answered,
 * for `durationMs` or until `requests` runs out.
 */
export async function closedLoop(options: {
  pool: Pool;
  path: string;
  requests: readonly PooledRequest[];
  connections: number;
  durationMs: number;
  okStatus: number;
}): Promise<ClosedLoopResult> {
  const { pool, path, requests, okStatus } = options;
  const answers = newAnswers(requests.length);
  const startedAt = performance.now();
  const endAt = startedAt + options.durationMs;
  let next = 0;
  const sender = async () => {
    while (next < requests.length && performance.now() < endAt) {
      const index = next++;
      await send(pool, path, requests[index]!, index, okStatus, answers);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, sender));
  return { ...answers, startedAt, sent: next };
}
