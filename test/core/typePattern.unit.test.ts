import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compileTypeMatcher,
  compileTypePattern,
  HeraldError,
  isValidTypePattern,
  matchesType,
} from "../../packages/core/src/index.js";

// #region type-patterns
const table: [pattern: string, type: string, matches: boolean][] = [
  ["order.created.v1", "order.created.v1", true],
  ["order.created.v1", "order.created.v2", false],
  ["order.created.v1", "order.created", false],
  ["order.*", "order.created", true],
  ["order.*", "order.created.v1", true],
  ["order.*", "order", false],
  ["order.*", "orders.created.v1", false],
  ["order.*", "invoice.order.created", false],
  ["*", "order.created.v1", true],
  ["*", "ping", true],
  ["*.created.*", "order.created.v1", true],
  ["*.created.*", "invoice.created.v2.beta", true],
  ["*.created.*", "created.v1", false],
  ["*.created.*", "order.item.created.v1", false],
  ["*.created", "order.created", true],
  ["*.created", "order.created.v1", false],
  ["order.*.v1", "order.created.v1", true],
  ["order.*.v1", "order.line.created.v1", false],
  ["stripe.invoice.*", "stripe.invoice.payment_failed", true],
  ["shopify.orders/create", "shopify.orders/create", true],
  ["Order.*", "order.created", false],
  ["*", "", false],
  ["*", "order..created", false],
  ["order.*", "order.", false],
  ["*", ".order", false],
];
// #endregion type-patterns

describe("type patterns", () => {
  it.each(table)("%s on %s → %s", (pattern, type, expected) => {
    expect(compileTypePattern(pattern).matches(type)).toBe(expected);
    expect(compileTypeMatcher([pattern]).matches(type)).toBe(expected);
    expect(matchesType([pattern], type)).toBe(expected);
  });

  it("matches when any pattern of a list matches, and an empty list matches nothing", () => {
    const matcher = compileTypeMatcher(["order.created.v1", "invoice.*", "*.deleted.*"]);
    expect(matcher.matches("order.created.v1")).toBe(true);
    expect(matcher.matches("invoice.paid")).toBe(true);
    expect(matcher.matches("user.deleted.v3")).toBe(true);
    expect(matcher.matches("order.updated.v1")).toBe(false);
    expect(matchesType(matcher, "invoice.paid")).toBe(true);
    expect(matchesType([], "order.created.v1")).toBe(false);
    expect(compileTypeMatcher([]).matches("order.created.v1")).toBe(false);
    expect(matcher.patterns).toEqual(["order.created.v1", "invoice.*", "*.deleted.*"]);
  });

  const invalid = [
    "",
    ".",
    "order.",
    ".order",
    "order..created",
    "order*",
    "or*der.x",
    "**",
    "order.**",
    "order created",
    "a.\tb",
    "x".repeat(256),
  ];
  it.each(invalid)("rejects the pattern %j", (pattern) => {
    expect(isValidTypePattern(pattern)).toBe(false);
    for (const compile of [
      () => compileTypePattern(pattern),
      () => compileTypeMatcher(["*", pattern]),
      () => matchesType([pattern], "x"),
    ]) {
      try {
        compile();
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(HeraldError);
        expect((error as HeraldError).code).toBe("type_pattern.invalid");
        expect((error as HeraldError).details).toEqual({ pattern });
      }
    }
  });

  it("rejects non-string patterns and a non-array list", () => {
    expect(isValidTypePattern(42)).toBe(false);
    expect(() => compileTypeMatcher("order.*" as unknown as string[])).toThrow(HeraldError);
  });
});

// A deliberately naive reading of the rules to check the fast matchers against.
function reference(pattern: string, type: string): boolean {
  const t = type.split(".");
  if (t.some((s) => s === "")) return false;
  const p = pattern.split(".");
  const rest = p[p.length - 1] === "*";
  const fixed = rest ? p.slice(0, -1) : p;
  if (rest ? t.length <= fixed.length : t.length !== fixed.length) return false;
  return fixed.every((s, i) => s === "*" || s === t[i]);
}

const segment = fc.constantFrom("order", "created", "v1", "v2", "a", "b", "x_y", "o/c");
const types = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join(".")),
  fc.string({ unit: fc.constantFrom("a", ".", "b") }),
);
const patterns = fc
  .array(fc.oneof(segment, fc.constant("*")), { minLength: 1, maxLength: 5 })
  .map((s) => s.join("."));

describe("type pattern properties", () => {
  it("compiled patterns agree with the naive reading of the rules", () => {
    fc.assert(
      fc.property(patterns, types, (pattern, type) => {
        expect(compileTypePattern(pattern).matches(type)).toBe(reference(pattern, type));
      }),
      { numRuns: 2000 },
    );
  });

  it("a matcher over many patterns is the OR of its patterns", () => {
    fc.assert(
      fc.property(fc.array(patterns, { maxLength: 6 }), types, (list, type) => {
        const expected = list.some((p) => reference(p, type));
        expect(compileTypeMatcher(list).matches(type)).toBe(expected);
        expect(matchesType(list, type)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it("every well-formed type matches itself, `*`, and its first segment + `.*`", () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 2, maxLength: 6 }), (segments) => {
        const type = segments.join(".");
        expect(matchesType([type], type)).toBe(true);
        expect(matchesType(["*"], type)).toBe(true);
        expect(matchesType([`${segments[0]}.*`], type)).toBe(true);
        expect(matchesType([segments.map(() => "*").join(".")], type)).toBe(true);
      }),
    );
  });
});
