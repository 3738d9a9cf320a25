// Endpoint filters, routed for real: random filters (every operator, nested) and random messages
// through the real dispatcher on the memory, SQLite and PostgreSQL stores. A message gets a
// delivery for an endpoint exactly when the reference evaluator below says the filter accepts
// it, and is recorded as filtered otherwise. The reference evaluator is written from
// docs/filters.md alone, independently of packages/core/src/model/endpointFilter.ts.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher, type Dispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

// ---------------------------------------------------------------------------------------------
// The reference evaluator: a plain recursive reading of docs/filters.md.
// ---------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** The value at a position of the message, or absent (a missing field). */
type Slot = { present: true; value: unknown } | { present: false };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** "same type; arrays element by element in order; objects with the same own keys (any order)". */
function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => same(item, b[i]));
  }
  if (isObject(a) || isObject(b)) {
    if (!isObject(a) || !isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
  }
  return a === b;
}

/** "A field exists when the value is an object (not an array, not null) with that own key." */
function field(slot: Slot, key: string): Slot {
  if (!slot.present || !isObject(slot.value) || !Object.hasOwn(slot.value, key)) {
    return { present: false };
  }
  return { present: true, value: slot.value[key] };
}

function operator(op: string, operand: Json, slot: Slot): boolean {
  switch (op) {
    case "$and":
      return (operand as Json[]).every((c) => condition(c, slot));
    case "$or":
      return (operand as Json[]).some((c) => condition(c, slot));
    case "$not":
      return !condition(operand, slot);
    case "$exist":
      return slot.present === operand;
  }
  // "Every operator except $exist is false on a missing field."
  if (!slot.present) return false;
  const value = slot.value;
  switch (op) {
    case "$eq":
      return same(value, operand);
    case "$neq":
      return !same(value, operand);
    case "$in":
      return (operand as Json[]).some((item) => same(value, item));
    case "$nin":
      return !(operand as Json[]).some((item) => same(value, item));
    case "$startsWith":
      return typeof value === "string" && value.startsWith(operand as string);
    case "$endsWith":
      return typeof value === "string" && value.endsWith(operand as string);
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte": {
      // "has the operand's type and compares so: numbers numerically, strings by code units".
      if (typeof value !== typeof operand) return false;
      const [a, b] = [value as number | string, operand as number | string];
      if (op === "$gt") return a > b;
      if (op === "$gte") return a >= b;
      if (op === "$lt") return a < b;
      return a <= b;
    }
  }
  throw new Error(`not an operator: ${op}`);
}

/** A condition at a position: an object is the conjunction of its entries; a scalar is $eq. */
function condition(cond: Json, slot: Slot): boolean {
  if (!isObject(cond)) return operator("$eq", cond, slot);
  return Object.entries(cond).every(([key, sub]) =>
    key.startsWith("$")
      ? operator(key, sub as Json, slot)
      : condition(sub as Json, field(slot, key)),
  );
}

/** The top level: payload, headers, and $and / $or / $not of top-level filters. */
function accepts(filter: Record<string, Json>, message: Message): boolean {
  return Object.entries(filter).every(([key, sub]) => {
    if (key === "payload") return condition(sub, { present: true, value: message.payload });
    if (key === "headers") return condition(sub, { present: true, value: message.headers });
    if (key === "$and") return (sub as Record<string, Json>[]).every((f) => accepts(f, message));
    if (key === "$or") return (sub as Record<string, Json>[]).some((f) => accepts(f, message));
    if (key === "$not") return !accepts(sub as Record<string, Json>, message);
    throw new Error(`not a top-level key: ${key}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Generators: a small vocabulary, so that filters and messages meet often.
// ---------------------------------------------------------------------------------------------

interface Message {
  payload: Record<string, Json>;
  headers: Record<string, string>;
}

const KEYS = ["a", "b", "n", "constructor", "x-id"];
const HEADER_NAMES = ["x-shop", "x-kind", "content-type"];
const strings = fc.constantFrom("", "a", "ab", "b", "ba", "shop-1", "Z", "é");
const numbers = fc.constantFrom(-1, 0, 1, 1.5, 2, 100);
const scalar: fc.Arbitrary<Json> = fc.oneof(strings, numbers, fc.boolean(), fc.constant(null));
const smallJson: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 2 }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.constantFrom(...KEYS), scalar, { maxKeys: 2 }),
  },
);
const payloadValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: smallJson },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), smallJson, { maxKeys: 3 }) },
);
const messageArb: fc.Arbitrary<Message> = fc.record({
  payload: fc.dictionary(fc.constantFrom(...KEYS), payloadValue, { maxKeys: 4 }),
  headers: fc.dictionary(fc.constantFrom(...HEADER_NAMES), strings, { maxKeys: 3 }),
});

/** An object from distinct keys (an object cannot repeat a key). */
function entries(
  pairs: fc.Arbitrary<[string, Json]>,
  max: number,
): fc.Arbitrary<Record<string, Json>> {
  return fc
    .uniqueArray(pairs, { minLength: 1, maxLength: max, selector: ([key]) => key })
    .map((list) => Object.fromEntries(list));
}

const { condition: conditionArb } = fc.letrec<{ condition: Json; entry: [string, Json] }>(
  (tie) => ({
    condition: fc.oneof(
      { depthSize: "small", maxDepth: 3, withCrossShrink: true },
      scalar,
      entries(tie("entry") as fc.Arbitrary<[string, Json]>, 2),
    ),
    entry: fc.oneof(
      { depthSize: "small", maxDepth: 3, withCrossShrink: true },
      fc.tuple(fc.constantFrom("$eq", "$neq"), smallJson),
      fc.tuple(fc.constantFrom("$gt", "$gte", "$lt", "$lte"), fc.oneof(strings, numbers)),
      fc.tuple(
        fc.constantFrom("$in", "$nin"),
        fc.array(smallJson, { minLength: 1, maxLength: 3 }) as fc.Arbitrary<Json>,
      ),
      fc.tuple(fc.constant("$exist"), fc.boolean()),
      fc.tuple(fc.constantFrom("$startsWith", "$endsWith"), strings),
      fc.tuple(
        fc.constantFrom("$and", "$or"),
        fc.array(tie("condition"), { minLength: 1, maxLength: 2 }) as fc.Arbitrary<Json>,
      ),
      fc.tuple(fc.constant("$not"), tie("condition")),
      fc.tuple(fc.constantFrom(...KEYS), tie("condition")),
    ) as fc.Arbitrary<[string, Json]>,
  }),
);
/** Conditions on the headers object: fields are header names. */
const headerCondition: fc.Arbitrary<Json> = entries(
  fc.oneof(
    fc.tuple(fc.constantFrom(...HEADER_NAMES), conditionArb),
    fc.tuple(fc.constant("$exist"), fc.boolean()),
  ),
  2,
);

const { filter: filterArb } = fc.letrec<{ filter: Record<string, Json> }>((tie) => ({
  filter: entries(
    fc.oneof(
      { depthSize: "small", maxDepth: 2, withCrossShrink: true },
      fc.tuple(fc.constant("payload"), conditionArb),
      fc.tuple(fc.constant("headers"), headerCondition),
      fc.tuple(
        fc.constantFrom("$and", "$or"),
        fc.array(tie("filter"), { minLength: 1, maxLength: 2 }) as fc.Arbitrary<Json>,
      ),
      fc.tuple(fc.constant("$not"), tie("filter") as fc.Arbitrary<Json>),
    ),
    2,
  ),
}));

// ---------------------------------------------------------------------------------------------
// The property, on every backend
// ---------------------------------------------------------------------------------------------

const available = await serviceAvailable("postgres");

interface Backend {
  name: string;
  store: DeliveryStore;
  dispatcher: Dispatcher;
}

const backend = (name: string, store: DeliveryStore): Backend => ({
  name,
  store,
  dispatcher: createDispatcher({ store }),
});

/** Creates the endpoint with `filter` in a tenant of its own, dispatches every message to it. */
async function route(
  { store, dispatcher }: Backend,
  tenant: string,
  filter: Record<string, Json>,
  messages: readonly Message[],
): Promise<{ delivered: boolean[]; filtered: boolean[] }> {
  const endpoint = await store.createEndpoint({
    tenant,
    target: "https://receiver.example/hooks",
    eventTypes: ["order.*"],
    filter,
  });
  const delivered: boolean[] = [];
  const filtered: boolean[] = [];
  for (const message of messages) {
    const result = await dispatcher.dispatch({
      tenant,
      type: "order.created.v1",
      payload: message.payload,
      headers: message.headers,
    });
    const stored = await store.getMessage(result.messageId);
    const deliveries = stored?.deliveries.filter((d) => d.endpointId === endpoint.id) ?? [];
    const out = stored?.filtered.filter((f) => f.endpointId === endpoint.id) ?? [];
    // Never both: a delivery and a filtered record for one endpoint.
    expect(deliveries.length + out.length).toBe(1);
    expect(result.deliveries).toBe(deliveries.length);
    expect(result.filteredEndpointIds).toEqual(out.map((f) => f.endpointId));
    delivered.push(deliveries.length === 1);
    filtered.push(out.length === 1);
  }
  return { delivered, filtered };
}

// Skipped only when PostgreSQL is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1)
// serviceAvailable fails instead.
describe.skipIf(!available)("endpoint filters routed by the dispatcher, on every store", () => {
  let schema: TestSchema;
  let sqlite: MigratedSqlite;
  const backends: Backend[] = [];

  beforeAll(async () => {
    schema = await createTestSchema("filter_routing");
    sqlite = migratedSqlite();
    backends.push(
      backend("memory", createMemoryDeliveryStore()),
      backend("sqlite", createSqliteDeliveryStore(sqlite.db)),
      backend("postgres", createPostgresDeliveryStore(schema.pool)),
    );
  });

  afterAll(async (suite) => {
    sqlite?.cleanup();
    await schema?.dropIfPassed(suite);
  });

  it("delivers exactly the messages the reference evaluator accepts, and records the rest as filtered", async () => {
    let run = 0;
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        filterArb,
        fc.array(messageArb, { minLength: 1, maxLength: 4 }),
        async (filter, messages) => {
          run += 1;
          const tenant = `t${run}`; // each run routes among its own endpoint only
          const expected = messages.map((m) => accepts(filter, m));
          const results = await Promise.all(
            backends.map((b) => route(b, tenant, filter, messages)),
          );
          for (const [i, result] of results.entries()) {
            const context = `${backends[i]!.name}: ${JSON.stringify({ filter, messages })}`;
            expect(result.delivered, context).toEqual(expected);
            expect(result.filtered, context).toEqual(expected.map((e) => !e));
          }
          for (const e of expected) seen[e ? "accepted" : "refused"] += 1;
        },
      ),
      { numRuns: 1000 },
    );
    // The generators reach both outcomes often (a property that always refused would pass).
    expect(seen.accepted).toBeGreaterThan(200);
    expect(seen.refused).toBeGreaterThan(200);
  }, 120_000);
});
