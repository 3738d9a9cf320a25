// One cheap pass over JSON text before anything parses or stores it: how deeply it nests (the
// one bounded-depth rule, MAX_JSON_DEPTH) and whether a string holds text no store can keep
// (`\u0000`, an unpaired surrogate; see text.ts). Iterative, so no input can overflow the stack;
// the usual small body is settled by the engine's indexOf alone (measured: ≈ 0.3–0.6 µs for a
// 1 KB Stripe event, against 6–8 µs for JSON.parse of it).
import { HeraldError } from "./errors.js";
import { MAX_JSON_DEPTH } from "./json.js";
import { unpairedSurrogateAt } from "./text.js";

export interface JsonTextProblem {
  /** `too_deep`: nested deeper than the limit; `text`: a string no store can hold. */
  kind: "too_deep" | "text";
  /** UTF-16 index in the text where it was found. */
  offset: number;
  /** "nests deeper than 64 levels of arrays and objects", "has a string with \\u0000 (NUL)"… */
  reason: string;
  /** The depth limit that applied (`too_deep`). */
  maxDepth?: number;
}

export interface ScanJsonTextOptions {
  /** Most nested arrays/objects; default MAX_JSON_DEPTH. */
  maxDepth?: number;
  /** Also refuse `\u0000` and unpaired surrogates (escaped or not); default true. */
  storableText?: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LOWER_U = 0x75;

/** At most `limit` + 1 counted: true when the text has more than `limit` of `[` and `{`. */
function moreOpeningsThan(text: string, limit: number): boolean {
  let count = 0;
  for (let at = text.indexOf("{"); at >= 0; at = text.indexOf("{", at + 1)) {
    if (++count > limit) return true;
  }
  for (let at = text.indexOf("["); at >= 0; at = text.indexOf("[", at + 1)) {
    if (++count > limit) return true;
  }
  return false;
}

function depthProblem(text: string, maxDepth: number): JsonTextProblem | undefined {
  // Usual case: too few brackets (even counting those inside strings) to nest that deep, found
  // by the engine's indexOf; only text with more of them is walked character by character.
  if (!moreOpeningsThan(text, maxDepth)) return undefined;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        const reason = `nests deeper than ${maxDepth} levels of arrays and objects`;
        return { kind: "too_deep", offset: i, reason, maxDepth };
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/** The code unit written as 4 hex digits at `at`, or -1. */
function hex4(text: string, at: number): number {
  let unit = 0;
  for (let i = at; i < at + 4; i++) {
    const c = text.charCodeAt(i);
    const digit =
      c >= 0x30 && c <= 0x39
        ? c - 0x30
        : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66
          ? (c | 0x20) - 0x57
          : -1;
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

function textProblemIn(text: string): JsonTextProblem | undefined {
  // `\u` outside a string is not JSON at all (the parser refuses it), so the escapes can be
  // found without tracking strings; a backslash escaped itself (`\\u0000`) starts no escape.
  for (let at = text.indexOf("\\u"); at >= 0; at = text.indexOf("\\u", at + 2)) {
    let run = 1;
    for (let b = at - 1; b >= 0 && text.charCodeAt(b) === BACKSLASH; b--) run++;
    if (run % 2 === 0) continue;
    const unit = hex4(text, at + 2);
    if (unit === 0) return { kind: "text", offset: at, reason: "has a string with \\u0000 (NUL)" };
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low =
        text.charCodeAt(at + 6) === BACKSLASH && text.charCodeAt(at + 7) === LOWER_U
          ? hex4(text, at + 8)
          : -1;
      if (low >= 0xdc00 && low <= 0xdfff) {
        at += 6;
        continue;
      }
    }
    if (unit >= 0xd800 && unit <= 0xdfff) {
      return { kind: "text", offset: at, reason: "has a string with an unpaired UTF-16 surrogate" };
    }
  }
  // Text decoded from UTF-8 cannot hold a raw unpaired surrogate; a caller's string can.
  const raw = unpairedSurrogateAt(text);
  if (raw >= 0) {
    return { kind: "text", offset: raw, reason: "has an unpaired UTF-16 surrogate" };
  }
  // A raw U+0000 is not JSON (control characters must be escaped): the parser refuses it.
  return undefined;
}

/**
 * The first problem of JSON `text` under the one bounded-depth rule and the storable-text rule,
 * or undefined. Not a validator: text that is not JSON may pass, and the parser refuses it.
 */
export function scanJsonText(
  text: string,
  options: ScanJsonTextOptions = {},
): JsonTextProblem | undefined {
  return (
    depthProblem(text, options.maxDepth ?? MAX_JSON_DEPTH) ??
    (options.storableText === false ? undefined : textProblemIn(text))
  );
}

/**
 * The request error of a problem in `what` (e.g. "The webhook body"): 400 `body.too_deep`, or
 * 400 `text.invalid` for text no store can hold.
 */
export function jsonTextError(problem: JsonTextProblem, what: string): HeraldError {
  if (problem.kind === "too_deep") {
    return new HeraldError("body.too_deep", `${what} ${problem.reason}`, {
      details: { max_depth: problem.maxDepth ?? MAX_JSON_DEPTH, offset: problem.offset },
    });
  }
  return new HeraldError(
    "text.invalid",
    `${what} ${problem.reason} at character ${problem.offset}; no text Herald stores may hold U+0000 or an unpaired surrogate`,
    { details: { offset: problem.offset } },
  );
}
