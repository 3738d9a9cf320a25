// The memory DedupeStore: the shared contracts (expiry driven by an injected clock among them),
// plus what only memory does.
import { describe, expect, it } from "vitest";
import { createMemoryDedupeStore } from "../../packages/webhooks/src/store/memory/dedupeStore.js";
import { testDedupeStore, testDedupeStoreClock } from "../contracts/dedupeStore.js";

testDedupeStore("memory", () => createMemoryDedupeStore());

testDedupeStoreClock("memory", (clock) => createMemoryDedupeStore({ clock }));

describe("memory DedupeStore", () => {
  it("forgets everything on close", async () => {
    const store = createMemoryDedupeStore();
    await store.claim("k", 60_000);
    await store.close?.();
    expect((await store.claim("k", 60_000)).claimed).toBe(true);
  });
});
