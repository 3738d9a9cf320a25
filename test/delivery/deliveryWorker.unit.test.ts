// The delivery worker's contract suite on the in-memory store and on SQLite; PostgreSQL runs it
// in deliveryWorker.int.test.ts.
import { describe, expect, it } from "vitest";
import { createDeliveryWorker } from "../../packages/core/src/delivery/deliveryWorker.js";
import { createHttpTransport } from "../../packages/core/src/delivery/transports/http.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migratedSqlite } from "../helpers/sqlite.js";
import { testDeliveryWorker } from "./deliveryWorkerSuite.js";

testDeliveryWorker("memory", async (clock) => ({
  store: createMemoryDeliveryStore({ clock }),
  async close() {},
}));

testDeliveryWorker("sqlite", async (clock) => {
  const { db, cleanup } = migratedSqlite();
  return {
    store: createSqliteDeliveryStore(db, { clock }),
    async close() {
      cleanup();
    },
  };
});

describe("createDeliveryWorker options", () => {
  it("rejects a concurrency below 1", () => {
    expect(() =>
      createDeliveryWorker({ store: createMemoryDeliveryStore(), transports: {}, concurrency: 0 }),
    ).toThrow(expect.objectContaining({ code: "config.invalid" }));
  });

  it("names itself with a unique owner by default", () => {
    const store = createMemoryDeliveryStore();
    const a = createDeliveryWorker({ store, transports: {} });
    const b = createDeliveryWorker({ store, transports: {} });
    expect(a.owner).toMatch(/^worker_/);
    expect(a.owner).not.toBe(b.owner);
  });

  it("runs in the background and stops gracefully (docs/worker.md)", async () => {
    const events: string[] = [];
    // #region worker-example
    const store = createMemoryDeliveryStore();
    const http = createHttpTransport();
    const worker = createDeliveryWorker({ store, transports: { http }, concurrency: 10 });
    worker.on("delivery:dead_lettered", (e) => events.push(`${e.deliveryId}: ${e.reason}`));
    worker.start();
    // … on SIGTERM: stop claiming, finish the sends in flight, give back the rest
    await worker.stop();
    await http.close();
    // #endregion worker-example
    expect(events).toEqual([]);
  });
});
