// A provider's published OpenAPI document (its `webhooks`, or `x-webhooks` before 3.1) as one
// inbound webhook of a spec: each entry becomes an event type whose JSON request body schema is
// kept whole — internal `$ref`s inlined, nested, `oneOf` and array schemas intact. References
// outside the document are refused (nothing is fetched), and every entry that cannot be
// imported is reported by name instead of skipped.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import { TYPE_NAME_PATTERN } from "../wire/common.js";
import { formatZodIssue } from "../wire/zodIssues.js";
import type { ImportProblem } from "./importOpenApi.js";
import { inlineRefs } from "./resolveSchemas.js";
import { type EventSpec, type SigningSpec, type Spec, specFileSchema } from "./schema.js";

export interface ThirdPartyImportOptions {
  /** The webhook's name in the spec. */
  name: string;
  /** How the provider signs its webhooks. */
  signing: SigningSpec;
  /** Where it is received; default `/webhooks/<name>`. */
  path?: string;
}

export interface ThirdPartyImportResult {
  /** The spec with every entry that could be imported; null when none could. */
  spec: Spec | null;
  /** One per entry that could not be imported, by name. */
  problems: ImportProblem[];
}

const JSON_MEDIA = /^application\/(?:[\w.+-]+\+)?json(?:;.*)?$/i;

/** The JSON schema of an operation's request body, and its examples. */
function jsonBody(operation: Record<string, unknown>, doc: unknown, where: string) {
  let body = operation.requestBody;
  if (isPlainObject(body) && typeof body.$ref === "string") body = inlineRefs(body, doc, where);
  const content = isPlainObject(body) ? body.content : undefined;
  if (!isPlainObject(content)) return undefined;
  const media = Object.keys(content)
    .sort()
    .find((type) => JSON_MEDIA.test(type));
  const chosen = media === undefined ? undefined : content[media];
  if (!isPlainObject(chosen) || !isPlainObject(chosen.schema)) return undefined;
  const examples: unknown[] = [];
  if (chosen.example !== undefined) examples.push(chosen.example);
  if (isPlainObject(chosen.examples)) {
    for (const key of Object.keys(chosen.examples).sort()) {
      const example = chosen.examples[key];
      if (isPlainObject(example) && example.value !== undefined) examples.push(example.value);
    }
  }
  return { schema: chosen.schema, examples };
}

function eventOf(key: string, item: unknown, doc: unknown): EventSpec {
  const where = `webhooks[${JSON.stringify(key)}]`;
  const resolvedItem =
    isPlainObject(item) && typeof item.$ref === "string" ? inlineRefs(item, doc, where) : item;
  const operation = isPlainObject(resolvedItem) ? resolvedItem.post : undefined;
  if (!isPlainObject(operation)) {
    throw new HeraldError("spec.invalid", `${where}: has no post operation`);
  }
  const body = jsonBody(operation, doc, where);
  if (body === undefined) {
    throw new HeraldError("spec.invalid", `${where}: has no JSON request body schema`);
  }
  const schema = inlineRefs(body.schema, doc, where) as Record<string, unknown>;
  const type = TYPE_NAME_PATTERN.test(key)
    ? key
    : typeof operation.operationId === "string" && TYPE_NAME_PATTERN.test(operation.operationId)
      ? operation.operationId
      : undefined;
  if (type === undefined) {
    throw new HeraldError(
      "spec.invalid",
      `${where}: neither its name nor its operationId is an event type (no spaces, dots between parts)`,
    );
  }
  const description = [operation.summary, operation.description].find(
    (text): text is string => typeof text === "string" && text !== "",
  );
  return {
    type,
    ...(description === undefined ? {} : { description: description.slice(0, 4096) }),
    schema,
    ...(body.examples.length === 0 ? {} : { examples: body.examples.slice(0, 20) }),
    ...(operation.deprecated === true ? { deprecated: true } : {}),
  };
}

/** The inbound webhook a provider's OpenAPI document describes, as a spec. */
export function fromThirdPartyOpenApi(
  doc: unknown,
  options: ThirdPartyImportOptions,
): ThirdPartyImportResult {
  if (!isPlainObject(doc)) {
    return { spec: null, problems: [{ where: "", problem: "the document is not a JSON object" }] };
  }
  const section = isPlainObject(doc.webhooks)
    ? "webhooks"
    : isPlainObject(doc["x-webhooks"])
      ? "x-webhooks"
      : undefined;
  if (section === undefined) {
    return {
      spec: null,
      problems: [{ where: "", problem: "the document has no webhooks (nor x-webhooks) to import" }],
    };
  }
  const entries = doc[section] as Record<string, unknown>;
  const events: EventSpec[] = [];
  const problems: ImportProblem[] = [];
  for (const key of Object.keys(entries)) {
    try {
      const event = eventOf(key, entries[key], doc);
      if (events.some((e) => e.type === event.type)) {
        throw new HeraldError(
          "spec.invalid",
          `${section}[${JSON.stringify(key)}]: repeats event type ${event.type}`,
        );
      }
      events.push(event);
    } catch (error) {
      if (!(error instanceof HeraldError) || error.code !== "spec.invalid") throw error;
      problems.push({
        webhook: key,
        where: `${section}[${JSON.stringify(key)}]`,
        problem: error.message.replace(/^webhooks\[[^\]]*\]: /, ""),
      });
    }
  }
  if (events.length === 0) return { spec: null, problems };
  const info = isPlainObject(doc.info) ? doc.info : {};
  const spec: Spec = {
    ...(typeof info.title === "string" ? { info: { title: info.title.slice(0, 256) } } : {}),
    webhooks: [
      {
        name: options.name,
        direction: "in",
        signing: options.signing,
        ...(options.path === undefined ? {} : { path: options.path }),
        events,
      },
    ],
  };
  const checked = specFileSchema.safeParse(spec);
  if (!checked.success) {
    return {
      spec: null,
      problems: [...problems, { where: "", problem: formatZodIssue(checked.error.issues[0]!) }],
    };
  }
  return { spec, problems };
}
