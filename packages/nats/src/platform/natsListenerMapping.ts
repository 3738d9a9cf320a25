// What `herald nats listen` makes of one NATS message: an agent event
// (`agent.{kind}.{id}.evt`) or a message on a configured subject becomes a Herald message type
// and payload; anything it cannot map becomes a `nats.unmapped` message naming the reason. Pure:
// no I/O, the tenant of an agent event is looked up by the caller.

import { subjectMatches } from "@heraldjs/core/internal/bus/subjectMatch.js";
import { typeName } from "@heraldjs/core/internal/model/check.js";
import {
  NATS_AGENT_KINDS,
  type NatsAgentKind,
} from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { isPlainObject, type JsonObject } from "@heraldjs/webhooks/internal/core/json.js";
import { scanJsonText } from "@heraldjs/webhooks/internal/core/jsonText.js";

/** The subject agents publish their events on, as a pattern: the listener's default. */
export const AGENT_EVENT_SUBJECT = "agent.*.*.evt";
/** The Herald message type of a NATS message the listener could not map. */
export const UNMAPPED_TYPE = "nats.unmapped";

/** An agent's id as a subject carries it: one subject token, no wildcards. */
const AGENT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** A subject the listener reads, and how its messages become Herald messages. */
export interface NatsSubjectRule {
  /** A NATS subject pattern (`orders.>`, `agent.*.*.evt`). */
  subject: string;
  /**
   * The Herald type of every message on it. Absent: an agent event subject maps as an agent
   * event, any other takes the body's string `type`.
   */
  type?: string;
  /** The tenant of messages on it (not of agent events); default `default`. */
  tenant?: string;
}

/** Why a message could not be mapped; stored in the `nats.unmapped` payload and logged. */
export type UnmappedReason =
  | "subject.unlisted"
  | "subject.invalid"
  | "body.invalid_utf8"
  | "body.invalid_json"
  | "body.too_deep"
  | "text.invalid"
  | "body.not_object"
  | "type.missing"
  | "type.invalid"
  /** Or the code the dispatcher refused the mapped message with (`payload.invalid`…). */
  | (string & {});

export interface AgentRef {
  kind: NatsAgentKind;
  id: string;
}

/** A message mapped: `tenant` is absent for an agent event (the caller resolves it). */
export interface MappedMessage {
  kind: "mapped";
  type: string;
  payload: JsonObject;
  agent: AgentRef | undefined;
  tenant: string | undefined;
}

export interface UnmappedMessage {
  kind: "unmapped";
  reason: UnmappedReason;
  /** A line saying what was wrong (never the body). */
  detail: string;
  /** Set when the subject named a valid agent (its tenant is then the agent's). */
  agent: AgentRef | undefined;
  tenant: string | undefined;
}

export type MappingResult = MappedMessage | UnmappedMessage;

/**
 * `{ kind, id }` of `agent.{kind}.{id}.evt`; `invalid` when the subject has that shape but a
 * kind or id that is not one; undefined when it is not of that shape.
 */
export function parseAgentSubject(subject: string): AgentRef | "invalid" | undefined {
  const tokens = subject.split(".");
  if (tokens.length !== 4 || tokens[0] !== "agent" || tokens[3] !== "evt") return undefined;
  const kind = tokens[1] as NatsAgentKind;
  const id = tokens[2] as string;
  if (!(NATS_AGENT_KINDS as readonly string[]).includes(kind) || !AGENT_ID.test(id))
    return "invalid";
  return { kind, id };
}

/** Whether `type` can be a Herald message type (dot-separated segments, no `*`). */
export function isMessageType(type: unknown): type is string {
  try {
    typeName(type, "type", "type.invalid");
    return true;
  } catch {
    return false;
  }
}

type Body = { ok: true; value: JsonObject } | { ok: false; reason: UnmappedReason; detail: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as a JSON object, or why it is not one. */
export function parseBody(data: Uint8Array): Body {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return { ok: false, reason: "body.invalid_utf8", detail: "the body is not UTF-8" };
  }
  const problem = scanJsonText(text);
  if (problem !== undefined) {
    const reason = problem.kind === "too_deep" ? "body.too_deep" : "text.invalid";
    return { ok: false, reason, detail: `the body ${problem.reason}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "body.invalid_json", detail: "the body is not JSON" };
  }
  if (!isPlainObject(value)) {
    return { ok: false, reason: "body.not_object", detail: "the body is not a JSON object" };
  }
  return { ok: true, value: value as JsonObject };
}

function typeOfBody(
  body: JsonObject,
): { ok: true; type: string } | { ok: false; reason: UnmappedReason; detail: string } {
  const type = body.type;
  if (type === undefined || type === null) {
    return { ok: false, reason: "type.missing", detail: "the body has no `type`" };
  }
  if (!isMessageType(type)) {
    return {
      ok: false,
      reason: "type.invalid",
      detail: "the body's `type` is not a Herald type (dot-separated segments, no `*`)",
    };
  }
  return { ok: true, type };
}

/** The first rule whose subject pattern matches `subject`. */
export function ruleFor(
  rules: readonly NatsSubjectRule[],
  subject: string,
): NatsSubjectRule | undefined {
  return rules.find((rule) => subjectMatches(rule.subject, subject));
}

/** Maps one NATS message (subject + body) under `rules` (see NatsSubjectRule). */
export function mapNatsMessage(
  rules: readonly NatsSubjectRule[],
  subject: string,
  data: Uint8Array,
): MappingResult {
  const rule = ruleFor(rules, subject);
  if (rule === undefined) {
    return {
      kind: "unmapped",
      reason: "subject.unlisted",
      detail: "no listened subject matches it",
      agent: undefined,
      tenant: undefined,
    };
  }
  const agent = rule.type === undefined ? parseAgentSubject(subject) : undefined;
  if (agent === "invalid") {
    return {
      kind: "unmapped",
      reason: "subject.invalid",
      detail: `agent.{kind}.{id}.evt needs a kind of ${NATS_AGENT_KINDS.join(", ")} and an id of 1–128 letters, digits, _ or -`,
      agent: undefined,
      tenant: undefined,
    };
  }
  const tenant = agent === undefined ? rule.tenant : undefined;
  const unmapped = (reason: UnmappedReason, detail: string): UnmappedMessage => ({
    kind: "unmapped",
    reason,
    detail,
    agent,
    tenant,
  });
  const body = parseBody(data);
  if (!body.ok) return unmapped(body.reason, body.detail);
  if (rule.type !== undefined) {
    return { kind: "mapped", type: rule.type, payload: body.value, agent, tenant };
  }
  const type = typeOfBody(body.value);
  if (!type.ok) return unmapped(type.reason, type.detail);
  if (agent === undefined) {
    return { kind: "mapped", type: type.type, payload: body.value, agent, tenant };
  }
  const data_ = body.value.data;
  return {
    kind: "mapped",
    type: type.type,
    payload: {
      agent: { kind: agent.kind, id: agent.id },
      data: data_ === undefined ? null : data_,
    },
    agent,
    tenant,
  };
}

/** The payload of a `nats.unmapped` message. */
export function unmappedPayload(
  subject: string,
  reason: UnmappedReason,
  data: Uint8Array,
): JsonObject {
  return { subject, reason, body_base64: Buffer.from(data).toString("base64") };
}
