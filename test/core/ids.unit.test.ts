import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  HeraldError,
  ID_PREFIXES,
  isId,
  isUuid,
  ManualClock,
  newId,
  newUuid,
  parseId,
} from "../../packages/core/src/index.js";

function idError(fn: () => unknown): HeraldError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    expect((error as HeraldError).code).toBe("id.invalid");
    return error as HeraldError;
  }
  throw new Error("expected an id.invalid error");
}

describe("newId / parseId", () => {
  it("makes <prefix>_<ULID> ids for every project prefix", () => {
    for (const prefix of ID_PREFIXES) {
      const id = newId(prefix);
      expect(id).toMatch(new RegExp(`^${prefix}_[0-7][0-9A-HJKMNP-TV-Z]{25}$`));
      expect(parseId(id, prefix).prefix).toBe(prefix);
    }
  });

  it("encodes the clock's time, readable back from the id", () => {
    const clock = new ManualClock(new Date("2024-05-01T12:00:00.123Z"));
    const parsed = parseId(newId("msg", { clock }));
    expect(parsed.timestamp).toBe(Date.parse("2024-05-01T12:00:00.123Z"));
    expect(parsed.ulid).toHaveLength(26);
  });

  it("stays strictly increasing within one millisecond and when the clock steps back", () => {
    const clock = new ManualClock(1_700_000_000_000);
    const ids = Array.from({ length: 1000 }, () => newId("dlv", { clock }));
    clock.advance(-5_000);
    ids.push(newId("dlv", { clock }));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("does not let a test clock in the future move system-clock ids forward", () => {
    newId("msg", { clock: new ManualClock(Date.parse("2100-01-01T00:00:00Z")) });
    const before = Date.now();
    const { timestamp } = parseId(newId("msg"));
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Date.now());
  });

  it("encodes a ManualClock left at the epoch as 1 ms", () => {
    expect(parseId(newId("evt", { clock: new ManualClock() })).timestamp).toBe(1);
  });

  it("rejects bad prefixes and clock times outside the ULID range", () => {
    for (const prefix of ["", "Msg", "msg_x", "toolongpre", "m1"]) {
      expect(idError(() => newId(prefix)).details).toEqual({ prefix });
    }
    idError(() => newId("msg", { clock: new ManualClock(-1) }));
    idError(() => newId("msg", { clock: new ManualClock(2 ** 48) }));
    idError(() => newId("msg", { clock: { now: () => Number.NaN } }));
  });

  it("rejects malformed ids and ids of another kind", () => {
    const good = newId("msg");
    const cases = [
      "",
      "msg",
      good.replace("_", "-"),
      `msg_${good.slice(4).toLowerCase()}`,
      `msg_${good.slice(4, -1)}`,
      `msg_${good.slice(4)}0`,
      "msg_8ZZZZZZZZZZZZZZZZZZZZZZZZZ", // time overflow
      "msg_01HNZX8JGFACFA36RBXDHEQN6U", // U is not Crockford base32
      `MSG_${good.slice(4)}`,
    ];
    for (const id of cases) {
      idError(() => parseId(id));
      expect(isId(id)).toBe(false);
    }
    const err = idError(() => parseId(good, "dlv"));
    expect(err.message).toContain('expected a "dlv_" id');
    expect(isId(good, "dlv")).toBe(false);
    expect(isId(good, "msg")).toBe(true);
    expect(isId(42)).toBe(false);
  });

  it("property: ids are unique, parse back, and sort by time", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ID_PREFIXES),
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 50 }),
        (prefix, steps) => {
          const clock = new ManualClock(1_600_000_000_000);
          const made = steps.map((step) => {
            clock.advance(step);
            return { id: newId(prefix, { clock }), at: clock.now() };
          });
          const ids = made.map((m) => m.id);
          expect(new Set(ids).size).toBe(ids.length);
          expect([...ids].sort()).toEqual(ids);
          for (const { id, at } of made) {
            const parsed = parseId(id, prefix);
            expect(`${parsed.prefix}_${parsed.ulid}`).toBe(id);
            expect(parsed.timestamp).toBe(at);
          }
        },
      ),
    );
  });
});

describe("newUuid / isUuid", () => {
  it("makes distinct lowercase v4 UUIDs", () => {
    const a = newUuid();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newUuid()).not.toBe(a);
    expect(isUuid(a)).toBe(true);
  });

  it("accepts canonical UUIDs of any version and case, rejects the rest", () => {
    expect(isUuid("018f2b9e-6a1c-7cc3-9b4e-1a2b3c4d5e6f")).toBe(true); // v7
    expect(isUuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")).toBe(true);
    for (const bad of [
      "00000000-0000-0000-0000-000000000000",
      "a0eebc999c0b4ef8bb6d6bb9bd380a11",
      "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
      "a0eebc99-9c0b-4ef8-cb6d-6bb9bd380a11",
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
      42,
      undefined,
    ]) {
      expect(isUuid(bad)).toBe(false);
    }
  });
});
