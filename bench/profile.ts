// Summarises a V8 CPU profile (`.cpuprofile`, as `node --cpu-prof` writes one per thread) as the
// flame graph's largest items: self and inclusive time of each function, as a share of the
// thread's busy (non-idle) time. The ingest figures in docs/benchmarks.md come from it:
//
//   HERALD_BENCH_CPU_PROF=/tmp/prof npm run bench -- ingest-sqlite
//   npx vite-node bench/profileSummary.ts /tmp/prof/CPU.*.cpuprofile [--top 30]
// (that command line is bench/profileSummary.ts; this module is its arithmetic).

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Seconds sampled, idle (waiting in the event loop) and busy. */
  totalS: number;
  idleS: number;
  busyS: number;
  /** Functions by the share of busy time spent in them (self) or under them (inclusive). */
  self: { name: string; share: number }[];
  inclusive: { name: string; share: number }[];
}

/** `name file:line`, with paths shortened to the package or to dist/. */
function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/.*node_modules\//, "").replace(/.*\/dist\//, "dist/");
  return file === ""
    ? functionName || "(anonymous)"
    : `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
}

export function summarizeProfile(profile: CpuProfile, top = 30): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const timeOf = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    timeOf.set(id, (timeOf.get(id) ?? 0) + dt);
    total += dt;
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  for (const [id, time] of timeOf) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") {
      idle += time;
      continue;
    }
    const name = label(node);
    self.set(name, (self.get(name) ?? 0) + time);
    // Each function once per sample, however often it recurs on the stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = label(byId.get(at)!);
      if (frame === "(root)" || seen.has(frame)) continue;
      seen.add(frame);
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + time);
    }
  }
  const busy = total - idle;
  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, time]) => ({ name, share: busy > 0 ? time / busy : 0 }));
  return {
    totalS: total / 1e6,
    idleS: idle / 1e6,
    busyS: busy / 1e6,
    self: ranked(self),
    inclusive: ranked(inclusive),
  };
}
