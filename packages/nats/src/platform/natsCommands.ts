// Commands to agents over NATS: request–reply on agent.{kind}.{id}.cmd (one agent answers), or a
// broadcast to agent.{kind}.broadcast / agent.broadcast that gathers every answer until a deadline.
// A command and its answers are JSON.

import type { NatsAgentKind } from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { NATS_AGENT_KINDS } from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonValue } from "@heraldjs/webhooks/internal/core/json.js";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { type NatsConnectionOptions, openConnection } from "../bus/nats/load.js";
import { agentBroadcastSubject, agentCommandSubject } from "./natsSubjects.js";

/** Default time to wait for an answer: 5 s. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SendCommandOptions {
  /** How long to wait for the answer (broadcast: for answers), 1 ms–10 min; default 5 s. */
  timeout?: number;
}

/** One agent's answer to a broadcast. */
export interface CommandReply {
  subject: string;
  /** The answer, parsed as JSON (a string when it is not JSON). */
  reply: JsonValue;
}

function checkKind(kind: unknown): NatsAgentKind {
  if (!(NATS_AGENT_KINDS as readonly unknown[]).includes(kind)) {
    throw new HeraldError(
      "nats.command_invalid",
      `kind must be one of ${NATS_AGENT_KINDS.join(", ")}`,
      {
        details: { field: "kind" },
      },
    );
  }
  return kind as NatsAgentKind;
}

function checkTimeout(timeout: unknown): number {
  const value = timeout ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > 600_000) {
    throw new HeraldError("nats.command_invalid", "timeout must be 1–600000 ms", {
      details: { field: "timeout" },
    });
  }
  return value;
}

function encodeCommand(command: JsonValue): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(command);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    throw new HeraldError("nats.command_invalid", "command must be a JSON value", {
      details: { field: "command" },
    });
  }
  return new TextEncoder().encode(text);
}

function parseReply(msg: Msg): JsonValue {
  const text = new TextDecoder().decode(msg.data);
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/**
 * Sends a command to one agent and resolves to its answer. Throws `nats.command_timeout` when no
 * answer came in time, `nats.no_responders` when no agent of that id is subscribed (nats-server
 * says so at once), `nats.command_invalid` for bad input, `bus.unavailable` when the connection
 * is closed.
 */
export async function sendCommand(
  connection: NatsConnection,
  kind: NatsAgentKind,
  id: string,
  command: JsonValue,
  options: SendCommandOptions = {},
): Promise<JsonValue> {
  const agentKind = checkKind(kind);
  if (typeof id !== "string" || !UUID.test(id)) {
    throw new HeraldError("nats.command_invalid", "id must be the agent's lowercase UUID", {
      details: { field: "id" },
    });
  }
  const timeout = checkTimeout(options.timeout);
  const subject = agentCommandSubject(agentKind, id);
  try {
    const msg = await connection.request(subject, encodeCommand(command), { timeout });
    return parseReply(msg);
  } catch (error) {
    throw commandError(error, subject, timeout);
  }
}

/**
 * Sends a command to every agent of a kind (or every agent, kind undefined) and resolves to the
 * answers that came within the timeout — possibly none.
 */
export async function broadcastCommand(
  connection: NatsConnection,
  kind: NatsAgentKind | undefined,
  command: JsonValue,
  options: SendCommandOptions = {},
): Promise<CommandReply[]> {
  const agentKind = kind === undefined ? undefined : checkKind(kind);
  const timeout = checkTimeout(options.timeout);
  const subject = agentBroadcastSubject(agentKind);
  const replies: CommandReply[] = [];
  try {
    const answers = await connection.requestMany(subject, encodeCommand(command), {
      strategy: "timer",
      maxWait: timeout,
    });
    for await (const msg of answers) {
      // nats-server's "no responders" status arrives as an empty message with a 503 header.
      if (msg.headers?.code === 503) break;
      replies.push({ subject: msg.subject, reply: parseReply(msg) });
    }
  } catch (error) {
    const name = (error as Error).name;
    if (name !== "NoRespondersError" && !/no responders/i.test((error as Error).message)) {
      throw commandError(error, subject, timeout);
    }
  }
  return replies;
}

function commandError(error: unknown, subject: string, timeout: number): HeraldError {
  if (error instanceof HeraldError) return error;
  const message = (error as Error)?.message ?? String(error);
  const causes = [error, (error as Error)?.cause];
  const named = (name: string) => causes.some((c) => (c as Error | undefined)?.name === name);
  if (named("NoRespondersError") || /no responders/i.test(message)) {
    return new HeraldError("nats.no_responders", `No agent listens on ${subject}`, {
      cause: error,
      details: { subject },
    });
  }
  if (named("TimeoutError") || /timeout/i.test(message)) {
    return new HeraldError("nats.command_timeout", `No answer on ${subject} within ${timeout} ms`, {
      cause: error,
      details: { subject, timeout },
    });
  }
  return new HeraldError("bus.unavailable", `The command to ${subject} failed: ${message}`, {
    cause: error,
    details: { subject },
  });
}

/** sendCommand and broadcastCommand on one connection, as `client.sendCommand(kind, id, …)`. */
export interface CommandClient {
  sendCommand(
    kind: NatsAgentKind,
    id: string,
    command: JsonValue,
    options?: SendCommandOptions,
  ): Promise<JsonValue>;
  broadcastCommand(
    kind: NatsAgentKind | undefined,
    command: JsonValue,
    options?: SendCommandOptions,
  ): Promise<CommandReply[]>;
  /** Drains the connection if the client opened it; a borrowed one stays open. */
  close(): Promise<void>;
}

/**
 * Connects (or borrows `connection`) for commands to agents; rejects with `bus.unavailable` when
 * NATS cannot be reached. Connect with a `service` token (or any identity that may publish on
 * agent.> and read its own inbox).
 */
export async function createCommandClient(options: NatsConnectionOptions): Promise<CommandClient> {
  const opened = await openConnection(options);
  const { connection } = opened;
  return {
    sendCommand: (kind, id, command, sendOptions) =>
      sendCommand(connection, kind, id, command, sendOptions),
    broadcastCommand: (kind, command, sendOptions) =>
      broadcastCommand(connection, kind, command, sendOptions),
    close: () => opened.release(),
  };
}
