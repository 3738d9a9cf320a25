// Event-type patterns that route messages to endpoints (`event_types: ["order.*"]`).
//
// Rules. A type and a pattern are both split into segments on ".".
//  - A literal segment matches the same segment exactly (case-sensitive).
//  - "*" as the LAST segment matches one or more segments: the whole rest of the type.
//    `order.*` matches `order.created` and `order.created.v1`, not `order` itself.
//  - "*" anywhere else matches exactly one segment: `*.created.*` matches `order.created.v1`
//    and `invoice.created.v2.beta`, not `created.v1` or `order.item.created.v1`.
//  - "*" alone therefore matches every type.
//  - A pattern without "*" matches only that exact type.
//  - A type with an empty segment (``, `.a`, `a.`, `a..b`) matches no pattern; an empty list of
//    patterns matches no type.
// Valid patterns: 1–255 characters, no empty segment, "*" only as a whole segment (`order*`,
// `**` are rejected so they stay free for later meaning), literal segments without whitespace
// or control characters. Literal segments are otherwise free-form because inbound types are
// not ours to name: `shopify.orders/create`, `github.pull_request`.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

export const MAX_TYPE_PATTERN_LENGTH = 255;

export interface TypePattern {
  readonly source: string;
  matches(type: string): boolean;
}

/** A set of patterns compiled together: exact types hash, prefix patterns compare strings. */
export interface TypeMatcher {
  readonly patterns: readonly string[];
  matches(type: string): boolean;
}

const LITERAL_SEGMENT = /^[^\s.*\p{Cc}]+$/u;

type Compiled =
  | { kind: "all" }
  | { kind: "exact"; type: string }
  | { kind: "prefix"; prefix: string } // literals then a trailing "*": `order.` for `order.*`
  // Literal segments, or null for a one-segment "*"; `rest` when the pattern ends in "*".
  | { kind: "segments"; segments: readonly (string | null)[]; rest: boolean };

function invalid(pattern: unknown, reason: string): HeraldError {
  return new HeraldError(
    "type_pattern.invalid",
    `Invalid event-type pattern ${typeof pattern === "string" ? JSON.stringify(pattern) : typeof pattern}: ${reason}`,
    { details: { pattern } },
  );
}

function parse(pattern: string): Compiled {
  if (typeof pattern !== "string") throw invalid(pattern, "expected a string");
  if (pattern.length === 0) throw invalid(pattern, "must not be empty");
  if (pattern.length > MAX_TYPE_PATTERN_LENGTH) {
    throw invalid(pattern, `must be at most ${MAX_TYPE_PATTERN_LENGTH} characters`);
  }
  const parts = pattern.split(".");
  parts.forEach((part, i) => {
    if (part === "*") return;
    if (part === "") throw invalid(pattern, `segment ${i + 1} is empty`);
    if (part.includes("*")) throw invalid(pattern, '"*" must be a whole segment');
    if (!LITERAL_SEGMENT.test(part)) {
      throw invalid(pattern, `segment ${i + 1} contains whitespace or control characters`);
    }
  });
  const rest = parts[parts.length - 1] === "*";
  const fixed = rest ? parts.slice(0, -1) : parts;
  if (rest && fixed.length === 0) return { kind: "all" };
  if (!fixed.includes("*")) {
    return rest
      ? { kind: "prefix", prefix: `${fixed.join(".")}.` }
      : { kind: "exact", type: pattern };
  }
  return { kind: "segments", segments: fixed.map((s) => (s === "*" ? null : s)), rest };
}

/** True when the type has no empty segment; only such types can match. */
export function isWellFormed(type: string): boolean {
  return (
    typeof type === "string" &&
    type.length > 0 &&
    type.charCodeAt(0) !== 46 &&
    type.charCodeAt(type.length - 1) !== 46 &&
    !type.includes("..")
  );
}

// Walks the type with indexOf instead of split(): no allocation per call.
function matchSegments(segments: readonly (string | null)[], rest: boolean, type: string): boolean {
  let start = 0;
  for (let i = 0; i < segments.length; i++) {
    const dot = type.indexOf(".", start);
    const end = dot === -1 ? type.length : dot;
    const literal = segments[i];
    if (literal != null && (end - start !== literal.length || !type.startsWith(literal, start))) {
      return false;
    }
    if (dot === -1) return i === segments.length - 1 && !rest;
    start = dot + 1;
  }
  // The type has segments left: only a trailing "*" takes them.
  return rest;
}

function matchCompiled(compiled: Compiled, type: string): boolean {
  switch (compiled.kind) {
    case "all":
      return true;
    case "exact":
      return type === compiled.type;
    case "prefix":
      return type.length > compiled.prefix.length && type.startsWith(compiled.prefix);
    case "segments":
      return matchSegments(compiled.segments, compiled.rest, type);
  }
}

/** Validates and compiles one pattern; throws HeraldError `type_pattern.invalid`. */
export function compileTypePattern(pattern: string): TypePattern {
  const compiled = parse(pattern);
  return {
    source: pattern,
    matches: (type) => isWellFormed(type) && matchCompiled(compiled, type),
  };
}

/** Validates and compiles a list of patterns (an endpoint's `event_types`) into one matcher. */
export function compileTypeMatcher(patterns: readonly string[]): TypeMatcher {
  if (!Array.isArray(patterns)) throw invalid(patterns, "expected an array of patterns");
  const compiled = patterns.map(parse);
  const all = compiled.some((c) => c.kind === "all");
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const others: Compiled[] = [];
  for (const c of compiled) {
    if (c.kind === "exact") exact.add(c.type);
    else if (c.kind === "prefix") prefixes.push(c.prefix);
    else if (c.kind === "segments") others.push(c);
  }
  return {
    patterns: Object.freeze([...patterns]),
    matches(type) {
      if (!isWellFormed(type)) return false;
      if (all || exact.has(type)) return true;
      for (const prefix of prefixes) {
        if (type.length > prefix.length && type.startsWith(prefix)) return true;
      }
      for (const c of others) if (matchCompiled(c, type)) return true;
      return false;
    },
  };
}

// Patterns usually come from a handful of endpoints, so a small cache makes the string[] form
// of matchesType as cheap as a precompiled matcher; clearing when full bounds its memory.
const CACHE_LIMIT = 10_000;
const cache = new Map<string, TypePattern>();

function cachedPattern(pattern: string): TypePattern {
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    compiled = compileTypePattern(pattern);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, compiled);
  }
  return compiled;
}

/**
 * True when `type` matches any of the patterns. Pass a TypeMatcher from compileTypeMatcher on
 * hot paths; a plain array is compiled pattern by pattern (cached) and throws
 * `type_pattern.invalid` on a bad pattern.
 */
export function matchesType(patterns: readonly string[] | TypeMatcher, type: string): boolean {
  if (!Array.isArray(patterns)) return (patterns as TypeMatcher).matches(type);
  for (const pattern of patterns as readonly string[]) {
    if (cachedPattern(pattern).matches(type)) return true;
  }
  return false;
}

/** True when `pattern` is a valid pattern (see the rules at the top of this file). */
export function isValidTypePattern(pattern: unknown): boolean {
  try {
    parse(pattern as string);
    return true;
  } catch {
    return false;
  }
}
