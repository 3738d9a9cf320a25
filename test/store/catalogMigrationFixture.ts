// Migration 007 (the self-filling catalogue) on a database that already holds messages, for
// both dialects: what is stored before it, and the catalogue the store reads after it (declared
// types keep their declaration and get their sightings, the others are recorded `auto`).
import type { EventTypeRecord } from "../../packages/core/src/store/ports.js";

const T = Date.UTC(2025, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

/** Declared before the migration, at T + 1 s. */
export const DECLARED = [
  { name: "never.seen", description: "", at: T + 1_000 },
  { name: "order.created.v1", description: "declared", at: T + 1_000 },
];

/** Messages stored before the migration. */
export const MESSAGES = [
  { id: "msg_1", type: "order.created.v1", at: T + 3_000 },
  { id: "msg_2", type: "order.created.v1", at: T + 2_000 },
  { id: "msg_3", type: "shop.paid", at: T + 2_500 },
];

const entry = (name: string, at: number): EventTypeRecord => ({
  name,
  description: "",
  schema: null,
  deprecated: false,
  auto: false,
  firstSeenAt: null,
  lastSeenAt: null,
  count: 0,
  createdAt: iso(at),
  updatedAt: iso(at),
});

/** listEventTypes after the migration. */
export const AFTER: EventTypeRecord[] = [
  entry("never.seen", T + 1_000),
  {
    ...entry("order.created.v1", T + 1_000),
    description: "declared",
    firstSeenAt: iso(T + 2_000),
    lastSeenAt: iso(T + 3_000),
    count: 2,
  },
  {
    ...entry("shop.paid", T + 2_500),
    auto: true,
    firstSeenAt: iso(T + 2_500),
    lastSeenAt: iso(T + 2_500),
    count: 1,
  },
];
