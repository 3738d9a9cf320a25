// Precompiled validators for generated code: each event's JSON Schema (draft 2020-12, the
// dialect of OpenAPI 3.1) compiled by Ajv into standalone ES module source, with Ajv's two
// runtime helpers written in, so the generated module imports nothing. Formats are not
// checked (`format` is an annotation), and `$schema` / `$id` are dropped before compiling.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import standalone from "ajv/dist/standalone/index.js";

// The CommonJS module's default export, whichever way the loader exposes it.
const standaloneCode =
  (standalone as unknown as { default: typeof standalone.default }).default ?? standalone;

const RUNTIME: Readonly<Record<string, string>> = {
  "ajv/dist/runtime/ucs2length": `function (text) {
  let length = 0;
  for (const _ of text) length++;
  return length;
}`,
  "ajv/dist/runtime/equal": `function equal(a, b) {
  if (a === b) return true;
  if (a && b && typeof a === "object" && typeof b === "object") {
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && equal(a[key], b[key]));
  }
  return a !== a && b !== b;
}`,
};

function withoutIds(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutIds);
  if (schema === null || typeof schema !== "object") return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => key !== "$schema" && key !== "$id")
      .map(([key, value]) => [key, withoutIds(value)]),
  );
}

/**
 * ES module source exporting one validator per entry (`export const <name>`): a function that
 * returns true when the value matches its schema, with `.errors` set otherwise.
 */
export function validatorModule(schemas: ReadonlyArray<readonly [string, unknown]>): string {
  const ajv = new Ajv2020({
    code: { source: true, esm: true, lines: true },
    strict: false,
    validateFormats: false,
    allErrors: false,
  });
  const exports: Record<string, string> = {};
  for (const [name, schema] of schemas) {
    try {
      ajv.addSchema(withoutIds(schema) as object, `#${name}`);
    } catch (error) {
      throw new HeraldError(
        "spec.invalid",
        `the schema for ${name} does not compile: ${String(error)}`,
      );
    }
    exports[name] = `#${name}`;
  }
  const source = standaloneCode(ajv, exports).replace(
    /require\("([^"]+)"\)\.default/g,
    (_match, runtime: string) => {
      const code = RUNTIME[runtime];
      if (code === undefined) {
        throw new HeraldError(
          "spec.invalid",
          `a schema needs ${runtime}, which generated validators do not include`,
        );
      }
      return `(${code})`;
    },
  );
  return source.replace(/^"use strict";/, "");
}
