// Generic plans made while a table was small are dropped as it grows (database.ts,
// replanAsTablesGrow): a prepared statement whose generic plan scanned a 10-row table whole
// finds rows by index once the table holds 100,000 and the connection's refresh came, even
// though nothing analyzed the table (its autovacuum is off here).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

// Skipped only when PostgreSQL is down outside CI; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("postgres pool: plans made again as tables grow", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    // One connection, so the statement, its plan and the refresh share one session.
    schema = await createTestSchema("replan", { migrate: false, max: 1 });
  });

  afterAll(async (suite) => {
    await schema?.dropIfPassed(suite);
  });

  const lookup = {
    name: "replan_lookup",
    text: "SELECT v FROM items WHERE id = ANY($1::text[])",
  };
  const plan = async () => {
    const { rows } = await schema.pool.query<{ "QUERY PLAN": string }>(
      "EXPLAIN EXECUTE replan_lookup('{k1,k2}')",
    );
    return rows.map((row) => row["QUERY PLAN"]).join("\n");
  };

  it("drops a generic plan made on a 10-row table once the table has grown", async () => {
    const { pool } = schema;
    await pool.query(
      "CREATE TABLE items (id text PRIMARY KEY, v integer) WITH (autovacuum_enabled = false)",
    );
    await pool.query("INSERT INTO items SELECT 'k' || i, i FROM generate_series(1, 10) i");
    // Analyzed at 10 rows (one page), as autovacuum analyzes a young table.
    await pool.query("ANALYZE items");
    await pool.query("SET plan_cache_mode = force_generic_plan");
    const { rows } = await pool.query<{ v: number }>({ ...lookup, values: [["k3"]] });
    expect(rows).toEqual([{ v: 3 }]);
    expect(await plan()).toMatch(/Seq Scan on items/);

    await pool.query("INSERT INTO items SELECT 'k' || i, i FROM generate_series(11, 100000) i");
    // Nothing analyzed the table: the plan made at 10 rows is still the one used.
    expect(await plan()).toMatch(/Seq Scan on items/);

    // The connection opened more than a second ago: the next time it is taken from the pool,
    // its plans are dropped first.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await plan()).toMatch(
      /Index (Only )?Scan using items_pkey|Bitmap Index Scan on items_pkey/,
    );
    const again = await pool.query<{ v: number }>({ ...lookup, values: [["k99999"]] });
    expect(again.rows).toEqual([{ v: 99999 }]);
  });
});
