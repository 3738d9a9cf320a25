// The fanout benchmark's flatness: the cost each added endpoint costs between consecutive
// sizes (not the mean, which at 1 endpoint is the fixed per-message part), flat within 2×.
import { describe, expect, it } from "vitest";
import { flatness } from "../../bench/fanout.bench.js";
import type { SizeFigure } from "../../bench/fanout.js";

const size = (endpoints: number, msPerMessage: number): SizeFigure => ({
  endpoints,
  msPerMessage,
  usPerEndpoint: (msPerMessage * 1000) / endpoints,
  spread: 0,
  samples: 1,
});

describe("fanout flatness", () => {
  it("a fixed part plus a constant part per endpoint is flat, however large the fixed part", () => {
    const f = flatness([size(1, 5.05), size(100, 10), size(1000, 55), size(10_000, 505)]);
    expect(f.marginalUs.map((us) => Math.round(us))).toEqual([50, 50, 50]);
    expect(f.ratio).toBeCloseTo(1, 6);
  });

  it("a part per endpoint that grows with the fan-out is not", () => {
    const f = flatness([size(1, 1), size(100, 10.9), size(1000, 190.9), size(10_000, 5590.9)]);
    expect(f.marginalUs.map((us) => Math.round(us))).toEqual([100, 200, 600]);
    expect(f.ratio).toBeCloseTo(6, 6);
  });

  it("a cost that fell between two sizes (noise) is never called flat", () => {
    expect(flatness([size(1, 5), size(100, 4), size(1000, 50)]).ratio).toBe(Infinity);
  });
});
