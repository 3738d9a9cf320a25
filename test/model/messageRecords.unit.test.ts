// `MessageInput.payloadText`: the JSON text a payload was parsed from is what the adapters
// store, checked like any payload text but not parsed or serialised again.
import { describe, expect, it } from "vitest";
import type { CreateMessageInput } from "../../packages/core/src/model/deliveryOperations.js";
import { newMessageRecords, payloadJson } from "../../packages/core/src/model/messageRecords.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { migrateSqlite } from "../../packages/sqlite/src/store/sqlite/migrate.js";

const clock = { now: () => Date.parse("2026-01-01T00:00:00.000Z") };
const NOW = "2026-01-01T00:00:00.000Z";

function build(payload: unknown, payloadText?: string) {
  const input = { message: { type: "a.b", payload, payloadText }, deliveries: [] };
  return newMessageRecords(input as CreateMessageInput, NOW, clock);
}

describe("payloadText", () => {
  it("is the text stored for the payload; without it the payload is serialised", () => {
    const text = '{ "b": [1, 2.50], "big": 12345678901234567890 }';
    const record = build(JSON.parse(text), text);
    expect(payloadJson(record)).toBe(text);
    expect(record.message.payload).toEqual(JSON.parse(text));
    expect(payloadJson(build({ b: [1, 2.5] }))).toBe('{"b":[1,2.5]}');
    expect(payloadJson(build(42, " 42 "))).toBe(" 42 ");
  });

  it("is checked as payload text: depth and text no store can hold", () => {
    const deep = `${"[".repeat(65)}${"]".repeat(65)}`;
    expect(() => build(JSON.parse(deep), deep)).toThrow(
      expect.objectContaining({ code: "message.invalid" }),
    );
    expect(() => build({ a: "\u0000" }, '{"a":"\\u0000"}')).toThrow(
      expect.objectContaining({ code: "message.invalid" }),
    );
    expect(() => build({}, 1 as unknown as string)).toThrow(
      expect.objectContaining({ code: "message.invalid" }),
    );
    expect(() => build(undefined, "{}")).toThrow(
      expect.objectContaining({ code: "message.invalid" }),
    );
  });

  it("a number that overflows to Infinity is refused as in any payload", () => {
    const text = '{"n":1e999}';
    expect(() => build(JSON.parse(text), text)).toThrow(
      expect.objectContaining({ code: "message.invalid" }),
    );
  });

  it("is the payload: text that is not JSON is refused, and its value is what is stored", () => {
    for (const text of ["not json", '{"a":1', "{}}"]) {
      expect(() => build({ a: 1 }, text)).toThrow(
        expect.objectContaining({ code: "message.invalid" }),
      );
    }
    const record = build({ a: 1 }, '{"a":2}');
    expect(record.message.payload).toEqual({ a: 2 });
    expect(payloadJson(record)).toBe('{"a":2}');
  });

  it("reads back the same on memory and SQLite", async () => {
    const db = openSqlite(":memory:");
    await migrateSqlite(db);
    for (const store of [createMemoryDeliveryStore(), createSqliteDeliveryStore(db)]) {
      const created = await store.createMessage({
        message: { type: "a.b", payload: { a: 1 }, payloadText: '{"a":2,"n":1.50}' },
        deliveries: [],
      });
      const back = await store.getMessage(created.message.id);
      expect(back?.message.payload).toEqual({ a: 2, n: 1.5 });
      await expect(
        store.createMessage({
          message: { type: "a.b", payload: { a: 1 }, payloadText: "not json" },
          deliveries: [],
        }),
      ).rejects.toMatchObject({ code: "message.invalid" });
      await store.close();
    }
    db.close();
  });
});
