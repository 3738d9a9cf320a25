// Bus subjects for events: `<prefix>.<source>.<aggregateType>.<eventType>`, every token safe
// for NATS whatever the source or aggregate type is called.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { EventEnvelope } from "../core/envelope.js";

export interface SubjectOptions {
  /**
   * First token(s), so one JetStream stream can capture every event with `<prefix>.>`;
   * default `"herald"`. `""` leaves it out. Used as given: it may hold dots (`acme.events`)
   * but no wildcards or whitespace.
   */
  prefix?: string;
}

export const DEFAULT_SUBJECT_PREFIX = "herald";
/** Stands for a missing aggregate; aggregate types start with a letter, so it never clashes. */
export const NO_AGGREGATE_TOKEN = "_";

// NATS splits subjects on `.`, treats `*` and `>` as wildcards and forbids whitespace; `%` is
// encoded too so that the encoding is injective: two different names never share a subject.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters must be encoded
const UNSAFE_IN_TOKEN = /[%.*>\s\u0000-\u001f\u007f]/gu;

/**
 * Makes one NATS subject token of `value`: `%`, `.`, `*`, `>`, whitespace and control
 * characters become `%XX` (UTF-8 bytes, uppercase hex), so `billing.eu` → `billing%2Eeu`.
 */
export function encodeSubjectToken(value: string): string {
  if (value === "") return NO_AGGREGATE_TOKEN;
  return value.replace(UNSAFE_IN_TOKEN, (char) =>
    Array.from(
      new TextEncoder().encode(char),
      (byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
    ).join(""),
  );
}

const VALID_PREFIX = /^[^\s.*>]+(?:\.[^\s.*>]+)*$/u;

/** Checks a subject prefix; throws HeraldError `config.invalid` when NATS would reject it. */
export function assertSubjectPrefix(prefix: string): void {
  if (prefix !== "" && !VALID_PREFIX.test(prefix)) {
    throw new HeraldError(
      "config.invalid",
      `Invalid subject prefix ${JSON.stringify(prefix)}: dot-separated tokens without whitespace, "*" or ">"`,
      { details: { prefix } },
    );
  }
}

/**
 * `<prefix>.<source>.<aggregateType>.<eventType>`, e.g. `herald.billing.order.order.created.v1`.
 * `source` and the aggregate type are one token each (encoded by encodeSubjectToken; `_` when
 * the event has no aggregate). The event type keeps its dots as token separators — event
 * types are lowercase `[a-z0-9_]` names, always safe — so consumers can filter by type
 * prefix: `herald.billing.order.order.created.*` or `herald.*.*.order.>`.
 */
export function subjectFor(
  envelope: Pick<EventEnvelope<object>, "source" | "type" | "aggregate">,
  options: SubjectOptions = {},
): string {
  const { prefix = DEFAULT_SUBJECT_PREFIX } = options;
  assertSubjectPrefix(prefix);
  const tokens = [
    encodeSubjectToken(envelope.source),
    encodeSubjectToken(envelope.aggregate?.type ?? ""),
    // Validated envelopes never need this, but a hand-built one must not inject wildcards.
    envelope.type.split(".").map(encodeSubjectToken).join("."),
  ];
  return prefix === "" ? tokens.join(".") : `${prefix}.${tokens.join(".")}`;
}
