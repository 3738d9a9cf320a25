// Smoke test: the append-pg benchmark starts both contenders on PostgreSQL, times them, reports
// a ratio and drops its schemas, on a tiny size (`npm run bench -- append-pg` is the real run).
import pg from "pg";
import { describe, expect, it } from "vitest";
import { runAppendBench } from "../../bench/append.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

describe.skipIf(!available)("bench: append-pg", () => {
  it("times Herald and Emmett, one statement per Herald append, and cleans up", async () => {
    const url = serviceUrl("postgres");
    const { result, table } = await runAppendBench({
      url,
      writers: 4,
      poolSize: 4,
      runMs: 300,
      runs: 2,
      warmupMs: 100,
    });
    expect(result.results.map((r) => r.name)).toEqual([
      "herald createPostgresEventStore",
      "emmett getPostgreSQLEventStore",
    ]);
    for (const r of result.results) {
      expect(r.runs).toHaveLength(2);
      expect(r.median).toBeGreaterThan(0);
    }
    expect(result.results[0]!.statementsPerAppend).toBe(1);
    expect(result.ratio).toBeGreaterThan(0);
    expect(table).toContain("emmett getPostgreSQLEventStore");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT nspname FROM pg_namespace WHERE nspname = ANY ($1::text[])",
        [result.schemas],
      );
      expect(result.schemas).toHaveLength(2);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
