// Endpoint filters, IFTTT-style: a JSON condition on a message's payload and headers. This is
// the language (validation and the evaluator); endpoints carry a filter (EndpointRecord.filter)
// and routing.ts applies it. The exact rules are in docs/filters.md; in short:
//  - The filter is an object whose keys are `payload`, `headers`, `$and`, `$or` or `$not`.
//  - At every position, an object is the conjunction of its entries: a key starting with "$"
//    is an operator applied to the value at this position, any other key is a field of it.
//    A string, number, boolean or null means `$eq` that value.
//  - No coercion: an operator whose operand and value differ in type is false. Every operator
//    but `$exist` is false on a missing field (`$not` inverts the whole condition).
//  - Only own properties are read: `__proto__` and `constructor` are keys like any other.
// Bounded: at most MAX_FILTER_DEPTH levels, MAX_FILTER_NODES JSON values and MAX_FILTER_BYTES
// of JSON, so validation and evaluation take bounded work per field of the message.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

export const MAX_FILTER_DEPTH = 32;
export const MAX_FILTER_NODES = 256;
export const MAX_FILTER_BYTES = 4096;

export type FilterJson =
  | string
  | number
  | boolean
  | null
  | readonly FilterJson[]
  | { readonly [key: string]: FilterJson };

export type ValueOperator =
  | "$eq"
  | "$neq"
  | "$gt"
  | "$gte"
  | "$lt"
  | "$lte"
  | "$in"
  | "$nin"
  | "$exist"
  | "$startsWith"
  | "$endsWith";

/** A compiled condition on the value at one position of the message. */
export type FilterCondition =
  | { readonly kind: "all"; readonly of: readonly FilterCondition[] }
  | { readonly kind: "any"; readonly of: readonly FilterCondition[] }
  | { readonly kind: "not"; readonly of: FilterCondition }
  | { readonly kind: "field"; readonly key: string; readonly of: FilterCondition }
  | { readonly kind: "op"; readonly op: ValueOperator; readonly operand: FilterJson };

export interface EndpointFilter {
  /** The filter as given (validated JSON), for storing and showing back. */
  readonly json: FilterJson;
  readonly condition: FilterCondition;
}

export interface FilterSubject {
  readonly payload: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

const ROOT_FIELDS = new Set(["payload", "headers"]);
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

const hasOwn = (object: object, key: string) => Object.hasOwn(object, key);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function fieldPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function invalid(path: string, problem: string): HeraldError {
  return new HeraldError("filter.invalid", `${path}: ${problem}`, { details: { path } });
}

/** Counts JSON values and levels while validating that the input is JSON at all. */
class Budget {
  nodes = 0;
  visit(path: string, depth: number): void {
    this.nodes += 1;
    if (this.nodes > MAX_FILTER_NODES) {
      throw invalid(path, `the filter has more than ${MAX_FILTER_NODES} values`);
    }
    if (depth > MAX_FILTER_DEPTH) {
      throw invalid(path, `the filter is nested more than ${MAX_FILTER_DEPTH} levels deep`);
    }
  }
}

/** Validates a JSON operand (any JSON value) and returns a copy with own properties only. */
function jsonValue(value: unknown, path: string, depth: number, budget: Budget): FilterJson {
  budget.visit(path, depth);
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalid(path, "must be a finite number");
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => jsonValue(item, `${path}[${index}]`, depth + 1, budget));
  }
  if (isPlainObject(value)) {
    const copy: Record<string, FilterJson> = Object.create(null);
    for (const key of Object.keys(value)) {
      Object.defineProperty(copy, key, {
        value: jsonValue(value[key], fieldPath(path, key), depth + 1, budget),
        enumerable: true,
      });
    }
    return copy;
  }
  throw invalid(path, "must be a JSON value");
}

function conditionList(
  value: unknown,
  path: string,
  depth: number,
  budget: Budget,
  root: boolean,
): FilterCondition[] {
  budget.visit(path, depth);
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid(path, "must be a non-empty array of conditions");
  }
  return value.map((item, index) => condition(item, `${path}[${index}]`, depth + 1, budget, root));
}

function operator(
  op: string,
  operand: unknown,
  path: string,
  depth: number,
  budget: Budget,
): FilterCondition {
  switch (op) {
    case "$eq":
    case "$neq":
      return { kind: "op", op, operand: jsonValue(operand, path, depth, budget) };
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte":
      if (typeof operand !== "string" && typeof operand !== "number") {
        throw invalid(path, "must be a number or string");
      }
      return { kind: "op", op, operand: jsonValue(operand, path, depth, budget) };
    case "$in":
    case "$nin":
      if (!Array.isArray(operand) || operand.length === 0) {
        throw invalid(path, "must be a non-empty array");
      }
      return { kind: "op", op, operand: jsonValue(operand, path, depth, budget) };
    case "$exist":
      if (typeof operand !== "boolean") throw invalid(path, "must be true or false");
      return { kind: "op", op, operand: jsonValue(operand, path, depth, budget) };
    case "$startsWith":
    case "$endsWith":
      if (typeof operand !== "string") throw invalid(path, "must be a string");
      return { kind: "op", op, operand: jsonValue(operand, path, depth, budget) };
    default:
      throw invalid(
        path,
        "is not an operator (operators: $eq $neq $gt $gte $lt $lte $in $nin $exist $startsWith $endsWith $or $and $not)",
      );
  }
}

function condition(
  value: unknown,
  path: string,
  depth: number,
  budget: Budget,
  root: boolean,
): FilterCondition {
  if (!isPlainObject(value)) {
    if (root) throw invalid(path, "must be an object with payload, headers, $and, $or or $not");
    if (Array.isArray(value)) {
      throw invalid(path, "an array is not a condition (use $eq or $in to compare with one)");
    }
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) {
      return operator("$eq", value, path, depth, budget);
    }
    throw invalid(path, "must be a JSON value");
  }
  budget.visit(path, depth);
  const keys = Object.keys(value);
  if (keys.length === 0) throw invalid(path, "must not be empty");
  const all: FilterCondition[] = [];
  for (const key of keys) {
    const child = value[key];
    const childPath = fieldPath(path, key);
    if (key === "$and" || key === "$or") {
      const of = conditionList(child, childPath, depth + 1, budget, root);
      all.push({ kind: key === "$and" ? "all" : "any", of });
    } else if (key === "$not") {
      all.push({ kind: "not", of: condition(child, childPath, depth + 1, budget, root) });
    } else if (root) {
      if (!ROOT_FIELDS.has(key)) {
        throw invalid(childPath, "is not payload, headers, $and, $or or $not");
      }
      all.push({ kind: "field", key, of: condition(child, childPath, depth + 1, budget, false) });
    } else if (key.startsWith("$")) {
      all.push(operator(key, child, childPath, depth + 1, budget));
    } else {
      all.push({ kind: "field", key, of: condition(child, childPath, depth + 1, budget, false) });
    }
  }
  return all.length === 1 ? (all[0] as FilterCondition) : { kind: "all", of: all };
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * Validates a filter as received (parsed JSON) and compiles it. Throws HeraldError
 * `filter.invalid` whose message starts with the path of the offending part
 * (`filter.payload.total.$gte: must be a number or string`) and whose details carry that path.
 */
export function parseEndpointFilter(value: unknown): EndpointFilter {
  const budget = new Budget();
  const compiled = condition(value, "filter", 1, budget, true);
  const json = jsonValue(value, "filter", 1, new Budget());
  const bytes = utf8Length(JSON.stringify(json));
  if (bytes > MAX_FILTER_BYTES) {
    throw invalid("filter", `is ${bytes} bytes of JSON, more than ${MAX_FILTER_BYTES}`);
  }
  return { json, condition: compiled };
}

const MISSING: unique symbol = Symbol("missing");
type Value = unknown | typeof MISSING;

/** Deep equality of JSON values, no coercion; recursion follows the operand (bounded depth). */
function jsonEqual(actual: unknown, expected: FilterJson): boolean {
  if (expected === null || typeof expected !== "object") return actual === expected;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    return expected.every((item: FilterJson, index) => jsonEqual(actual[index], item));
  }
  if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
  const expectedKeys = Object.keys(expected);
  if (Object.keys(actual).length !== expectedKeys.length) return false;
  return expectedKeys.every(
    (key) =>
      hasOwn(actual, key) &&
      jsonEqual(
        (actual as Record<string, unknown>)[key],
        (expected as Record<string, FilterJson>)[key] as FilterJson,
      ),
  );
}

function compare(
  op: "$gt" | "$gte" | "$lt" | "$lte",
  actual: unknown,
  operand: FilterJson,
): boolean {
  if (typeof actual !== typeof operand) return false;
  if (typeof actual !== "number" && typeof actual !== "string") return false;
  const a = actual as number | string;
  const b = operand as number | string;
  switch (op) {
    case "$gt":
      return a > b;
    case "$gte":
      return a >= b;
    case "$lt":
      return a < b;
    case "$lte":
      return a <= b;
  }
}

function applyOperator(op: ValueOperator, operand: FilterJson, value: Value): boolean {
  if (op === "$exist") return (value !== MISSING) === operand;
  if (value === MISSING) return false;
  switch (op) {
    case "$eq":
      return jsonEqual(value, operand);
    case "$neq":
      return !jsonEqual(value, operand);
    case "$in":
      return (operand as readonly FilterJson[]).some((item) => jsonEqual(value, item));
    case "$nin":
      return !(operand as readonly FilterJson[]).some((item) => jsonEqual(value, item));
    case "$startsWith":
      return typeof value === "string" && value.startsWith(operand as string);
    case "$endsWith":
      return typeof value === "string" && value.endsWith(operand as string);
    default:
      return compare(op, value, operand);
  }
}

function child(value: Value, key: string): Value {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return MISSING;
  return hasOwn(value, key) ? (value as Record<string, unknown>)[key] : MISSING;
}

function evaluate(condition: FilterCondition, value: Value): boolean {
  switch (condition.kind) {
    case "all":
      return condition.of.every((item) => evaluate(item, value));
    case "any":
      return condition.of.some((item) => evaluate(item, value));
    case "not":
      return !evaluate(condition.of, value);
    case "field":
      return evaluate(condition.of, child(value, condition.key));
    case "op":
      return applyOperator(condition.op, condition.operand, value);
  }
}

/** The reference evaluator: whether a message with this payload and headers passes the filter. */
export function matchesFilter(filter: EndpointFilter, subject: FilterSubject): boolean {
  const root: Record<string, unknown> = Object.create(null);
  root.payload = subject.payload;
  root.headers = subject.headers;
  return evaluate(filter.condition, root);
}
