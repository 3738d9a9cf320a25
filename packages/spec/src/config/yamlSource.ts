// herald.yaml as a YAML document: syntax errors and key paths mapped to line:column, and
// `${NAME}` references replaced from the environment before anything is validated.

import { HeraldError, type HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
} from "yaml";
import { formatPath, type IssuePath, location } from "../wire/zodIssues.js";

interface Position {
  line: number;
  column: number;
}

export interface YamlSource {
  /** The name used in messages (the path as given). */
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

/** A `config.invalid` (or `code`) error pointing at `file:line:column`, naming the key path. */
export function configError(
  file: string | undefined,
  position: Position | undefined,
  path: IssuePath,
  problem: string,
  cause?: unknown,
  code: HeraldErrorCode = "config.invalid",
): HeraldError {
  const field = formatPath(path);
  const message = [location(file, position), field, problem]
    .filter((part) => part !== undefined && part !== "")
    .join(": ");
  return new HeraldError(code, message, {
    details: {
      field,
      ...(file === undefined ? {} : { file }),
      ...(position === undefined ? {} : position),
    },
    ...(cause === undefined ? {} : { cause }),
  });
}

function positionAt(source: YamlSource, offset: number): Position {
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, column: col };
}

/**
 * Parses the text (YAML, or JSON, which is YAML); throws `config.invalid` (or `code`) at the
 * first syntax error, never quoting the text.
 */
export function parseYaml(
  text: string,
  file: string,
  code: HeraldErrorCode = "config.invalid",
): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const source = { file, doc, lineCounter };
  const [error] = doc.errors;
  if (error !== undefined) {
    throw new HeraldError(
      code,
      `${location(file, positionAt(source, error.pos[0]))}: YAML syntax error: ${error.message}`,
      { details: { file, ...positionAt(source, error.pos[0]), yamlCode: error.code } },
    );
  }
  return source;
}

function resolved(source: YamlSource, node: unknown): unknown {
  return isAlias(node) ? node.resolve(source.doc) : node;
}

/**
 * Line and column of a key path: the key itself when present (`url:` of `endpoints[0].url`),
 * a list item, or the nearest enclosing node when the key is missing.
 */
export function positionOf(source: YamlSource, path: IssuePath): Position | undefined {
  let node = resolved(source, source.doc.contents) as Node | null | undefined;
  let offset = node?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const key = isScalar(p.key) ? p.key.value : p.key;
        return String(key) === String(segment);
      });
      if (pair === undefined) break;
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = resolved(source, pair.value) as Node | null;
      if (node === null || node === undefined) break;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = resolved(source, node.items[segment]) as Node | null | undefined;
      if (item === null || item === undefined) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset === undefined ? { line: 1, column: 1 } : positionAt(source, offset);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

type Env = Readonly<Record<string, string | undefined>>;

/** `${NAME}` replaced from env, `$${` kept as a literal `${`; throws a message for `fail`. */
function substitute(text: string, env: Env, fail: (problem: string) => never): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf("$", i);
    if (at < 0) break;
    out += text.slice(i, at);
    if (text.startsWith("$${", at)) {
      out += "${";
      i = at + 3;
    } else if (text.startsWith("${", at)) {
      const end = text.indexOf("}", at + 2);
      if (end < 0) fail("unterminated ${ (write $${ for a literal ${)");
      const name = text.slice(at + 2, end);
      if (!NAME.test(name)) {
        fail(`\${${name}} is not a valid variable reference (letters, digits and _)`);
      }
      // Own variables only: `${constructor}` is an unset variable, not Object.prototype's.
      const value = Object.hasOwn(env, name) ? env[name] : undefined;
      if (value === undefined) fail(`environment variable ${name} is not set`);
      out += value;
      i = end + 1;
    } else {
      out += "$";
      i = at + 1;
    }
  }
  return out + text.slice(i);
}

/**
 * Replaces `${NAME}` in every string value (not keys) with the environment's value. An
 * unquoted value that is exactly one reference (`port: ${PORT}`) becomes a number or boolean
 * when the variable's text reads as one; quoted values always stay strings. Throws
 * `config.invalid` naming the key, line and variable for an unset variable. Top-level keys in
 * `skipTopLevel` are left as written.
 */
export function interpolateEnv(
  source: YamlSource,
  env: Env,
  skipTopLevel: readonly string[] = [],
): void {
  const visit = (node: unknown, path: PropertyKey[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (path.length === 0 && skipTopLevel.includes(String(key))) continue;
        visit(pair.value, [...path, String(key)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        visit(item, [...path, index]);
      });
    } else if (isScalar(node) && typeof node.value === "string" && node.value.includes("$")) {
      const scalar = node as Scalar<unknown>;
      const original = scalar.value as string;
      const fail = (problem: string): never => {
        throw configError(
          source.file,
          scalar.range === undefined || scalar.range === null
            ? undefined
            : positionAt(source, scalar.range[0]),
          path,
          problem,
        );
      };
      const text = substitute(original, env, fail);
      if (scalar.type === "PLAIN" && WHOLE_REFERENCE.test(original)) {
        if (NUMBER.test(text)) scalar.value = Number(text);
        else if (text === "true" || text === "false") scalar.value = text === "true";
        else scalar.value = text;
      } else scalar.value = text;
    }
  };
  visit(source.doc.contents, []);
}
