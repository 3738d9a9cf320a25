// JSON value types and a check that a value survives JSON.stringify/parse unchanged.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Deepest nesting of arrays and objects Herald accepts in any JSON it receives or stores (the one
 * bounded-depth rule): far beyond real payloads, far below SQLite's JSON limit (1000) and any
 * recursion over JSON in Herald or its dependencies (JSON.stringify, schema validation).
 */
export const MAX_JSON_DEPTH = 64;

/** An object literal or `Object.create(null)`: not an array, Date, Map, class instance… */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export interface JsonProblem {
  /** Where the offending value sits, under the base path: `payload.items[2].price`. */
  path: string;
  reason: string;
}

interface Frame {
  value: unknown;
  parent: Frame | undefined;
  key: string | number | undefined;
  /** Arrays and objects around the value. */
  depth: number;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Appends a key to a path: `a` + `b` → `a.b`, `a` + 2 → `a[2]`, `a` + `x.y` → `a["x.y"]`. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === "" ? key : `${path}.${key}`;
}

function pathOf(frame: Frame, base: string): string {
  const keys: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) keys.push(f.key);
  let path = base;
  for (let i = keys.length - 1; i >= 0; i--) path = joinPath(path, keys[i]!);
  return path;
}

function problemWith(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${value} is not representable in JSON`;
    case "object":
      if (value === null || Array.isArray(value) || isPlainObject(value)) return undefined;
      return `a ${value.constructor?.name ?? "non-plain object"} is not a plain JSON value`;
    default:
      return `a ${typeof value} is not a JSON value`;
  }
}

export interface FindJsonProblemOptions {
  /** Deepest nesting of arrays and objects; default MAX_JSON_DEPTH. */
  maxDepth?: number;
}

/**
 * The first value inside `root` that JSON would drop or change (undefined, NaN, a Date, a
 * cycle…) or that nests deeper than `maxDepth`, or undefined when `root` is plain JSON.
 * Iterative, so deep nesting cannot overflow the stack; paths are only built for the value that
 * fails.
 */
export function findJsonProblem(
  root: unknown,
  basePath = "",
  options: FindJsonProblemOptions = {},
): JsonProblem | undefined {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  // An `exit` entry is popped once all of a container's children were checked, so `open` holds
  // exactly the containers on the current path: a value already in it closes a cycle.
  const stack: (Frame | { exit: object })[] = [
    { value: root, parent: undefined, key: undefined, depth: 0 },
  ];
  const open = new Set<object>();
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if ("exit" in item) {
      open.delete(item.exit);
      continue;
    }
    const { value } = item;
    const reason = problemWith(value);
    if (reason !== undefined) return { path: pathOf(item, basePath), reason };
    if (typeof value !== "object" || value === null) continue;
    if (open.has(value)) return { path: pathOf(item, basePath), reason: "circular reference" };
    const depth = item.depth + 1;
    if (depth > maxDepth) {
      return {
        path: pathOf(item, basePath),
        reason: `nests deeper than ${maxDepth} levels of arrays and objects`,
      };
    }
    open.add(value);
    stack.push({ exit: value });
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i], parent: item, key: i, depth });
      }
    } else {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        stack.push({ value: (value as Record<string, unknown>)[key], parent: item, key, depth });
      }
    }
  }
  return undefined;
}
