// The event store on one SQLite file: an append checked against the expected version, then
// a publish that stores the events and their outbox record in one transaction.
import { createSqliteEventStore, migrateSqlite, openSqlite } from "@heraldjs/sqlite";

export async function placeAndPay(path = "./herald.db") {
  const db = openSqlite(path); // WAL with synchronous=FULL: a commit survives power loss
  migrateSqlite(db);
  const store = createSqliteEventStore(db);
  try {
    // expectedVersion 0: the stream must not exist yet; a racing writer gets
    // stream.version_conflict with the actual version.
    await store.append(
      "order/123",
      [{ type: "order.placed.v1", source: "shop", payload: { total: 42 } }],
      { expectedVersion: 0 },
    );
    // Head must be 1; a forwarder relays what publish stores to NATS JetStream.
    return await store.publish("order/123", 1, [
      { type: "order.paid.v1", source: "shop", payload: { amount: 42 } },
    ]);
  } finally {
    await store.close();
    db.close();
  }
}
