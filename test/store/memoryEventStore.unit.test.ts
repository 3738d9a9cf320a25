// The memory EventStore: the shared contract, the injected clock, and the docs quick start.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createMemoryEventStore } from "../../packages/core/src/store/memory/eventStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { event, testEventStore, uniqueStream } from "../contracts/eventStore.js";

testEventStore("memory", (options) => createMemoryEventStore(options));

describe("memory EventStore with an injected clock", () => {
  it("stamps occurredAt (when absent) and committedAt from the clock", async () => {
    const clock = new ManualClock(new Date("2030-01-02T03:04:05.678Z"));
    const store = createMemoryEventStore({ clock });
    const { events } = await store.append(uniqueStream(), [event({ occurredAt: undefined })]);
    expect(events[0]!.envelope.occurredAt).toBe("2030-01-02T03:04:05.678Z");
    expect(events[0]!.committedAt).toBe("2030-01-02T03:04:05.678Z");
  });
});

describe("docs/events.md", () => {
  it("the quick start appends, publishes, loads and relays", async () => {
    // #region events-quickstart
    const store = createMemoryEventStore(); // or createSqliteEventStore(db), createPostgresEventStore(pool)

    // expectedVersion 0: the stream must not exist yet.
    const placed = await store.append(
      "order/123",
      [{ type: "order.placed.v1", source: "shop", payload: { total: 42 } }],
      { expectedVersion: 0 },
    );
    expect(placed).toMatchObject({ fromVersion: 1, toVersion: 1, idempotent: false });

    // publish = append + outbox, in one transaction; here the head must be 1.
    await store.publish("order/123", 1, [
      { type: "order.paid.v1", source: "shop", payload: { amount: 42 } },
    ]);
    const history = await store.load("order/123");
    expect(history.map((e) => e.envelope.aggregate)).toEqual([
      { type: "order", id: "123", version: 1 },
      { type: "order", id: "123", version: 2 },
    ]);

    // A relay reads the outbox on from its saved checkpoint, in commit order.
    const after = await store.getCheckpoint("bus-relay");
    const { events, checkpoint } = await store.readOutbox({ after, limit: 100 });
    expect(events.map((e) => e.envelope.type)).toEqual(["order.paid.v1"]);
    if (checkpoint !== undefined) await store.saveCheckpoint("bus-relay", checkpoint);
    // #endregion events-quickstart
  });

  it("shows the quick start verbatim", () => {
    const source = readFileSync(new URL(import.meta.url), "utf8");
    const region = /\/\/ #region events-quickstart\n([\s\S]*?)\n\s*\/\/ #endregion/.exec(
      source,
    )![1]!;
    const code = region.replace(/^ {4}/gm, "");
    const doc = readFileSync(new URL("../../docs/events.md", import.meta.url), "utf8");
    expect(doc).toContain(`\`\`\`ts\n${code}\n\`\`\``);
  });
});
