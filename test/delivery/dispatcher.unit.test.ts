// The dispatcher on the in-memory and SQLite delivery stores, plus what needs no real backend.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import { createPayloadValidator } from "../../packages/core/src/delivery/payloadSchema.js";
import type { EventTypeRecord } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { migratedSqlite } from "../helpers/sqlite.js";
import { START, testDispatcher } from "./dispatcherSuite.js";

testDispatcher("memory", async (clock) => ({
  store: createMemoryDeliveryStore({ clock }),
  async close() {},
}));

testDispatcher("sqlite", async (clock) => {
  const { db, cleanup } = migratedSqlite();
  return {
    store: createSqliteDeliveryStore(db, { clock }),
    async close() {
      cleanup();
    },
  };
});

describe("dispatcher", () => {
  it("pages through more endpoints than one listEndpoints page holds", async () => {
    const clock = new ManualClock(START);
    const store = createMemoryDeliveryStore({ clock });
    for (let i = 0; i < 1_205; i++) {
      await store.createEndpoint({
        target: `https://receiver.example/${i}`,
        eventTypes: [i % 2 === 0 ? "order.*" : "invoice.*"],
      });
    }
    const result = await createDispatcher({ store, clock }).dispatch({
      type: "order.created.v1",
      payload: {},
    });
    expect(result.deliveries).toBe(603);
    expect(new Set(result.deliveryIds).size).toBe(603);
  });

  it("refuses an invalid default retry policy when created", () => {
    const store = createMemoryDeliveryStore();
    expect(() => createDispatcher({ store, defaultRetry: { schedule_s: [-1] } })).toThrowError(
      expect.objectContaining({ code: "retry.invalid_policy" }),
    );
  });

  it("compiles each schema version once", () => {
    const validator = createPayloadValidator();
    const eventType: EventTypeRecord = {
      name: "order.created.v1",
      description: "",
      schema: { type: "object", required: ["id"] },
      deprecated: false,
      auto: false,
      firstSeenAt: null,
      lastSeenAt: null,
      count: 0,
      createdAt: "2025-01-01T00:00:00.000Z",
      updatedAt: "2025-01-01T00:00:00.000Z",
    };
    for (let i = 0; i < 5; i++) validator.validate(eventType, { id: i });
    expect(validator.size).toBe(1);
    expect(() => validator.validate(eventType, {})).toThrowError(
      expect.objectContaining({
        code: "payload.invalid",
        details: expect.objectContaining({ path: "/id" }),
      }),
    );
    validator.validate({ ...eventType, updatedAt: "2025-01-02T00:00:00.000Z" }, { id: 1 });
    expect(validator.size).toBe(2);
  });
});

describe("docs/dispatch.md", () => {
  it("quickstart", async () => {
    // #region dispatch-quickstart
    const store = createMemoryDeliveryStore();
    await store.upsertEventType({
      name: "order.created.v1",
      schema: {
        type: "object",
        required: ["id", "total"],
        properties: { id: { type: "string" }, total: { type: "number" } },
      },
    });
    await store.createEndpoint({ target: "https://a.example/hooks", eventTypes: ["order.*"] });
    await store.createEndpoint({ target: "https://b.example/hooks", eventTypes: ["invoice.*"] });

    const dispatcher = createDispatcher({ store });
    const first = await dispatcher.dispatch({
      type: "order.created.v1",
      payload: { id: "o_1", total: 42 },
      idempotencyKey: "order-o_1",
    });
    expect(first).toMatchObject({ deliveries: 1, created: true, duplicate: false });

    // The same key again: the first message comes back and nothing new is stored.
    const again = await dispatcher.dispatch({
      type: "order.created.v1",
      payload: { id: "o_1", total: 42 },
      idempotencyKey: "order-o_1",
    });
    expect(again).toMatchObject({ messageId: first.messageId, created: false, duplicate: true });

    // A payload that breaks the schema is refused with the failing path.
    await expect(
      dispatcher.dispatch({ type: "order.created.v1", payload: { id: "o_2", total: "42" } }),
    ).rejects.toMatchObject({ code: "payload.invalid", details: { path: "/total" } });
    // #endregion dispatch-quickstart
  });

  it("code blocks match their test regions", () => {
    const root = new URL("../../", import.meta.url);
    const read = (path: string) => readFileSync(new URL(path, root), "utf8");
    const region = (file: string, name: string) => {
      const match = new RegExp(
        `\\n([ \\t]*)// #region ${name}\\n([\\s\\S]*?)\\n[ \\t]*// #endregion ${name}\\n`,
      ).exec(read(file));
      if (match === null) throw new Error(`${file} has no #region ${name}`);
      const indent = match[1]!.length;
      return `${match[2]!
        .split("\n")
        .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
        .join("\n")}\n`;
    };
    const blocks = [
      ...read("docs/dispatch.md").matchAll(/<!-- region: (\S+)#(\S+) -->\n```ts\n([\s\S]*?)```/g),
    ];
    expect(blocks.length).toBeGreaterThan(0);
    for (const [, file, name, code] of blocks) expect(code).toBe(region(file!, name!));
  });
});
