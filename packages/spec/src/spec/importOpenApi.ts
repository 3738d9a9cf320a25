// The spec back from an OpenAPI or AsyncAPI document Herald wrote: every `x-herald-webhook`
// block (on operations, or on channels), in the order `x-herald-spec` lists, with its `info`. Anything that keeps the spec from being
// recovered exactly — a missing or edited block, copies that disagree — is reported by webhook
// name instead of skipped.

import { isPlainObject } from "@heraldjs/webhooks/internal/core/json.js";
import { formatZodIssue } from "../wire/zodIssues.js";
import { canonicalJson } from "./canonicalJson.js";
import { SPEC_EXTENSION, unescapeRefs, WEBHOOK_EXTENSION } from "./openapi.js";
import { type Spec, specFileSchema, type WebhookSpec, webhookSpecSchema } from "./schema.js";

export interface ImportProblem {
  /** The webhook concerned, when there is one. */
  webhook?: string;
  /** Where in the document (`paths./webhooks/stripe.post`, `webhooks.order.paid.post`). */
  where: string;
  problem: string;
}

export interface ImportResult {
  /** The spec, when every webhook was recovered; null otherwise (see problems). */
  spec: Spec | null;
  problems: ImportProblem[];
}

interface FoundBlock {
  where: string;
  block: unknown;
}

/** Every operation of `paths` and `webhooks` with where it is. */
function operations(doc: Record<string, unknown>): Array<{ where: string; operation: unknown }> {
  const found: Array<{ where: string; operation: unknown }> = [];
  for (const section of ["paths", "webhooks"] as const) {
    const items = doc[section];
    if (!isPlainObject(items)) continue;
    for (const [key, item] of Object.entries(items)) {
      if (!isPlainObject(item)) continue;
      for (const [method, operation] of Object.entries(item)) {
        found.push({ where: `${section}[${JSON.stringify(key)}].${method}`, operation });
      }
    }
  }
  return found;
}

/** Where each `x-herald-webhook` block of a document is: its operations, or its channels. */
type Sites = Array<{ where: string; holder: unknown }>;

function channels(doc: Record<string, unknown>): Sites {
  const items = doc.channels;
  if (!isPlainObject(items)) return [];
  return Object.entries(items).map(([key, holder]) => ({
    where: `channels[${JSON.stringify(key)}]`,
    holder,
  }));
}

/** The spec an OpenAPI document written by Herald was generated from. */
export function fromOpenApi(doc: unknown): ImportResult {
  return fromHeraldDocument(doc, "operation", (root) =>
    operations(root).map(({ where, operation }) => ({ where, holder: operation })),
  );
}

/** The spec an AsyncAPI document written by Herald was generated from (from its channels). */
export function fromAsyncApi(doc: unknown): ImportResult {
  return fromHeraldDocument(doc, "channel", channels);
}

function fromHeraldDocument(
  doc: unknown,
  holderName: "operation" | "channel",
  sitesOf: (root: Record<string, unknown>) => Sites,
): ImportResult {
  const problems: ImportProblem[] = [];
  if (!isPlainObject(doc)) {
    return { spec: null, problems: [{ where: "", problem: "the document is not a JSON object" }] };
  }
  const root = doc[SPEC_EXTENSION];
  const order = isPlainObject(root) && Array.isArray(root.order) ? root.order : undefined;
  if (order === undefined || !order.every((name) => typeof name === "string")) {
    return {
      spec: null,
      problems: [{ where: SPEC_EXTENSION, problem: "is missing or has no order of webhook names" }],
    };
  }
  const blocks = new Map<string, FoundBlock[]>();
  for (const { where, holder } of sitesOf(doc)) {
    const written = isPlainObject(holder) ? holder[WEBHOOK_EXTENSION] : undefined;
    if (written === undefined) {
      problems.push({ where, problem: `has no ${WEBHOOK_EXTENSION} extension` });
      continue;
    }
    const block = unescapeRefs(written);
    const name = isPlainObject(block) && typeof block.name === "string" ? block.name : "";
    blocks.set(name, [...(blocks.get(name) ?? []), { where, block }]);
  }
  const webhooks: WebhookSpec[] = [];
  for (const name of order as string[]) {
    const copies = blocks.get(name) ?? [];
    const first = copies[0];
    if (first === undefined) {
      problems.push({
        webhook: name,
        where: SPEC_EXTENSION,
        problem: `webhook ${name}: no ${holderName} carries its ${WEBHOOK_EXTENSION} block (removed?)`,
      });
      continue;
    }
    const text = canonicalJson(first.block);
    const differing = copies.find((copy) => canonicalJson(copy.block) !== text);
    if (differing !== undefined) {
      problems.push({
        webhook: name,
        where: differing.where,
        problem: `webhook ${name}: its ${WEBHOOK_EXTENSION} block differs from the one at ${first.where} (edited?)`,
      });
      continue;
    }
    const parsed = webhookSpecSchema.safeParse(first.block);
    if (!parsed.success) {
      problems.push({
        webhook: name,
        where: first.where,
        problem: `webhook ${name}: ${formatZodIssue(parsed.error.issues[0]!, [WEBHOOK_EXTENSION])}`,
      });
      continue;
    }
    webhooks.push(parsed.data);
  }
  for (const name of blocks.keys()) {
    if (!(order as string[]).includes(name)) {
      problems.push({
        webhook: name,
        where: SPEC_EXTENSION,
        problem: `webhook ${name || "(unnamed)"}: has operations but is not in ${SPEC_EXTENSION}.order`,
      });
    }
  }
  const info = isPlainObject(root) ? root.info : undefined;
  const spec: Spec = { ...(info === undefined ? {} : { info: info as Spec["info"] }), webhooks };
  const checked = specFileSchema.safeParse(spec);
  if (problems.length === 0 && !checked.success) {
    problems.push({
      where: SPEC_EXTENSION,
      problem: formatZodIssue(checked.error.issues[0]!, [SPEC_EXTENSION]),
    });
  }
  return problems.length === 0 ? { spec, problems } : { spec: null, problems };
}
