// TypeScript types from JSON Schemas, for generated code: objects with their required and
// optional properties, arrays, enums and consts as literal unions, oneOf/anyOf as unions, allOf
// as intersections, type lists, and `unknown` for whatever a schema leaves open. The same schema
// always gives the same text (properties in sorted order).

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === "object" && !Array.isArray(value);

function literal(value: unknown): string {
  return value === null || ["string", "number", "boolean"].includes(typeof value)
    ? JSON.stringify(value)
    : "unknown";
}

function union(parts: readonly string[]): string {
  const unique = [...new Set(parts)];
  if (unique.includes("unknown")) return "unknown";
  return unique.length === 0
    ? "never"
    : unique.length === 1
      ? (unique[0] as string)
      : `(${unique.join(" | ")})`;
}

function objectType(schema: Schema, indent: string): string {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const inner = `${indent}  `;
  const lines = Object.keys(properties)
    .sort()
    .map((name) => {
      const key = IDENTIFIER.test(name) ? name : JSON.stringify(name);
      const optional = required.has(name) ? "" : "?";
      return `${inner}${key}${optional}: ${typeText(properties[name], inner)};`;
    });
  const extra = schema.additionalProperties;
  if (extra !== false) {
    const value = isSchema(extra) ? union([typeText(extra, inner), "unknown"]) : "unknown";
    lines.push(`${inner}[key: string]: ${value};`);
  }
  return lines.length === 0 ? "Record<string, never>" : `{\n${lines.join("\n")}\n${indent}}`;
}

function byType(type: string, schema: Schema, indent: string): string {
  switch (type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array": {
      const items = isSchema(schema.items) ? typeText(schema.items, indent) : "unknown";
      return `Array<${items}>`;
    }
    case "object":
      return objectType(schema, indent);
    default:
      return "unknown";
  }
}

/** The TypeScript type of the values `schema` accepts, as source text. */
export function typeText(schema: unknown, indent = ""): string {
  if (schema === true || schema === undefined) return "unknown";
  if (schema === false) return "never";
  if (!isSchema(schema)) return "unknown";
  if ("const" in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return union(schema.enum.map(literal));
  for (const key of ["oneOf", "anyOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options)) return union(options.map((option) => typeText(option, indent)));
  }
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.map((part) => typeText(part, indent));
    return parts.includes("never") ? "never" : `(${parts.join(" & ")})`;
  }
  const { type } = schema;
  if (Array.isArray(type)) return union(type.map((t) => byType(String(t), schema, indent)));
  if (typeof type === "string") return byType(type, schema, indent);
  if (isSchema(schema.properties)) return objectType(schema, indent);
  return "unknown";
}

/** `invoice.paid` → `InvoicePaid`, `order-placed.v2` → `OrderPlacedV2` (a type name). */
export function pascalName(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter((word) => word !== "");
  const name = words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join("");
  return /^[A-Za-z]/.test(name) ? name : `T${name}`;
}
