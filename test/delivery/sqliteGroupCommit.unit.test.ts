// The SQLite group commit: the lease-guarded writes of one turn share a transaction without a
// savepoint each; a write that fails once it has started writing (a database error, here a
// trigger) makes the group run again with savepoints, so only that write fails and nothing of
// it stays, while the others of the group commit.
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { okAttempt } from "../helpers/deliveryRecords.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

const LEASE_MS = 60_000;

/** A trigger that aborts the statement writing the row of `table` whose `column` is `id`. */
function failWritesOf(
  db: MigratedSqlite["db"],
  statement: "INSERT" | "UPDATE",
  table: string,
  column: string,
  id: string,
): void {
  db.exec(`CREATE TRIGGER fail_one BEFORE ${statement} ON ${table} WHEN NEW.${column} = '${id}'
    BEGIN SELECT RAISE(ABORT, 'boom'); END`);
}

describe("SQLite group commit", () => {
  let file: MigratedSqlite | undefined;
  afterEach(() => file?.cleanup());

  async function setUp(count: number) {
    file = migratedSqlite();
    const store = createSqliteDeliveryStore(file.db);
    const endpoint = await store.createEndpoint({
      target: "https://example.com/hook",
      eventTypes: ["order.*"],
      secrets: [{ secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }],
    });
    await store.createMessages(
      Array.from({ length: count }, (_, i) => ({
        message: { type: "order.created", payload: { i } },
        deliveries: [{ endpointId: endpoint.id, maxAttempts: 5 }],
      })),
    );
    const claimed = await store.claimDueDeliveries({ owner: "w", limit: count, leaseMs: LEASE_MS });
    return { store, db: file.db, ids: claimed.map((c) => c.delivery.id) };
  }

  it("commits the writes of one turn together, each numbered after the earlier attempts", async () => {
    const { store, db, ids } = await setUp(5);
    const now = Date.now();
    const done = await Promise.all(
      ids.map((deliveryId) =>
        store.completeDelivery({ deliveryId, owner: "w", now, attempt: okAttempt(now) }),
      ),
    );
    expect(done.map((d) => d.status)).toEqual(Array(5).fill("delivered"));
    const rows = db
      .prepare("SELECT delivery_id, attempt_number FROM attempts ORDER BY delivery_id")
      .all() as { delivery_id: string; attempt_number: number }[];
    expect(rows).toEqual([...ids].sort().map((id) => ({ delivery_id: id, attempt_number: 1 })));
  });

  it("a lost lease and a database error half-way fail only their own writes", async () => {
    const { store, db, ids } = await setUp(4);
    const [ok1, broken, lost, ok2] = ids as [string, string, string, string];
    // The attempt INSERT of `broken` fails after the lease check passed.
    failWritesOf(db, "INSERT", "attempts", "delivery_id", broken);
    const now = Date.now();
    const results = await Promise.allSettled([
      store.completeDelivery({ deliveryId: ok1, owner: "w", now, attempt: okAttempt(now) }),
      store.completeDelivery({ deliveryId: broken, owner: "w", now, attempt: okAttempt(now) }),
      store.completeDelivery({ deliveryId: lost, owner: "other", now, attempt: okAttempt(now) }),
      store.completeDelivery({ deliveryId: ok2, owner: "w", now, attempt: okAttempt(now) }),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({
      code: "delivery.lease_lost",
    });
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/boom/);
    const status = (id: string) =>
      (db.prepare("SELECT status FROM deliveries WHERE id = ?").get(id) as { status: string })
        .status;
    expect([ok1, broken, lost, ok2].map(status)).toEqual([
      "delivered",
      "delivering",
      "delivering",
      "delivered",
    ]);
    const logged = db.prepare("SELECT delivery_id FROM attempts ORDER BY delivery_id").all() as {
      delivery_id: string;
    }[];
    expect(logged.map((r) => r.delivery_id)).toEqual([ok1, ok2].sort());
    // The failure run of the endpoint was not touched by the undone write.
    const endpoint = db.prepare("SELECT consecutive_failures FROM endpoints").get() as {
      consecutive_failures: number;
    };
    expect(endpoint.consecutive_failures).toBe(0);
  });

  it("a success undone by its savepoint does not spare the next success its failure-run reset", async () => {
    const { store, db, ids } = await setUp(2);
    const [broken, ok] = ids as [string, string];
    db.exec("UPDATE endpoints SET consecutive_failures = 2, failing_since = 1");
    // `broken` logs its attempt and resets the failure run, then its write-back fails: its
    // savepoint undoes both, so `ok` must reset the run itself.
    failWritesOf(db, "UPDATE", "deliveries", "id", broken);
    const now = Date.now();
    const results = await Promise.allSettled([
      store.recordAttempt({ deliveryId: broken, owner: "w", now, attempt: okAttempt(now) }),
      store.recordAttempt({ deliveryId: ok, owner: "w", now, attempt: okAttempt(now) }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect((results[1] as PromiseFulfilledResult<{ endpointHealth: unknown }>).value).toMatchObject(
      { endpointHealth: { consecutiveFailures: 0, failingSince: null } },
    );
    expect(db.prepare("SELECT consecutive_failures, failing_since FROM endpoints").get()).toEqual({
      consecutive_failures: 0,
      failing_since: null,
    });
  });
});
