// The target of a `nats-core` endpoint: a NATS subject template such as `client.{tenant}.evt`.
// Placeholders: `{tenant}` and `{message_id}` become one token each; `{type}` becomes the event
// type with its dots, so `events.{type}` gives `events.order.created.v1` (several tokens, and a
// subscriber can use `events.order.>`). No I/O and no NATS client: the service checks a template
// when the endpoint is created, and the transport renders it at every attempt.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

/** The placeholders a template may use, each standing for one field of the message. */
export const NATS_SUBJECT_PLACEHOLDERS = ["tenant", "type", "message_id"] as const;
export type NatsSubjectPlaceholder = (typeof NATS_SUBJECT_PLACEHOLDERS)[number];

/**
 * Longest subject rendered, in UTF-8 bytes: nats-server's default max_control_line is 4096 and
 * the PUB/HPUB line also carries the sizes.
 */
export const MAX_NATS_SUBJECT_BYTES = 4000;

// White space, the wildcards, control characters: never in a subject token.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const FORBIDDEN = /[\s*>\u0000-\u001f\u007f]/;
const PLACEHOLDER = /\{([^{}]*)\}/g;

function isPlaceholder(name: string): name is NatsSubjectPlaceholder {
  return (NATS_SUBJECT_PLACEHOLDERS as readonly string[]).includes(name);
}

function invalidTemplate(problem: string): HeraldError {
  return new HeraldError("request.invalid", `url: ${problem}`, { details: { field: "url" } });
}

/**
 * Throws HeraldError("request.invalid", "url: …", { details: { field: "url" } }) when `template`
 * is not a subject template: dot-separated non-empty tokens, no white space or wildcards (`*`,
 * `>`), braces only around a known placeholder.
 */
export function checkNatsSubjectTemplate(template: string): void {
  const names = [...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? "");
  const unknown = names.find((name) => !isPlaceholder(name));
  if (unknown !== undefined) {
    throw invalidTemplate(
      `unknown placeholder {${unknown}} in the subject template (known: {tenant}, {type}, {message_id})`,
    );
  }
  const literal = template.replace(PLACEHOLDER, "x");
  if (/[{}]/.test(literal)) {
    throw invalidTemplate("a '{' or '}' outside a placeholder in the subject template");
  }
  if (literal.split(".").some((token) => token === "" || FORBIDDEN.test(token))) {
    throw invalidTemplate(
      "must be a NATS subject template (dot-separated tokens, no spaces, no wildcards '*' or '>'; placeholders {tenant}, {type}, {message_id})",
    );
  }
  if (Buffer.byteLength(literal, "utf8") > MAX_NATS_SUBJECT_BYTES) {
    throw invalidTemplate(`the subject is longer than ${MAX_NATS_SUBJECT_BYTES} bytes`);
  }
}

/** The values a template is rendered with. */
export interface NatsSubjectValues {
  tenant: string;
  type: string;
  messageId: string;
}

/** A subject, or why the template or a value cannot make one (never retried: it cannot change). */
export type RenderedSubject = { ok: true; subject: string } | { ok: false; reason: string };

/** Why `value` cannot stand for `{name}`, or undefined when it can. */
function valueProblem(name: NatsSubjectPlaceholder, value: string): string | undefined {
  // {type} spans several tokens: each must be a valid token, so no empty one (".." or an end dot).
  const tokens = name === "type" ? value.split(".") : [value];
  if (tokens.some((token) => token === "")) {
    return name === "type" ? "is empty or has an empty dot-separated part" : "is empty";
  }
  if (name !== "type" && value.includes(".")) return "contains '.'";
  if (tokens.some((token) => FORBIDDEN.test(token))) {
    return "contains white space, a control character, '*' or '>'";
  }
  return undefined;
}

/**
 * The subject of one message: `template` checked (a stored target is not trusted), then each
 * placeholder replaced by its value, each value a valid subject token (for `{type}`, tokens).
 */
export function renderNatsSubject(template: string, values: NatsSubjectValues): RenderedSubject {
  try {
    checkNatsSubjectTemplate(template);
  } catch (error) {
    return { ok: false, reason: (error as Error).message.replace(/^url: /, "") };
  }
  const byName: Record<NatsSubjectPlaceholder, string> = {
    tenant: values.tenant,
    type: values.type,
    message_id: values.messageId,
  };
  for (const name of NATS_SUBJECT_PLACEHOLDERS) {
    if (!template.includes(`{${name}}`)) continue;
    const problem = valueProblem(name, byName[name]);
    if (problem !== undefined) {
      // The value is shown: tenants, types and message ids are not secrets, and the operator
      // needs to see which one cannot be a subject token.
      return {
        ok: false,
        reason: `the ${name === "message_id" ? "message id" : name} ${JSON.stringify(byName[name].slice(0, 200))} cannot be put in the subject template ${JSON.stringify(template)}: it ${problem}`,
      };
    }
  }
  const subject = template.replace(PLACEHOLDER, (_, name: NatsSubjectPlaceholder) => byName[name]);
  if (Buffer.byteLength(subject, "utf8") > MAX_NATS_SUBJECT_BYTES) {
    return { ok: false, reason: `the subject is longer than ${MAX_NATS_SUBJECT_BYTES} bytes` };
  }
  return { ok: true, subject };
}
