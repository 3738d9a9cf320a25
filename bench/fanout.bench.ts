// `fanout`: one message to 1, 100, 1,000 and 10,000 matching endpoints on SQLite and
// PostgreSQL (bench/fanout.ts says how each phase runs). Reports the cost per endpoint of
// storing the message with its deliveries and of delivering them through a built `herald
// worker` to a local receiver (until the store holds every one as delivered), whether that
// cost stays flat (Flatness: what an added endpoint costs between consecutive sizes, the
// largest within 2× of the smallest), and the routing time per message with 10,000 endpoints
// (target < 1 ms) against listing every endpoint per message in the same run.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startReceiver } from "./deliverHarness.js";
import {
  type DeliveredPhase,
  deliveredPhase,
  fanoutSizes,
  type RoutingPhase,
  routingPhase,
  type SizeFigure,
  type StoredPhase,
  seedEndpoints,
  storedPhase,
} from "./fanout.js";
import {
  type FanoutBackend,
  type FanoutDialect,
  openPgBackend,
  openSqliteBackend,
} from "./fanoutBackends.js";
import { formatTable } from "./measure.js";
import type { BenchFn, SummaryRow } from "./types.js";

export interface FanoutResult {
  dialect: FanoutDialect;
  fanouts: number[];
  seedSeconds: number;
  stored: StoredPhase;
  routing: RoutingPhase;
  delivered: DeliveredPhase;
  storedFlatness: Flatness;
  deliveredFlatness: Flatness;
  /** The delivered runs timed until the receiver had answered all N (DeliveredFigure). */
  answeredFlatness: Flatness;
}

/**
 * Whether the cost per endpoint stays flat from the smallest fan-out to the largest. The cost of
 * a message is a fixed part (the dispatch's reads, the commit; the worker's wait for its next
 * claim) plus a part per endpoint, so the mean per endpoint at 1 endpoint is the fixed part and
 * says nothing about growth. The cost an endpoint adds is measured between consecutive sizes
 * instead ((cost(b) − cost(a)) ÷ (b − a)); flat: the largest of these within 2× of the smallest.
 */
export interface Flatness {
  /** µs each added endpoint cost, from each size to the next. */
  marginalUs: number[];
  /** The largest marginal cost ÷ the smallest (Infinity when one is not positive: noise). */
  ratio: number;
}

export function flatness(bySize: readonly SizeFigure[]): Flatness {
  const marginalUs = bySize
    .slice(1)
    .map(
      (s, i) =>
        ((s.msPerMessage - bySize[i]!.msPerMessage) * 1000) / (s.endpoints - bySize[i]!.endpoints),
    );
  const lowest = Math.min(...marginalUs);
  return { marginalUs, ratio: lowest > 0 ? Math.max(...marginalUs) / lowest : Infinity };
}

async function runOne(open: () => Promise<FanoutBackend>, quick: boolean): Promise<FanoutResult> {
  const sizes = fanoutSizes(quick);
  const receiver = await startReceiver();
  const backend = await open();
  try {
    const seeding = performance.now();
    for (const n of sizes.fanouts) await seedEndpoints(backend, n, receiver.url);
    const seedSeconds = (performance.now() - seeding) / 1000;
    const stored = await storedPhase(backend, sizes);
    const routing = await routingPhase(backend, sizes);
    const config = join(tmpdir(), `herald-fanout-${process.pid}-${backend.dialect}.yaml`);
    const delivered = await deliveredPhase(backend, sizes, receiver, config);
    return {
      dialect: backend.dialect,
      fanouts: sizes.fanouts,
      seedSeconds,
      stored,
      routing,
      delivered,
      storedFlatness: flatness(stored.bySize),
      deliveredFlatness: flatness(delivered.bySize),
      answeredFlatness: flatness(delivered.bySize.map((d) => d.answered)),
    };
  } finally {
    await backend.close();
    await receiver.close();
  }
}

export async function runFanout(options: { quick: boolean; url: string }) {
  const results = [
    await runOne(async () => openSqliteBackend(), options.quick),
    await runOne(() => openPgBackend(options.url), options.quick),
  ];
  return { results, table: fanoutTable(results), summary: results.flatMap(summaryRows) };
}

const us = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} µs`;
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const pct = (spread: number) => `${(spread * 100).toFixed(0)}%`;

/** The cost an endpoint added from the previous size to size `i` (none for the first). */
const added = (f: Flatness, i: number) => (i === 0 ? "—" : us(f.marginalUs[i - 1]!));

export function fanoutTable(results: readonly FanoutResult[]): string {
  const rows: Record<string, string | number>[] = [];
  for (const r of results) {
    r.stored.bySize.forEach((s, i) => {
      const d = r.delivered.bySize[i]!;
      rows.push({
        store: r.dialect,
        endpoints: s.endpoints.toLocaleString("en-US"),
        "stored ms/message": ms(s.msPerMessage),
        "stored µs/endpoint": us(s.usPerEndpoint),
        "stored µs/added endpoint": added(r.storedFlatness, i),
        "stored spread": pct(s.spread),
        "delivered ms/message": ms(d.msPerMessage),
        "delivered µs/endpoint": us(d.usPerEndpoint),
        "delivered µs/added endpoint": added(r.deliveredFlatness, i),
        "answered µs/added endpoint": added(r.answeredFlatness, i),
        "worker CPU ms/delivery": d.workerCpuMsPerDelivery.toFixed(3),
      });
    });
    const one = r.stored.oneOfLargest;
    const largest = r.routing.endpoints.toLocaleString("en-US");
    rows.push({
      store: r.dialect,
      endpoints: `${largest}, 1 matches`,
      "stored ms/message": ms(one.msPerMessage),
      "stored µs/endpoint": us(one.usPerEndpoint),
      "stored µs/added endpoint": "—",
      "stored spread": pct(one.spread),
      "delivered ms/message": "—",
      "delivered µs/endpoint": "—",
      "delivered µs/added endpoint": "—",
      "answered µs/added endpoint": "—",
      "worker CPU ms/delivery": "—",
    });
  }
  const routing = results.flatMap((r) =>
    [
      r.routing.oneMatch.cached,
      r.routing.oneMatch.listed,
      r.routing.allMatch.cached,
      r.routing.floor,
    ].map((c) => ({
      store: r.dialect,
      endpoints: r.routing.endpoints.toLocaleString("en-US"),
      routing: c.name,
      "µs/message": us(c.usPerMessage),
      spread: pct(c.spread),
    })),
  );
  return `${formatTable(rows)}\n\n${formatTable(routing)}`;
}

function summaryRows(r: FanoutResult): SummaryRow[] {
  const largest = r.routing.endpoints.toLocaleString("en-US");
  const routed = r.routing.oneMatch;
  const routedMs = routed.cached.usPerMessage / 1000;
  const top = (bySize: readonly SizeFigure[]) => bySize[bySize.length - 1]!;
  const flat = (label: string, bySize: readonly SizeFigure[], f: Flatness): SummaryRow => ({
    benchmark: `fanout (${r.dialect}) ${label}: cost an endpoint adds, 1→${largest}`,
    herald: `${f.marginalUs.map(us).join(" → ")} (max ÷ min ${f.ratio.toFixed(2)}); mean ${us(top(bySize).usPerEndpoint)} at ${largest}`,
    baseline: "—",
    ratio: "—",
    target: "flat: max ≤ 2× min",
    met: f.ratio <= 2 ? "yes" : "no",
  });
  return [
    {
      benchmark: `fanout (${r.dialect}) routing, ${largest} endpoints`,
      herald: `${routedMs.toFixed(3)} ms/message`,
      baseline: `${(routed.listed.usPerMessage / 1000).toFixed(1)} ms (listing)`,
      ratio: (routed.cached.usPerMessage / routed.listed.usPerMessage).toFixed(4),
      target: "< 1 ms/message",
      met: routedMs < 1 ? "yes" : "no",
    },
    flat("stored", r.stored.bySize, r.storedFlatness),
    flat("delivered", r.delivered.bySize, r.deliveredFlatness),
  ];
}

const fanout: BenchFn = async ({ quick }) => {
  const url = process.env.HERALD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
  const { results, table, summary } = await runFanout({ quick, url });
  return { result: { results }, table, summary };
};

export const benches = { fanout };
