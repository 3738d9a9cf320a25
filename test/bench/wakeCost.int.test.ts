// Smoke test of bench/wakeCostProbes.ts: both probes (a child process echoing over loopback TCP,
// a PostgreSQL backend inserting a row) answer in both modes, each side's CPU is read, and the
// spaced mode really waits between requests while back to back does not.
import { describe, expect, it } from "vitest";
import { measureWakeCost } from "../../bench/wakeCostProbes.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

// Skipped only when PostgreSQL is down outside CI; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("bench: what a wake-up costs", () => {
  it("measures each probe back to back and spaced, with the peer's and the client's CPU", {
    timeout: 60_000,
  }, async () => {
    const result = await measureWakeCost({
      count: 40,
      rate: 200,
      rounds: 2,
      pgUrl: serviceUrl("postgres"),
    });
    expect(result.measurements).toHaveLength(8);
    for (const m of result.measurements) {
      expect(m.peerUs).toBeGreaterThan(0);
      expect(m.clientUs).toBeGreaterThan(0);
      // Spaced: about the 5 ms pause per request (timers have 1 ms granularity); back to
      // back: well under it.
      if (m.mode === "spaced") expect(m.wallUs).toBeGreaterThanOrEqual(4_000);
      else expect(m.wallUs).toBeLessThan(4_000);
    }
    expect(result.summaries.map((s) => s.probe)).toEqual(["tcp echo", "postgres insert"]);
    for (const s of result.summaries) {
      expect(s.peerRatio).toBeCloseTo(s.spaced.peerUs / s.backToBack.peerUs, 9);
      expect(Number.isFinite(s.clientRatio)).toBe(true);
    }
  });
});
