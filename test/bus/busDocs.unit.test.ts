// docs/bus.md's examples are these regions, verbatim: the memory quick start runs here, the
// NATS one in natsBus.int.test.ts against a real server.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { inboxHandler } from "../../packages/core/src/bus/inboxHandler.js";
import { createMemoryBus } from "../../packages/core/src/bus/memory.js";
import { createForwarder } from "../../packages/core/src/events/forwarder.js";
import { createMemoryEventStore } from "../../packages/core/src/store/memory/eventStore.js";
import { createMemoryDedupeStore } from "../../packages/webhooks/src/store/memory/dedupeStore.js";
import { waitFor } from "./waitFor.js";

function region(file: string, name: string): string {
  const source = readFileSync(new URL(file, import.meta.url), "utf8");
  const found = new RegExp(`// #region ${name}\\n([\\s\\S]*?)\\n\\s*// #endregion`).exec(source);
  if (found === null) throw new Error(`no region ${name} in ${file}`);
  const code = found[1]!;
  const indent = /^ */.exec(code)![0].length;
  return code.replace(new RegExp(`^ {${indent}}`, "gm"), "");
}

describe("docs/bus.md", () => {
  it("memory quick start: publish → outbox → forwarder → bus → inbox handler", async () => {
    // #region bus-quickstart
    const store = createMemoryEventStore();
    const bus = createMemoryBus();
    const dedupe = createMemoryDedupeStore();

    // A durable consumer whose handler runs once per event id (the inbox).
    const handled: string[] = [];
    const subscription = await bus.consumer.subscribe({
      durable: "projector",
      filterSubjects: ["herald.shop.order.>"],
      handler: inboxHandler((event) => void handled.push(event.type), {
        consumer: "projector",
        dedupe,
      }),
    });

    // publish = append + outbox in one transaction; the forwarder relays the outbox.
    await store.publish("order/123", 0, [
      { type: "order.placed.v1", source: "shop", payload: { total: 42 } },
    ]);
    const forwarder = createForwarder({ store, publisher: bus.publisher });
    await forwarder.runOnce(); // or forwarder.start() to poll, forwarder.stop() to end
    expect(bus.messages().map((m) => m.message.subject)).toEqual([
      "herald.shop.order.order.placed.v1",
    ]);
    // #endregion bus-quickstart
    await waitFor(() => handled.length === 1);
    await subscription.stop();
    expect(handled).toEqual(["order.placed.v1"]);
  });

  it("shows the examples verbatim", () => {
    const doc = readFileSync(new URL("../../docs/bus.md", import.meta.url), "utf8");
    for (const [file, name] of [
      ["./busDocs.unit.test.ts", "bus-quickstart"],
      ["./natsBus.int.test.ts", "nats-quickstart"],
      ["./natsBus.int.test.ts", "nats-shutdown"],
    ] as const) {
      expect(doc).toContain(`\`\`\`ts\n${region(file, name)}\n\`\`\``);
    }
  });
});
