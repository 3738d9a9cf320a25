// The memory DedupeStore: the shared contract, plus expiry driven by an injected clock.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { createMemoryDedupeStore } from "../../src/store/memory/dedupeStore.js";
import { testDedupeStore } from "../contracts/dedupeStore.js";

testDedupeStore("memory", () => createMemoryDedupeStore());

describe("memory DedupeStore with an injected clock", () => {
  it("expires leases and ttls on the clock's time, without real waits", async () => {
    const clock = new ManualClock(1_000_000);
    const store = createMemoryDedupeStore({ clock });
    const first = await store.claim("k", 30_000);
    if (!first.claimed) throw new Error("expected a claim");

    clock.advance(29_999);
    expect(await store.claim("k", 30_000)).toEqual({ claimed: false, state: "processing" });
    clock.advance(1);
    const second = await store.claim("k", 30_000);
    expect(second.claimed).toBe(true);
    if (!second.claimed) return;

    expect(await store.complete("k", second.token, 86_400_000)).toBe(true);
    clock.advance(86_399_999);
    expect(await store.claim("k", 30_000)).toEqual({ claimed: false, state: "done" });
    clock.advance(1);
    expect((await store.claim("k", 30_000)).claimed).toBe(true);
    await store.close?.();
  });

  it("forgets everything on close", async () => {
    const store = createMemoryDedupeStore();
    await store.claim("k", 60_000);
    await store.close?.();
    expect((await store.claim("k", 60_000)).claimed).toBe(true);
  });
});
