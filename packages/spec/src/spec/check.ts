// The gate for a user's CI: a committed OpenAPI document must be exactly what the spec
// generates, and importing it must give the spec back. A difference is reported as a short
// line diff, and a dropped or edited `x-herald-webhook` by the webhook's name.

import { renderAsyncApi } from "./asyncapi.js";
import { canonicalJson } from "./canonicalJson.js";
import { fromAsyncApi, fromOpenApi, type ImportResult } from "./importOpenApi.js";
import type { LoadedSpec } from "./load.js";
import { type GeneratorInfo, renderOpenApi } from "./openapi.js";

export interface CheckResult {
  ok: boolean;
  /** One line per problem, naming the webhook where one is concerned. */
  problems: string[];
  /** Committed (-) against generated (+), around the first difference; "" when equal. */
  diff: string;
}

const CONTEXT = 3;
const MAX_DIFF_LINES = 40;

/** A short line diff: the changed middle between the common head and tail, with context. */
export function lineDiff(before: string, after: string): string {
  if (before === after) return "";
  const a = before.split("\n");
  const b = after.split("\n");
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail++;
  }
  const from = Math.max(0, head - CONTEXT);
  const lines = [
    `@@ line ${head + 1} @@`,
    ...a.slice(from, head).map((line) => `  ${line}`),
    ...a.slice(head, a.length - tail).map((line) => `- ${line}`),
    ...b.slice(head, b.length - tail).map((line) => `+ ${line}`),
    ...a.slice(a.length - tail, a.length - tail + CONTEXT).map((line) => `  ${line}`),
  ];
  const shown = lines.slice(0, MAX_DIFF_LINES);
  if (lines.length > shown.length) shown.push(`… ${lines.length - shown.length} more lines`);
  return `${shown.join("\n")}\n`;
}

/** Whether `committedText` (an openapi.json) is what `loaded` generates and imports back. */
export function checkOpenApi(
  loaded: LoadedSpec,
  committedText: string,
  generator: GeneratorInfo,
  file = "openapi.json",
): CheckResult {
  const expected = renderOpenApi(loaded, generator);
  return checkDocument(loaded, committedText, expected, fromOpenApi, file, "herald spec openapi");
}

/** Whether `committedText` (an asyncapi.json) is what `loaded` generates and imports back. */
export function checkAsyncApi(
  loaded: LoadedSpec,
  committedText: string,
  generator: GeneratorInfo,
  file = "asyncapi.json",
): CheckResult {
  const expected = renderAsyncApi(loaded, generator);
  return checkDocument(loaded, committedText, expected, fromAsyncApi, file, "herald spec asyncapi");
}

function checkDocument(
  loaded: LoadedSpec,
  committedText: string,
  expected: string,
  importer: (doc: unknown) => ImportResult,
  file: string,
  command: string,
): CheckResult {
  if (committedText === expected) return { ok: true, problems: [], diff: "" };
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = JSON.parse(committedText);
  } catch {
    problems.push(`${file}: is not JSON`);
  }
  if (doc !== undefined) {
    const imported = importer(doc);
    problems.push(...imported.problems.map((p) => `${file}: ${p.where}: ${p.problem}`));
    if (imported.spec !== null && canonicalJson(imported.spec) !== canonicalJson(loaded.spec)) {
      const names = loaded.spec.webhooks
        .filter((w) => {
          const back = imported.spec?.webhooks.find((x) => x.name === w.name);
          return back === undefined || canonicalJson(back) !== canonicalJson(w);
        })
        .map((w) => w.name);
      problems.push(
        `${file}: imports to a different spec${names.length > 0 ? ` (webhooks ${names.join(", ")})` : ""}`,
      );
    }
  }
  problems.push(`${file}: differs from what ${loaded.file} generates (${command})`);
  return { ok: false, problems, diff: lineDiff(committedText, expected) };
}
