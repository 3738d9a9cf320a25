// Per-endpoint flow control as a worker of concurrency 50 would see it, on simulated time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createEndpointLimiter,
  type EndpointLimiter,
  type EndpointLimits,
} from "../../packages/core/src/delivery/endpointLimiter.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { isHeraldError } from "../../packages/webhooks/src/core/errors.js";

function acquired(limiter: EndpointLimiter, endpoint: EndpointLimits): () => void {
  const result = limiter.tryAcquire(endpoint);
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.release;
}

/**
 * A worker of `concurrency` slots, each sending as soon as the limiter lets it, every send
 * lasting `sendMs`; time moves 1 ms per tick. Returns the send start times and the peak
 * number of sends in flight.
 */
function simulate(
  endpoint: EndpointLimits,
  {
    concurrency,
    sends,
    sendMs,
    burstSeconds,
  }: { concurrency: number; sends: number; sendMs: (i: number) => number; burstSeconds?: number },
) {
  const clock = new ManualClock(0);
  const limiter = createEndpointLimiter({ clock, burstSeconds });
  const starts: number[] = [];
  const running: { endsAt: number; release: () => void }[] = [];
  let peak = 0;
  while (starts.length < sends) {
    for (const send of running.filter((s) => s.endsAt <= clock.now())) {
      send.release();
      running.splice(running.indexOf(send), 1);
    }
    for (let slot = running.length; slot < concurrency && starts.length < sends; slot++) {
      const result = limiter.tryAcquire(endpoint);
      if (!result.ok) break;
      starts.push(clock.now());
      running.push({ endsAt: clock.now() + sendMs(starts.length), release: result.release });
      peak = Math.max(peak, running.length, limiter.inFlight(endpoint.id));
    }
    clock.advance(1);
  }
  return { starts, peak, limiter };
}

function maxInAnyWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

describe("createEndpointLimiter", () => {
  it("holds rate 10/s over 10 simulated seconds under concurrency 50", () => {
    const endpoint = { id: "ep_a", rateLimitPerS: 10 };
    const { starts } = simulate(endpoint, { concurrency: 50, sends: 1_000, sendMs: () => 5 });
    const firstTenSeconds = starts.filter((t) => t < 10_000).length;
    expect(firstTenSeconds).toBeLessThanOrEqual(10 * 10 + 1); // burst 1 by default
    expect(firstTenSeconds).toBeGreaterThanOrEqual(10 * 10); // and does not starve
    expect(maxInAnyWindow(starts, 1_000)).toBeLessThanOrEqual(10 + 1);
  });

  it("keeps 200 sends at 20/s within the issue's 22/s measured rate", () => {
    const { starts } = simulate(
      { id: "ep", rateLimitPerS: 20 },
      { concurrency: 50, sends: 200, sendMs: () => 30 },
    );
    const measured = (starts.length - 1) / ((starts.at(-1)! - starts[0]!) / 1000);
    expect(measured).toBeLessThanOrEqual(22);
  });

  it("allows a burst of rate × burstSeconds when configured", () => {
    const clock = new ManualClock(0);
    const limiter = createEndpointLimiter({ clock, burstSeconds: 1 });
    let ok = 0;
    while (limiter.tryAcquire({ id: "ep", rateLimitPerS: 5 }).ok) ok++;
    expect(ok).toBe(5);
  });

  it("never exceeds maxInFlight, whatever the send durations", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 40 }),
        (maxInFlight, durations) => {
          const { peak, limiter } = simulate(
            { id: "ep", maxInFlight },
            { concurrency: 50, sends: 100, sendMs: (i) => durations[i % durations.length]! },
          );
          expect(peak).toBeLessThanOrEqual(maxInFlight);
          expect(peak).toBe(maxInFlight); // with 50 eager slots the limit is reached
          expect(limiter.inFlight("ep")).toBeLessThanOrEqual(maxInFlight);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("holds maxInFlight for many concurrent async acquirers", async () => {
    const clock = new ManualClock(0);
    const limiter = createEndpointLimiter({ clock });
    const endpoint = { id: "ep", maxInFlight: 3 };
    let current = 0;
    let peak = 0;
    let sent = 0;
    const worker = async (seed: number) => {
      for (let round = 0; round < 20; round++) {
        const result = limiter.tryAcquire(endpoint);
        if (!result.ok) {
          await Promise.resolve();
          continue;
        }
        current++;
        sent++;
        peak = Math.max(peak, current);
        for (let i = 0; i < (seed + round) % 4; i++) await Promise.resolve();
        current--;
        result.release();
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, seed) => worker(seed)));
    expect(peak).toBe(3);
    expect(sent).toBeGreaterThan(0);
    expect(limiter.inFlight("ep")).toBe(0);
  });

  it("frees a slot on release, and a second release frees nothing more", () => {
    const limiter = createEndpointLimiter({ clock: new ManualClock() });
    const endpoint = { id: "ep", maxInFlight: 2 };
    const first = acquired(limiter, endpoint);
    acquired(limiter, endpoint);
    const refused = limiter.tryAcquire(endpoint);
    expect(refused).toMatchObject({ ok: false, reason: "max_in_flight", retryInMs: 100 });
    first();
    first();
    expect(limiter.inFlight("ep")).toBe(1);
    acquired(limiter, endpoint);
    expect(limiter.tryAcquire(endpoint).ok).toBe(false);
  });

  it("spends no rate token when the in-flight check refuses", () => {
    const clock = new ManualClock(0);
    const limiter = createEndpointLimiter({ clock });
    const endpoint = { id: "ep", rateLimitPerS: 1, maxInFlight: 1 };
    const release = acquired(limiter, endpoint);
    clock.advance(1_000); // one new token
    for (let i = 0; i < 10; i++) {
      expect(limiter.tryAcquire(endpoint)).toMatchObject({ ok: false, reason: "max_in_flight" });
    }
    release();
    expect(limiter.tryAcquire(endpoint).ok).toBe(true); // the token is still there
  });

  it("takes no slot when the rate refuses, and says when to come back", () => {
    const clock = new ManualClock(0);
    const limiter = createEndpointLimiter({ clock });
    const endpoint = { id: "ep", rateLimitPerS: 4, maxInFlight: 10 };
    acquired(limiter, endpoint);
    const refused = limiter.tryAcquire(endpoint);
    expect(refused).toEqual({ ok: false, reason: "rate_limited", retryInMs: 250 });
    expect(limiter.inFlight("ep")).toBe(1);
    clock.advance(250);
    expect(limiter.tryAcquire(endpoint).ok).toBe(true);
  });

  it("applies changed limits on the next acquire, without a fresh burst", () => {
    const clock = new ManualClock(0);
    const limiter = createEndpointLimiter({ clock });
    const releases = [acquired(limiter, { id: "ep" }), acquired(limiter, { id: "ep" })];
    // Sends that started unlimited still count against a limit added later.
    expect(limiter.tryAcquire({ id: "ep", maxInFlight: 2 }).ok).toBe(false);
    for (const release of releases) release();
    const r = acquired(limiter, { id: "ep", rateLimitPerS: 1 });
    r();
    expect(limiter.tryAcquire({ id: "ep", rateLimitPerS: 1 }).ok).toBe(false);
    // Raising the rate keeps the (empty) bucket: no burst is granted by the change.
    expect(limiter.tryAcquire({ id: "ep", rateLimitPerS: 100 })).toMatchObject({
      ok: false,
      retryInMs: 10,
    });
    clock.advance(10);
    expect(limiter.tryAcquire({ id: "ep", rateLimitPerS: 100 }).ok).toBe(true);
    // Removing the limit lets everything through at once.
    expect(limiter.tryAcquire({ id: "ep", rateLimitPerS: null }).ok).toBe(true);
    expect(limiter.tryAcquire({ id: "ep" }).ok).toBe(true);
  });

  it("keeps endpoints independent", () => {
    const limiter = createEndpointLimiter({ clock: new ManualClock() });
    acquired(limiter, { id: "a", maxInFlight: 1, rateLimitPerS: 1 });
    expect(limiter.tryAcquire({ id: "a", maxInFlight: 1, rateLimitPerS: 1 }).ok).toBe(false);
    expect(limiter.tryAcquire({ id: "b", maxInFlight: 1, rateLimitPerS: 1 }).ok).toBe(true);
  });

  it("forgets idle endpoints, so memory stays bounded by busy ones", () => {
    const clock = new ManualClock(0);
    const limiter = createEndpointLimiter({ clock, sweepIntervalMs: 60_000 });
    for (let i = 0; i < 10_000; i++) acquired(limiter, { id: `unlimited_${i}` })();
    expect(limiter.trackedEndpoints()).toBe(0); // nothing in flight, no bucket: dropped on release
    for (let i = 0; i < 1_000; i++) acquired(limiter, { id: `limited_${i}`, rateLimitPerS: 1 })();
    const busy = acquired(limiter, { id: "busy", maxInFlight: 1 });
    expect(limiter.trackedEndpoints()).toBe(1_001); // buckets still refilling
    clock.advance(60_000);
    limiter.tryAcquire({ id: "other", maxInFlight: 1 });
    expect(limiter.trackedEndpoints()).toBe(2); // "busy" and "other" hold slots
    busy();
    expect(limiter.trackedEndpoints()).toBe(1);
    // A forgotten endpoint comes back with a full bucket, as if it had been kept.
    expect(limiter.tryAcquire({ id: "limited_0", rateLimitPerS: 1 }).ok).toBe(true);
  });

  it.each([
    [{ id: "ep", rateLimitPerS: 0 }],
    [{ id: "ep", rateLimitPerS: -2 }],
    [{ id: "ep", rateLimitPerS: Number.NaN }],
    [{ id: "ep", maxInFlight: 0 }],
    [{ id: "ep", maxInFlight: 1.5 }],
    [{ id: "", maxInFlight: 1 }],
  ])("rejects %o with endpoint.invalid, holding nothing", (endpoint) => {
    const limiter = createEndpointLimiter({ clock: new ManualClock() });
    let thrown: unknown;
    try {
      limiter.tryAcquire(endpoint);
    } catch (error) {
      thrown = error;
    }
    expect(isHeraldError(thrown, "endpoint.invalid")).toBe(true);
    expect(limiter.trackedEndpoints()).toBe(0);
  });

  it("rejects bad options with config.invalid", () => {
    expect(() => createEndpointLimiter({ clock: new ManualClock(), burstSeconds: -1 })).toThrow(
      expect.objectContaining({ code: "config.invalid" }),
    );
  });
});
