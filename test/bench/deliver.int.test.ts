// Smoke test: deliver-pg runs Herald's worker processes and the pg-boss baseline on the real
// PostgreSQL, on a tiny size, and reports both rates and their ratio.
import { describe, expect, it } from "vitest";
import { runDeliverPg } from "../../bench/deliver.bench.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("bench: deliver-pg", () => {
  it("times Herald and pg-boss with 1 and 2 processes", { timeout: 30_000 }, async () => {
    const { result, table } = await runDeliverPg({ quick: true, url: serviceUrl("postgres") });
    expect(result.pairs.map((p) => p.processes)).toEqual([1, 2]);
    for (const pair of result.pairs) {
      expect(pair.herald.runs[0]?.delivered).toBe(result.n);
      expect(pair.pgBoss.runs[0]?.delivered).toBe(result.n);
      expect(pair.ratio).toBeGreaterThan(0);
    }
    expect(table).toContain("pg-boss");
  });
});
