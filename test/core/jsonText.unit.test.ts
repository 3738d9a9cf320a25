// The one bounded-depth JSON rule and the storable-text rule, on JSON text (scanJsonText) and
// on values (findJsonProblem, textProblem): property tests against a plain recursive reference.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findJsonProblem, MAX_JSON_DEPTH } from "../../packages/webhooks/src/core/json.js";
import { jsonTextError, scanJsonText } from "../../packages/webhooks/src/core/jsonText.js";
import { textProblem } from "../../packages/webhooks/src/core/text.js";

/** Nesting of arrays and objects in a parsed value (the reference; recursion is fine here). */
function depthOf(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

/** Whether any string (key or value) holds U+0000 or an unpaired surrogate. */
function hasBadText(value: unknown): boolean {
  if (typeof value === "string") return textProblem(value) !== undefined;
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(hasBadText);
  return Object.entries(value).some(([k, v]) => hasBadText(k) || hasBadText(v));
}

const nested = (depth: number, inner = "1") => "[".repeat(depth) + inner + "]".repeat(depth);

// Strings of what the scanner must not be fooled by: quotes, backslashes, brackets, text that
// looks like an escape, NUL, surrogates alone and in pairs.
const UNITS = [
  "a",
  '"',
  "\\",
  "[",
  "]",
  "{",
  "}",
  "\\u0000",
  "u0000",
  "\0",
  "\ud800",
  "\udc00",
  "😀",
  "é",
];
const trickyString = fc.array(fc.constantFrom(...UNITS), { maxLength: 8 }).map((u) => u.join(""));
const anyString = fc.oneof(trickyString, fc.string());
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    anyString,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(anyString, tie("value"), { maxKeys: 4 }),
  ),
})).value;

describe("scanJsonText", () => {
  it(`allows ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1}`, () => {
    expect(scanJsonText(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(scanJsonText(nested(MAX_JSON_DEPTH + 1))).toMatchObject({
      kind: "too_deep",
      offset: MAX_JSON_DEPTH,
      maxDepth: MAX_JSON_DEPTH,
    });
    expect(scanJsonText(`{"a":${nested(MAX_JSON_DEPTH)}}`)?.kind).toBe("too_deep");
  });

  it("handles 1,000,000 levels without recursion", () => {
    expect(scanJsonText(nested(1_000_000))?.kind).toBe("too_deep");
    expect(scanJsonText(`{"a":`.repeat(100_000))?.kind).toBe("too_deep");
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const brackets = `"${"[".repeat(500)}\\"${"{".repeat(500)}"`;
    expect(scanJsonText(`{"a":${brackets},"b":[${brackets}]}`)).toBeUndefined();
    // An escaped backslash before the quote ends the string: the brackets after it count.
    expect(scanJsonText(`["\\\\",${nested(MAX_JSON_DEPTH)}]`)?.kind).toBe("too_deep");
  });

  it.each([
    ['{"a":"\\u0000"}', "\\u0000 (NUL)"],
    ['{"\\u0000":1}', "\\u0000 (NUL)"],
    ['["\\ud800"]', "unpaired"],
    ['["\\udc00"]', "unpaired"],
    ['["\\ud800x"]', "unpaired"],
    ['["\\uD83D\\u0041"]', "unpaired"],
    ['["\\\\\\u0000"]', "\\u0000 (NUL)"],
    [`["${"\ud800"}"]`, "unpaired"],
  ])("refuses %s", (text, reason) => {
    expect(scanJsonText(text)).toMatchObject({
      kind: "text",
      reason: expect.stringContaining(reason),
    });
  });

  it.each([
    '["\\\\u0000"]',
    '["\\ud83d\\ude00"]',
    '["\\uD83D\\uDE00"]',
    '["😀"]',
    '["\\u0001"]',
    '{"a":"\\\\\\\\u0000"}',
  ])("accepts %s", (text) => {
    expect(scanJsonText(text)).toBeUndefined();
  });

  it("skips the text rule on request", () => {
    expect(scanJsonText('["\\u0000"]', { storableText: false })).toBeUndefined();
    expect(scanJsonText(nested(4), { maxDepth: 3 })?.kind).toBe("too_deep");
  });

  it("agrees with parsing for any JSON text (depth and text)", () => {
    fc.assert(
      fc.property(jsonValue, fc.integer({ min: 1, max: 6 }), (value, maxDepth) => {
        const text = JSON.stringify(value);
        const problem = scanJsonText(text, { maxDepth });
        const parsed: unknown = JSON.parse(text);
        if (depthOf(parsed) > maxDepth) expect(problem?.kind).toBe("too_deep");
        else if (hasBadText(parsed)) expect(problem?.kind).toBe("text");
        else expect(problem).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it("maps problems to stable 400 codes", () => {
    const deep = jsonTextError(scanJsonText(nested(100))!, "The body");
    expect(deep).toMatchObject({ code: "body.too_deep", details: { max_depth: MAX_JSON_DEPTH } });
    expect(deep.message).toBe(
      `The body nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`,
    );
    const nul = jsonTextError(scanJsonText('{"a":"\\u0000"}')!, "The body");
    expect(nul).toMatchObject({ code: "text.invalid", details: { offset: 6 } });
  });
});

describe("findJsonProblem depth", () => {
  it(`allows ${MAX_JSON_DEPTH} levels and names the path of the first one beyond`, () => {
    const deep = JSON.parse(nested(MAX_JSON_DEPTH + 1));
    expect(findJsonProblem(JSON.parse(nested(MAX_JSON_DEPTH)))).toBeUndefined();
    const problem = findJsonProblem({ a: deep }, "payload");
    expect(problem?.reason).toBe(
      `nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`,
    );
    expect(problem?.path).toBe(`payload.a${"[0]".repeat(MAX_JSON_DEPTH - 1)}`);
    expect(findJsonProblem(deep, "", { maxDepth: 1000 })).toBeUndefined();
  });

  it("walks 100,000 levels without recursion", () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = [value];
    expect(findJsonProblem(value)?.reason).toContain("deeper than");
  });
});

describe("textProblem", () => {
  it.each([
    ["a\0b", "U+0000"],
    ["\ud800", "unpaired"],
    ["x\udfff", "unpaired"],
  ])("refuses %j", (value, reason) => {
    expect(textProblem(value)).toContain(reason);
  });
  it.each(["", "abc", "😀", "\u0001", "é"])("accepts %j", (value) => {
    expect(textProblem(value)).toBeUndefined();
  });
});
