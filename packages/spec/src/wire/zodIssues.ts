// One clear sentence per zod issue, naming the key path (`endpoints[1].timeout_ms: must be ≤
// 300000`). Messages never quote the value given (it may be a secret), only its kind.

import { HeraldError, type HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import type { z } from "zod";

type Issue = z.core.$ZodIssue;
export type IssuePath = readonly PropertyKey[];

export interface DescribedIssue {
  /** Where the problem is, from the root of what was parsed. */
  path: PropertyKey[];
  /** What is wrong, e.g. `must be ≤ 300000`; never quotes the value given. */
  problem: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `endpoints[1].headers["X-Api-Key"]`; "" for the root. */
export function formatPath(path: IssuePath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) {
      out += out === "" ? segment : `.${segment}`;
    } else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "an object (a mapping)",
  array: "a list",
  record: "an object (a mapping)",
  null: "null",
};

const RECEIVED: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  array: "a list",
  object: "an object",
  bigint: "a bigint",
  NaN: "NaN",
};

// Parsed without reportInput, issues never carry the value given: its kind is read from zod's
// own message (`Invalid input: expected string, received number`).
function isMissing(issue: Issue): boolean {
  return issue.code === "invalid_type" && /received undefined$/.test(issue.message);
}

function received(issue: Issue): string | undefined {
  const match = /received (\w+)$/.exec(issue.message);
  return match === null ? undefined : (RECEIVED[match[1]!] ?? match[1]);
}

function isDiscriminatorIssue(issue: Issue): issue is z.core.$ZodIssueInvalidUnion & {
  discriminator: string;
  options?: unknown[];
} {
  return (
    issue.code === "invalid_union" &&
    (issue as { note?: string }).note === "No matching discriminator" &&
    typeof (issue as { discriminator?: unknown }).discriminator === "string"
  );
}

function listValues(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(", ");
}

/**
 * The branch of a union the input was meant for: one whose issues are not about its shape
 * (unknown keys, a missing key, no discriminator). Undefined when none or several match.
 */
function chosenBranch(issue: z.core.$ZodIssueInvalidUnion): Issue | undefined {
  const unknownAtRoot = new Set(
    issue.errors.flatMap((branch) =>
      branch.flatMap((i) => (i.code === "unrecognized_keys" && i.path.length === 0 ? i.keys : [])),
    ),
  );
  const structural = (i: Issue): boolean => {
    if (i.code === "unrecognized_keys" && i.path.length === 0) return true;
    if (isMissing(i) && i.path.length <= 1) return true;
    if (isDiscriminatorIssue(i)) return !unknownAtRoot.has(i.discriminator);
    return false;
  };
  const matched = issue.errors.filter(
    (branch) => branch.length > 0 && branch.every((i) => !structural(i)),
  );
  return matched.length === 1 ? matched[0]![0] : undefined;
}

/** The path and problem of one issue; `prefix` is prepended (the issue's own root). */
export function describeZodIssue(issue: Issue, prefix: IssuePath = []): DescribedIssue {
  const path = [...prefix, ...issue.path];
  const at = (problem: string): DescribedIssue => ({ path, problem });
  switch (issue.code) {
    case "invalid_type": {
      if (isMissing(issue)) return at("is required");
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const got = received(issue);
      return at(got === undefined ? `must be ${expected}` : `must be ${expected} (got ${got})`);
    }
    case "too_big": {
      const max = String(issue.maximum);
      if (issue.origin === "string") return at(`must be at most ${max} characters`);
      if (issue.origin === "array") return at(`must have at most ${max} items`);
      if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint") {
        return at(issue.inclusive === false ? `must be < ${max}` : `must be ≤ ${max}`);
      }
      return at(issue.message);
    }
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "string") {
        return at(min <= 1 ? "must not be empty" : `must be at least ${min} characters`);
      }
      if (issue.origin === "array") {
        return at(`must have at least ${min} item${min === 1 ? "" : "s"}`);
      }
      if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint") {
        return at(issue.inclusive === false ? `must be > ${min}` : `must be ≥ ${min}`);
      }
      return at(issue.message);
    }
    case "invalid_format":
      return at(
        issue.message.startsWith("Invalid") ? `must be a valid ${issue.format}` : issue.message,
      );
    case "not_multiple_of":
      return at(`must be a multiple of ${String(issue.divisor)}`);
    case "invalid_value":
      return at(
        issue.values.length === 1
          ? `must be ${listValues(issue.values)}`
          : `must be one of ${listValues(issue.values)}`,
      );
    case "unrecognized_keys": {
      const [first, ...rest] = issue.keys;
      const others = rest.length === 0 ? "" : ` (nor are ${listValues(rest)})`;
      return { path: [...path, first ?? ""], problem: `is not a known key${others}` };
    }
    case "invalid_key": {
      const inner = issue.issues[0];
      const problem = inner === undefined ? issue.message : describeZodIssue(inner).problem;
      return at(`is not a valid key: ${problem}`);
    }
    case "invalid_element": {
      const inner = issue.issues[0];
      return inner === undefined ? at(issue.message) : describeZodIssue(inner, path);
    }
    case "invalid_union": {
      if (isDiscriminatorIssue(issue)) {
        const options = issue.options ?? [];
        return options.length > 0 ? at(`must be one of ${listValues(options)}`) : at(issue.message);
      }
      const branch = chosenBranch(issue);
      if (branch !== undefined) return describeZodIssue(branch, path);
      return at(
        issue.message === "Invalid input" ? "does not match any allowed form" : issue.message,
      );
    }
    default:
      return at(issue.message);
  }
}

/** `endpoints[1].timeout_ms: must be ≤ 300000` (no path: just the problem). */
export function formatZodIssue(issue: Issue, prefix: IssuePath = []): string {
  const { path, problem } = describeZodIssue(issue, prefix);
  const where = formatPath(path);
  return where === "" ? problem : `${where}: ${problem}`;
}

export interface ZodErrorToHeraldOptions {
  /** Named first in the message (`herald.yaml:12:5: …`). */
  file?: string;
  /** Line and column (1-based) of a path in the file, when known. */
  lineOf?: (path: IssuePath) => { line: number; column: number } | undefined;
  /** Prepended to every issue path (e.g. `["endpoints", 0]`). */
  prefix?: IssuePath;
}

/** Where a message points: `file:line:column`, `file`, or nothing. */
export function location(
  file: string | undefined,
  position: { line: number; column: number } | undefined,
): string | undefined {
  if (file === undefined) return undefined;
  return position === undefined ? file : `${file}:${position.line}:${position.column}`;
}

/**
 * A HeraldError for the first issue of a ZodError: one message naming the file and line when
 * given, the key path and the problem; `details` has `field` (the path) and every issue's
 * `{field, message}` (at most 20), plus `file`, `line`, `column` when known.
 */
export function zodErrorToHerald(
  error: z.ZodError,
  code: HeraldErrorCode,
  options: ZodErrorToHeraldOptions = {},
): HeraldError {
  const described = error.issues.map((issue) => describeZodIssue(issue, options.prefix));
  const first = described[0] ?? { path: [...(options.prefix ?? [])], problem: "is invalid" };
  const position = options.lineOf?.(first.path);
  const field = formatPath(first.path);
  const message = [location(options.file, position), field, first.problem]
    .filter((part) => part !== undefined && part !== "")
    .join(": ");
  return new HeraldError(code, message, {
    cause: error,
    details: {
      field,
      issues: described
        .slice(0, 20)
        .map((d) => ({ field: formatPath(d.path), message: d.problem })),
      ...(options.file === undefined ? {} : { file: options.file }),
      ...(position === undefined ? {} : position),
    },
  });
}

/**
 * Parses `input` with `schema`, throwing a HeraldError (`request.invalid` by default) built by
 * zodErrorToHerald when it does not match.
 */
export function parseWire<S extends z.ZodType>(
  schema: S,
  input: unknown,
  code: HeraldErrorCode = "request.invalid",
): z.output<S> {
  // Without reportInput, issues (kept as the cause) never carry the values given: no secrets.
  const result = schema.safeParse(input);
  if (!result.success) throw zodErrorToHerald(result.error, code);
  return result.data;
}
