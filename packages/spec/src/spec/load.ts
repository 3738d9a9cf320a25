// Loading a webhooks spec: a file of its own, or the `webhooks:` (and `info:`) of herald.yaml,
// in YAML or JSON. Every problem is a `spec.invalid` error naming `file:line:column` and the key
// path, like the config loader's. Nothing is read from the environment: the same file always
// gives the same spec.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { configError, parseYaml, positionOf, type YamlSource } from "../config/yamlSource.js";
import { formatPath, zodErrorToHerald } from "../wire/zodIssues.js";
import { type JsonSchema, resolveEventSchema } from "./resolveSchemas.js";
import { type Spec, specFileSchema } from "./schema.js";
import { specProblems } from "./specRules.js";

export interface LoadedSpec {
  /** The file as named by the caller (messages and generated headers use it as given). */
  file: string;
  spec: Spec;
  /** Each event's whole JSON Schema, by `webhookName` then event type; absent without one. */
  schemas: ReadonlyMap<string, ReadonlyMap<string, JsonSchema>>;
}

function fail(source: YamlSource, path: readonly PropertyKey[], problem: string): never {
  throw configError(
    source.file,
    positionOf(source, path),
    path,
    problem,
    undefined,
    "spec.invalid",
  );
}

/** The spec in `text`, read from `file` (a path relative to `cwd`, or absolute). */
export function parseSpec(text: string, file: string, cwd = process.cwd()): LoadedSpec {
  const source = parseYaml(text, file, "spec.invalid");
  const parsed = specFileSchema.safeParse(source.doc.toJS());
  if (!parsed.success) {
    throw zodErrorToHerald(parsed.error, "spec.invalid", {
      file,
      lineOf: (path) => positionOf(source, path),
    });
  }
  const spec: Spec = {
    ...(parsed.data.info === undefined ? {} : { info: parsed.data.info }),
    webhooks: parsed.data.webhooks,
  };
  const [problem] = specProblems(spec);
  if (problem !== undefined) fail(source, problem.path, problem.problem);

  const specFile = resolve(cwd, file);
  const schemas = new Map<string, Map<string, JsonSchema>>();
  spec.webhooks.forEach((webhook, w) => {
    const byType = new Map<string, JsonSchema>();
    webhook.events.forEach((event, e) => {
      const path = ["webhooks", w, "events", e, "schema"];
      try {
        const schema = resolveEventSchema(
          event.schema as Record<string, unknown> | undefined,
          specFile,
          formatPath(path),
        );
        if (schema !== undefined) byType.set(event.type, schema);
      } catch (error) {
        if (error instanceof HeraldError && error.code === "spec.invalid") {
          const problem = error.message.replace(`${formatPath(path)}: `, "");
          throw configError(file, positionOf(source, path), path, problem, error, "spec.invalid");
        }
        throw error;
      }
    });
    schemas.set(webhook.name, byType);
  });
  return { file, spec, schemas };
}

/** The spec in the file at `file` (relative to `cwd`). */
export function loadSpec(file: string, cwd = process.cwd()): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), "utf8");
  } catch (error) {
    throw new HeraldError("spec.invalid", `${file}: cannot read the spec`, {
      cause: error,
      details: { file },
    });
  }
  return parseSpec(text, file, cwd);
}
