// The rules of a spec that span fields: what only `in` or `out` webhooks may say, unique names,
// paths and event types, and signing options that compile. Each problem names its key path.

import { isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { toSchemeOptions } from "../wire/schemeOptions.js";
import type { IssuePath } from "../wire/zodIssues.js";
import type { Spec, WebhookSpec } from "./schema.js";

export interface SpecProblem {
  path: IssuePath;
  problem: string;
}

/** Where an `in` webhook is received: its `path`, or `/webhooks/<name>`. */
export function receivePath(webhook: WebhookSpec): string {
  return webhook.path ?? `/webhooks/${webhook.name}`;
}

function directionRules(webhook: WebhookSpec, at: IssuePath): SpecProblem[] {
  const only = (key: keyof WebhookSpec, direction: "in" | "out"): SpecProblem[] =>
    webhook[key] !== undefined && webhook.direction !== direction
      ? [{ path: [...at, key], problem: `is only for direction: ${direction}` }]
      : [];
  const problems = [
    ...only("path", "in"),
    ...only("dedupe", "in"),
    ...only("type_from", "in"),
    ...only("max_attempts", "out"),
    ...only("backoff", "out"),
  ];
  const { backoff, max_attempts: attempts } = webhook;
  if (backoff !== undefined && backoff.type !== "schedule" && attempts === undefined) {
    problems.push({
      path: [...at, "max_attempts"],
      problem: `is required with backoff type ${backoff.type}`,
    });
  }
  if (backoff?.type === "schedule" && attempts !== undefined) {
    if (attempts !== backoff.schedule_s.length + 1) {
      problems.push({
        path: [...at, "max_attempts"],
        problem: `must be ${backoff.schedule_s.length + 1} (one attempt, then one per schedule_s delay)`,
      });
    }
  }
  return problems;
}

function signingRules(webhook: WebhookSpec, at: IssuePath): SpecProblem[] {
  const { signing } = webhook;
  if (typeof signing === "string" || signing.options === undefined) return [];
  try {
    toSchemeOptions(signing.scheme, signing.options, "options");
    return [];
  } catch (error) {
    if (!isHeraldError(error)) throw error;
    const field = String(error.details?.field ?? "options");
    const problem = error.message.startsWith(`${field}: `)
      ? error.message.slice(field.length + 2)
      : error.message;
    return [{ path: [...at, "signing", ...field.split(".")], problem }];
  }
}

function duplicates<T>(items: readonly T[], keyOf: (item: T) => string): Map<number, number> {
  const first = new Map<string, number>();
  const found = new Map<number, number>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, index);
    else found.set(index, earlier);
  });
  return found;
}

/** Every cross-field problem of a spec that passed its schema; [] when there is none. */
export function specProblems(spec: Spec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const { webhooks } = spec;
  for (const [index, earlier] of duplicates(webhooks, (w) => w.name)) {
    problems.push({
      path: ["webhooks", index, "name"],
      problem: `repeats the name of webhooks[${earlier}]`,
    });
  }
  const incoming = webhooks
    .map((w, index) => ({ w, index }))
    .filter(({ w }) => w.direction === "in");
  for (const [i, earlier] of duplicates(incoming, ({ w }) => receivePath(w))) {
    problems.push({
      path: ["webhooks", incoming[i]?.index ?? 0, "path"],
      problem: `is also where webhooks[${incoming[earlier]?.index}] is received`,
    });
  }
  const outgoing = webhooks
    .map((w, index) => ({ w, index }))
    .filter(({ w }) => w.direction === "out")
    .flatMap(({ w, index }) => w.events.map((e, e2) => ({ type: e.type, index, e2 })));
  for (const [i, earlier] of duplicates(outgoing, (o) => o.type)) {
    const at = outgoing[i];
    const first = outgoing[earlier];
    if (at === undefined || first === undefined || at.index === first.index) continue;
    problems.push({
      path: ["webhooks", at.index, "events", at.e2, "type"],
      problem: `is also sent by webhooks[${first.index}]: an event type is sent by one out webhook`,
    });
  }
  webhooks.forEach((webhook, index) => {
    const at: IssuePath = ["webhooks", index];
    problems.push(...directionRules(webhook, at), ...signingRules(webhook, at));
    for (const [e, earlier] of duplicates(webhook.events, (event) => event.type)) {
      problems.push({
        path: [...at, "events", e, "type"],
        problem: `repeats the type of events[${earlier}]`,
      });
    }
  });
  return problems;
}
