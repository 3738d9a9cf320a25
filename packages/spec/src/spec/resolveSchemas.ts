// An event's JSON Schema, whole: inline as written, read from a file beside the spec, or taken
// from an OpenAPI/AsyncAPI document by `$ref` (`openapi.yaml#/components/schemas/Invoice`).
// References inside the document (`#/…`) are inlined, so nested schemas stay whole; references
// to other files or URLs are refused (nothing is fetched), and so are recursive ones.

import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import { parseYaml } from "../config/yamlSource.js";

export type JsonSchema = Record<string, unknown>;

/** How deep a schema may nest once its references are inlined (objects and arrays). */
export const MAX_SCHEMA_DEPTH = 256;

/** Follows a JSON Pointer (`/components/schemas/Invoice`) in `doc`; undefined when absent. */
export function atPointer(doc: unknown, pointer: string): unknown {
  if (pointer === "" || pointer === "/") return doc;
  let node = doc;
  for (const raw of pointer.replace(/^\//, "").split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isPlainObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

/**
 * `schema` with every `$ref` into `doc` (`#/…`) replaced by what it points at, recursively.
 * Throws `spec.invalid` for a reference outside the document, a missing target or a cycle.
 */
export function inlineRefs(schema: unknown, doc: unknown, where: string): unknown {
  const visit = (node: unknown, seen: readonly string[], depth = 0): unknown => {
    if (depth > MAX_SCHEMA_DEPTH && (Array.isArray(node) || isPlainObject(node))) {
      throw new HeraldError(
        "spec.invalid",
        `${where}: the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`,
      );
    }
    if (Array.isArray(node)) return node.map((item) => visit(item, seen, depth + 1));
    if (!isPlainObject(node)) return node;
    const ref = node.$ref;
    if (typeof ref === "string") {
      if (!ref.startsWith("#")) {
        throw new HeraldError(
          "spec.invalid",
          `${where}: $ref ${JSON.stringify(ref)} points outside the document (only #/… references are followed; nothing is fetched)`,
        );
      }
      if (seen.includes(ref)) {
        throw new HeraldError("spec.invalid", `${where}: $ref ${JSON.stringify(ref)} is recursive`);
      }
      const target = atPointer(doc, ref.slice(1));
      if (target === undefined) {
        throw new HeraldError(
          "spec.invalid",
          `${where}: $ref ${JSON.stringify(ref)} points at nothing`,
        );
      }
      const { $ref: _ref, ...siblings } = node;
      const inlined = visit(target, [...seen, ref], depth);
      return Object.keys(siblings).length === 0 || !isPlainObject(inlined)
        ? inlined
        : { ...inlined, ...(visit(siblings, seen, depth) as Record<string, unknown>) };
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v, seen, depth + 1)]));
  };
  return visit(schema, []);
}

/** A YAML or JSON document beside the spec, parsed. */
function readDocument(specFile: string, path: string, where: string): unknown {
  if (isAbsolute(path) || /^[a-z][a-z0-9+.-]*:/i.test(path)) {
    throw new HeraldError(
      "spec.invalid",
      `${where}: ${JSON.stringify(path)} must be a path relative to the spec (no absolute paths or URLs)`,
    );
  }
  const full = join(dirname(specFile), path);
  let text: string;
  try {
    text = readFileSync(full, "utf8");
  } catch (error) {
    throw new HeraldError("spec.invalid", `${where}: cannot read ${path}`, { cause: error });
  }
  return parseYaml(text, path, "spec.invalid").doc.toJS();
}

/**
 * The whole JSON Schema of `source` (an event's `schema` as written), for the spec at
 * `specFile`; undefined when the event has none. `where` names the event in messages.
 */
export function resolveEventSchema(
  source: Record<string, unknown> | undefined,
  specFile: string,
  where: string,
): JsonSchema | undefined {
  if (source === undefined) return undefined;
  let schema: unknown;
  if (typeof source.file === "string" && Object.keys(source).length === 1) {
    const doc = readDocument(specFile, source.file, where);
    schema = inlineRefs(doc, doc, where);
  } else if (typeof source.$ref === "string" && Object.keys(source).length === 1) {
    const [path = "", pointer = ""] = source.$ref.split("#");
    if (path === "") {
      throw new HeraldError(
        "spec.invalid",
        `${where}: $ref must name a document: file#/pointer (e.g. openapi.yaml#/components/schemas/Order)`,
      );
    }
    const doc = readDocument(specFile, path, where);
    const target = atPointer(doc, pointer);
    if (target === undefined) {
      throw new HeraldError("spec.invalid", `${where}: ${source.$ref} points at nothing`);
    }
    schema = inlineRefs(target, doc, where);
  } else {
    schema = inlineRefs(source, source, where);
  }
  if (!isPlainObject(schema)) {
    throw new HeraldError("spec.invalid", `${where}: the schema must be a JSON object`);
  }
  return schema as JsonSchema;
}
