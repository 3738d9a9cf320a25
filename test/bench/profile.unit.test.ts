// The CPU-profile summary behind docs/benchmarks.md's flame-graph figures: shares of busy time,
// idle left out, a recursive function counted once per sample.
import { describe, expect, it } from "vitest";
import { type CpuProfile, summarizeProfile } from "../../bench/profile.js";

const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 0 });

// (root) → handle → verify, handle → handle (recursion) → parse; (idle) beside them.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)"), children: [2, 5] },
    { id: 2, callFrame: frame("handle", "file:///app/dist/server/x.js"), children: [3, 4] },
    { id: 3, callFrame: frame("verify", "file:///app/node_modules/pkg/v.js") },
    { id: 4, callFrame: frame("handle", "file:///app/dist/server/x.js"), children: [6] },
    { id: 5, callFrame: frame("(idle)") },
    { id: 6, callFrame: frame("parse") },
  ],
  // µs per sample: verify 300, handle itself 100, parse via the recursion 600, idle 1,000.
  samples: [3, 2, 6, 5, 6],
  timeDeltas: [300, 100, 400, 1000, 200],
};

describe("summarizeProfile", () => {
  it("gives self and inclusive shares of the busy time", () => {
    const summary = summarizeProfile(profile);
    expect(summary.totalS).toBeCloseTo(0.002, 9);
    expect(summary.idleS).toBeCloseTo(0.001, 9);
    expect(summary.busyS).toBeCloseTo(0.001, 9);
    expect(summary.self).toEqual([
      { name: "parse", share: 0.6 },
      { name: "verify pkg/v.js:1", share: 0.3 },
      { name: "handle dist/server/x.js:1", share: 0.1 },
    ]);
    expect(summary.inclusive).toEqual([
      { name: "handle dist/server/x.js:1", share: 1 },
      { name: "parse", share: 0.6 },
      { name: "verify pkg/v.js:1", share: 0.3 },
    ]);
  });

  it("keeps the top N", () => {
    const summary = summarizeProfile(profile, 1);
    expect(summary.self.map((s) => s.name)).toEqual(["parse"]);
    expect(summary.inclusive.map((s) => s.name)).toEqual(["handle dist/server/x.js:1"]);
  });
});
