// Smoke test of bench/deliverSqliteStatements.ts on a small size: every seeded delivery is
// claimed and completed through the real SQLite store, and the timed statements are the
// store's own — one attempt row and one delivery write-back per delivery, claims by the batch,
// each transaction's BEGIN and COMMIT.
import { describe, expect, it } from "vitest";
import {
  measureDeliveryStatements,
  TRANSACTION_LABEL,
} from "../../bench/deliverSqliteStatements.js";

describe("bench: a delivery's SQLite statements", () => {
  it("times each statement of the claim and the results, per delivery", async () => {
    const result = await measureDeliveryStatements({ deliveries: 330, claimLimit: 66 });
    expect(result.deliveries).toBe(330);
    const calls = (prefix: string) =>
      result.statements
        .filter((s) => s.statement.startsWith(prefix))
        .reduce((sum, s) => sum + s.perDelivery, 0);
    expect(calls("INSERT INTO attempts")).toBe(1);
    // One write-back per delivery, and one claim statement per batch of 66.
    expect(calls("UPDATE deliveries SET")).toBe(1);
    const claims = result.statements.find((s) => s.statement === "UPDATE deliveries");
    expect(claims!.perDelivery * 330).toBeCloseTo(5, 6);
    // 5 claims, 10 result groups of 33 and the empty claim that ends the run.
    expect(calls(TRANSACTION_LABEL) * 330).toBeCloseTo(16, 6);
    for (const s of result.statements) expect(s.usPerDelivery).toBeGreaterThan(0);
    expect(result.statementsUs).toBeLessThanOrEqual(result.storeCallsUs);
    expect(result.cpuUs).toBeGreaterThan(0);
  });

  it("spreads the deliveries over several endpoints", async () => {
    const health = async (endpoints: number) => {
      const result = await measureDeliveryStatements({ deliveries: 66, endpoints });
      expect(result).toMatchObject({ deliveries: 66, endpoints });
      const statement = result.statements.find((s) => s.statement === "UPDATE endpoints SET");
      return Math.round(statement!.perDelivery * 66);
    };
    // The endpoint's failure run is looked at once per endpoint in each group of 33 results:
    // 2 groups, each with the one endpoint or with all ten.
    expect(await health(1)).toBe(2);
    expect(await health(10)).toBe(20);
  });

  it("drops the named indexes first", async () => {
    const result = await measureDeliveryStatements({
      deliveries: 66,
      drop: ["deliveries_created", "deliveries_status"],
    });
    expect(result.dropped).toEqual(["deliveries_created", "deliveries_status"]);
    expect(result.deliveries).toBe(66);
  });
});
