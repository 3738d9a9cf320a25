// Which listening worker claims what a PostgreSQL notice announces (wakeUpTurns.ts): one listener's
// turn, the others' backup; a notice without a turn, or a listener that cannot place itself, claims.
import { describe, expect, it } from "vitest";
import {
  listenersLockKey,
  NOTIFY_DELIVERIES,
  turnOf,
  wakeUpFor,
} from "../../packages/postgres/src/store/postgres/wakeUpTurns.js";

describe("wakeUpFor", () => {
  const listeners = [101, 202, 303];

  it("gives each notice to exactly one listener and the others a backup", () => {
    for (let turn = 1_000; turn < 1_200; turn++) {
      const wakeUps = listeners.map((self) =>
        wakeUpFor(`herald ${turn}`, "herald", listeners, self),
      );
      expect(wakeUps.filter((w) => w === "claim")).toHaveLength(1);
      expect(wakeUps.filter((w) => w === "backup")).toHaveLength(2);
      expect(wakeUps.indexOf("claim")).toBe(turnOf(turn, listeners.length));
    }
  });

  it("ignores another schema's notices, with or without a turn", () => {
    expect(wakeUpFor("other 7", "herald", listeners, 101)).toBeNull();
    expect(wakeUpFor("other", "herald", listeners, 101)).toBeNull();
    expect(wakeUpFor("herald_x 7", "herald", listeners, 101)).toBeNull();
    expect(wakeUpFor("", "herald", listeners, 101)).toBeNull();
  });

  it("claims when no turn can be chosen", () => {
    // A payload of the schema alone (older Herald): every listener claims.
    for (const self of listeners)
      expect(wakeUpFor("herald", "herald", listeners, self)).toBe("claim");
    // Not yet among the lock's holders (the list is read every few seconds).
    expect(wakeUpFor("herald 7", "herald", listeners, 404)).toBe("claim");
    expect(wakeUpFor("herald 7", "herald", [], 404)).toBe("claim");
    // The only listener.
    for (let turn = 0; turn < 10; turn++) {
      expect(wakeUpFor(`herald ${turn}`, "herald", [101], 101)).toBe("claim");
    }
    // A turn that is not a non-negative integer.
    for (const turn of ["x", "-1", "1.5", "", "1e400"]) {
      expect(wakeUpFor(`herald ${turn}`, "herald", listeners, 202)).toBe("claim");
    }
  });
});

describe("turnOf", () => {
  it("spreads transaction ids in any fixed step over the listeners", () => {
    for (const count of [2, 3, 4, 8]) {
      for (const step of [1, 2, 3, 4, 8, 12]) {
        const hits = new Array<number>(count).fill(0);
        const notices = 400 * count;
        for (let i = 0; i < notices; i++) hits[turnOf(5_000_000 + i * step, count)]!++;
        for (const n of hits) {
          // A plain modulo would put every notice on one listener when step % count is 0.
          expect(n).toBeGreaterThan(notices / count / 2);
          expect(n).toBeLessThan((notices / count) * 1.5);
        }
      }
    }
  });

  it("stays in range for ids past 2^32", () => {
    for (const turn of [0, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 17, Number.MAX_SAFE_INTEGER]) {
      const t = turnOf(turn, 3);
      expect(Number.isInteger(t) && t >= 0 && t < 3).toBe(true);
    }
  });
});

describe("listenersLockKey and the notice", () => {
  it("keys a schema by a stable non-negative int4, different per schema", () => {
    const keys = ["public", "herald", "tenant_a", "tenant_b"].map(listenersLockKey);
    for (const key of keys) expect(Number.isInteger(key) && key >= 0 && key < 2 ** 31).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    expect(listenersLockKey("herald")).toBe(listenersLockKey("herald"));
  });

  it("notifies the schema followed by the transaction's id", () => {
    expect(NOTIFY_DELIVERIES).toBe(
      "SELECT pg_notify('herald_deliveries', current_schema() || ' ' || txid_current())",
    );
  });
});
