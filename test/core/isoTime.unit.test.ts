import { describe, expect, it } from "vitest";
import { isoTime } from "../../packages/core/src/core/isoTime.js";

describe("isoTime", () => {
  it("matches toISOString for whole milliseconds, across seconds and years", () => {
    const starts = [0, 1, 999, 1000, 1_763_800_000_000, 951_782_399_990, 253_402_300_799_000];
    for (const start of starts) {
      for (let ms = start; ms < start + 2500; ms += 7) {
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }
    }
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * 253_402_300_800_000);
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it("falls back to Date for fractions, negatives and far years (same text, same errors)", () => {
    for (const ms of [1.5, -1, -62_198_755_200_001, 253_402_300_800_000, 8.64e15]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
  });
});
