// The endpoint filter language: every operator on a table of cases, the validation errors with
// their paths, the limits, own properties only, and fast-check properties of the evaluator.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_FILTER_BYTES,
  MAX_FILTER_DEPTH,
  MAX_FILTER_NODES,
  matchesFilter,
  parseEndpointFilter,
} from "../../packages/core/src/model/endpointFilter.js";
import { HeraldError } from "../../packages/webhooks/src/core/errors.js";

const headers = { "x-source": "shop-eu", "content-type": "application/json" };
const payload = {
  type: "order.created",
  order: { id: "ord_1", total: 150, currency: "EUR", paid: true, coupon: null, tags: ["a", "b"] },
  items: [{ sku: "X" }],
  count: 0,
};
const matches = (filter: unknown, body: unknown = payload) =>
  matchesFilter(parseEndpointFilter(filter), { payload: body, headers });
const at = (condition: unknown) => ({ payload: { order: { total: condition } } });

describe("operators", () => {
  const cases: [string, unknown, boolean][] = [
    ["shorthand equality", { payload: { type: "order.created" } }, true],
    ["shorthand inequality", { payload: { type: "order.paid" } }, false],
    ["nested paths", { payload: { order: { currency: "EUR", paid: true } } }, true],
    ["null shorthand matches null", { payload: { order: { coupon: null } } }, true],
    ["null shorthand does not match a missing field", { payload: { order: { x: null } } }, false],
    ["$eq number", at({ $eq: 150 }), true],
    ["$eq no coercion", at({ $eq: "150" }), false],
    ["$eq array deep", { payload: { order: { tags: { $eq: ["a", "b"] } } } }, true],
    ["$eq array order matters", { payload: { order: { tags: { $eq: ["b", "a"] } } } }, false],
    ["$eq object deep", { payload: { items: { $eq: [{ sku: "X" }] } } }, true],
    ["$eq object extra key", { payload: { items: { $eq: [{ sku: "X", n: 1 }] } } }, false],
    ["$neq different", at({ $neq: 100 }), true],
    ["$neq same", at({ $neq: 150 }), false],
    ["$neq other type", at({ $neq: "150" }), true],
    ["$neq missing field", { payload: { order: { nope: { $neq: 1 } } } }, false],
    ["$gt", at({ $gt: 149 }), true],
    ["$gt equal", at({ $gt: 150 }), false],
    ["$gte equal", at({ $gte: 150 }), true],
    ["$lt", at({ $lt: 151 }), true],
    ["$lte", at({ $lte: 149 }), false],
    ["$gt string vs number", at({ $gt: "100" }), false],
    ["$gt strings compare by code units", { payload: { order: { id: { $gt: "ord_0" } } } }, true],
    ["$lt string on number field", { payload: { order: { id: { $lt: 5 } } } }, false],
    ["$gte zero", { payload: { count: { $gte: 0 } } }, true],
    ["range", at({ $gte: 100, $lt: 200 }), true],
    ["$in", { payload: { order: { currency: { $in: ["USD", "EUR"] } } } }, true],
    ["$in absent", { payload: { order: { currency: { $in: ["USD"] } } } }, false],
    ["$in no coercion", at({ $in: ["150"] }), false],
    ["$in is not array containment", { payload: { order: { tags: { $in: ["a"] } } } }, false],
    ["$nin", { payload: { order: { currency: { $nin: ["USD"] } } } }, true],
    ["$nin present", { payload: { order: { currency: { $nin: ["EUR"] } } } }, false],
    ["$nin missing field", { payload: { nope: { $nin: ["EUR"] } } }, false],
    ["$exist true", { payload: { order: { coupon: { $exist: true } } } }, true],
    ["$exist false on present null", { payload: { order: { coupon: { $exist: false } } } }, false],
    ["$exist false on missing", { payload: { order: { x: { $exist: false } } } }, true],
    ["$exist under a missing parent", { payload: { a: { b: { $exist: false } } } }, true],
    ["$exist does not index arrays", { payload: { items: { "0": { $exist: true } } } }, false],
    ["$startsWith", { payload: { type: { $startsWith: "order." } } }, true],
    ["$startsWith on number", at({ $startsWith: "1" }), false],
    ["$endsWith", { payload: { type: { $endsWith: ".created" } } }, true],
    ["$endsWith no", { payload: { type: { $endsWith: ".paid" } } }, false],
    ["$or one true", { payload: { $or: [{ type: "x" }, { count: 0 }] } }, true],
    ["$or none true", { payload: { $or: [{ type: "x" }, { count: 1 }] } }, false],
    ["$and all true", { payload: { $and: [{ type: "order.created" }, { count: 0 }] } }, true],
    ["$and one false", { payload: { $and: [{ type: "order.created" }, { count: 1 }] } }, false],
    ["$not", { payload: { type: { $not: { $startsWith: "invoice." } } } }, true],
    ["$not shorthand", { payload: { count: { $not: 0 } } }, false],
    ["$not of a missing field's $eq", { payload: { nope: { $not: { $eq: 1 } } } }, true],
    ["headers", { headers: { "x-source": { $startsWith: "shop-" } } }, true],
    ["headers missing", { headers: { "x-other": { $exist: true } } }, false],
    ["root $or", { $or: [{ headers: { "x-source": "nope" } }, { payload: { count: 0 } }] }, true],
    ["root $not", { $not: { payload: { count: 0 } } }, false],
    [
      "root $and",
      { $and: [{ payload: { count: 0 } }, { headers: { "x-source": "shop-eu" } }] },
      true,
    ],
    ["payload and headers both", { payload: { count: 0 }, headers: { "x-source": "x" } }, false],
    ["mixed fields and operators", { payload: { order: { $exist: true, total: 150 } } }, true],
  ];
  for (const [name, filter, expected] of cases) {
    it(`${name}: ${JSON.stringify(filter)} → ${expected}`, () => {
      expect(matches(filter)).toBe(expected);
    });
  }

  it("a primitive at payload compares the whole payload", () => {
    expect(matches({ payload: 1 }, 1)).toBe(true);
    expect(matches({ payload: 1 }, "1")).toBe(false);
  });

  it("reads own properties only: __proto__ and constructor are keys like any other", () => {
    const filter = JSON.parse(
      '{"payload":{"__proto__":{"polluted":1},"constructor":{"$exist":true}}}',
    );
    expect(matches(filter, {})).toBe(false);
    expect(matches({ payload: { constructor: { $exist: false } } }, {})).toBe(true);
    expect(matches({ payload: { toString: { $exist: true } } }, {})).toBe(false);
    const body = JSON.parse('{"__proto__":{"polluted":1},"constructor":"c"}');
    expect(matches(filter, body)).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("keeps the filter as given in json, with __proto__ as an own key", () => {
    const given = JSON.parse('{"payload":{"__proto__":{"$eq":{"__proto__":1}}}}');
    const filter = parseEndpointFilter(given);
    expect(JSON.stringify(filter.json)).toBe(JSON.stringify(given));
    expect(matches(given, JSON.parse('{"__proto__":{"__proto__":1}}'))).toBe(true);
    expect(matches(given, { a: 1 })).toBe(false);
  });
});

describe("validation", () => {
  const errors: [unknown, string][] = [
    [null, "filter: must be an object with payload, headers, $and, $or or $not"],
    [[], "filter: must be an object with payload, headers, $and, $or or $not"],
    [{}, "filter: must not be empty"],
    [{ body: {} }, "filter.body: is not payload, headers, $and, $or or $not"],
    [{ $eq: 1 }, "filter.$eq: is not payload, headers, $and, $or or $not"],
    [at({ $gte: true }), "filter.payload.order.total.$gte: must be a number or string"],
    [at({ $lt: null }), "filter.payload.order.total.$lt: must be a number or string"],
    [at({ $in: [] }), "filter.payload.order.total.$in: must be a non-empty array"],
    [at({ $nin: "a" }), "filter.payload.order.total.$nin: must be a non-empty array"],
    [at({ $exist: 1 }), "filter.payload.order.total.$exist: must be true or false"],
    [at({ $startsWith: 1 }), "filter.payload.order.total.$startsWith: must be a string"],
    [at({ $endsWith: null }), "filter.payload.order.total.$endsWith: must be a string"],
    [at({ $or: [] }), "filter.payload.order.total.$or: must be a non-empty array of conditions"],
    [at({ $and: {} }), "filter.payload.order.total.$and: must be a non-empty array of conditions"],
    [
      at({ $and: [{ $gt: [] }] }),
      "filter.payload.order.total.$and[0].$gt: must be a number or string",
    ],
    [at({ $regex: "x" }), "filter.payload.order.total.$regex: is not an operator"],
    [at([1]), "filter.payload.order.total: an array is not a condition"],
    [at({}), "filter.payload.order.total: must not be empty"],
    [{ payload: { "a.b": { $gt: {} } } }, 'filter.payload["a.b"].$gt: must be a number or string'],
    [{ payload: { a: Number.NaN } }, "filter.payload.a: must be a finite number"],
    [{ payload: { a: { $eq: new Date(0) } } }, "filter.payload.a.$eq: must be a JSON value"],
    [{ payload: { a: undefined } }, "filter.payload.a: must be a JSON value"],
    [{ $not: { body: 1 } }, "filter.$not.body: is not payload, headers, $and, $or or $not"],
  ];
  for (const [filter, message] of errors)
    it(message, () => {
      let caught: unknown;
      try {
        parseEndpointFilter(filter);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(HeraldError);
      expect((caught as HeraldError).code).toBe("filter.invalid");
      expect((caught as HeraldError).message.startsWith(message)).toBe(true);
      expect((caught as HeraldError).details?.path).toBe(message.slice(0, message.indexOf(": ")));
    });

  it("limits depth, size in values and size in bytes", () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_FILTER_DEPTH; i++) deep = { a: deep };
    expect(() => parseEndpointFilter({ payload: deep })).toThrow(/nested more than 32 levels/);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_FILTER_DEPTH - 2; i++) ok = { a: ok };
    expect(matches({ payload: ok }, ok)).toBe(true);

    const many = Array.from({ length: MAX_FILTER_NODES }, (_, i) => i);
    expect(() => parseEndpointFilter(at({ $in: many }))).toThrow(/more than 256 values/);
    expect(matches(at({ $in: many.slice(0, 200) }))).toBe(true);

    const long = "x".repeat(MAX_FILTER_BYTES);
    expect(() => parseEndpointFilter(at({ $eq: long }))).toThrow(/bytes of JSON, more than 4096/);

    const cyclic: Record<string, unknown> = {};
    cyclic.a = cyclic;
    expect(() => parseEndpointFilter({ payload: cyclic })).toThrow(HeraldError);
  });
});

describe("properties", () => {
  const json = fc.jsonValue({ maxDepth: 3 });
  const key = fc.constantFrom("a", "b", "__proto__", "constructor", "x", "order");
  const primitive = fc.oneof(
    fc.string({ maxLength: 4 }),
    fc.integer({ min: -5, max: 5 }),
    fc.boolean(),
    fc.constant(null),
  );
  const leaf = fc.oneof(
    primitive,
    fc.record({ $eq: json }),
    fc.record({ $neq: primitive }),
    fc.record({ $gt: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.string({ maxLength: 2 })) }),
    fc.record({ $lte: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.string({ maxLength: 2 })) }),
    fc.record({ $in: fc.array(primitive, { minLength: 1, maxLength: 3 }) }),
    fc.record({ $nin: fc.array(primitive, { minLength: 1, maxLength: 3 }) }),
    fc.record({ $exist: fc.boolean() }),
    fc.record({ $startsWith: fc.string({ maxLength: 2 }) }),
    fc.record({ $endsWith: fc.string({ maxLength: 2 }) }),
  );
  const { condition } = fc.letrec<{ condition: unknown }>((tie) => ({
    condition: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.dictionary(key, tie("condition"), { minKeys: 1, maxKeys: 2 }),
      fc.record({ $not: tie("condition") }),
      fc.record({ $or: fc.array(tie("condition"), { minLength: 1, maxLength: 2 }) }),
      fc.record({ $and: fc.array(tie("condition"), { minLength: 1, maxLength: 2 }) }),
    ),
  }));
  const payloadArb = fc.oneof(json, fc.dictionary(key, fc.oneof(json, fc.dictionary(key, json))));
  const headersArb = fc.dictionary(fc.constantFrom("x-a", "x-b"), fc.string({ maxLength: 3 }));
  const subject = fc.record({ payload: payloadArb, headers: headersArb });
  const filterArb = condition.map((c) => ({ payload: c }));
  const valid = filterArb.filter((f) => {
    try {
      parseEndpointFilter(f);
      return true;
    } catch {
      return false;
    }
  });
  const run = (f: unknown, s: { payload: unknown; headers: Record<string, string> }) =>
    matchesFilter(parseEndpointFilter(f), s);

  it("evaluation never throws and $not inverts", () => {
    fc.assert(
      fc.property(valid, subject, (f, s) => {
        expect(run({ $not: f }, s)).toBe(!run(f, s));
      }),
      { numRuns: 1000 },
    );
  });

  it("$and and $or of one condition equal the condition", () => {
    fc.assert(
      fc.property(valid, subject, (f, s) => {
        const plain = run(f, s);
        expect(run({ $and: [f] }, s)).toBe(plain);
        expect(run({ $or: [f] }, s)).toBe(plain);
        expect(run({ $or: [f, { $not: f }] }, s)).toBe(true);
        expect(run({ $and: [f, { $not: f }] }, s)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("$in [x] is $eq x, $nin [x] is $neq x, and a value equals itself", () => {
    fc.assert(
      fc.property(json, subject, (x, s) => {
        expect(run({ payload: { a: { $in: [x] } } }, s)).toBe(
          run({ payload: { a: { $eq: x } } }, s),
        );
        expect(run({ payload: { a: { $nin: [x] } } }, s)).toBe(
          run({ payload: { a: { $neq: x } } }, s),
        );
        expect(run({ payload: { $eq: x } }, { payload: x, headers: {} })).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("validation throws nothing but HeraldError filter.invalid on any JSON input", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue({ maxDepth: 5 }), filterArb, fc.record({ payload: json })),
        (input) => {
          try {
            parseEndpointFilter(input);
          } catch (error) {
            expect(error).toBeInstanceOf(HeraldError);
            expect((error as HeraldError).code).toBe("filter.invalid");
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
