// `herald nats send <kind> <id|broadcast> <command>`: a command to one agent (request–reply on
// agent.{kind}.{id}.cmd, its answer printed as JSON) or to all agents of a kind ("broadcast",
// every answer within --timeout printed, one JSON line each).

import {
  NATS_AGENT_KINDS,
  type NatsAgentKind,
} from "@heraldjs/core/internal/model/natsTokenRecords.js";
import {
  createCommandClient,
  DEFAULT_COMMAND_TIMEOUT_MS,
} from "@heraldjs/nats/internal/platform/natsCommands.js";
import { coerceError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { JsonValue } from "@heraldjs/webhooks/internal/core/json.js";
import { type Command, InvalidArgumentError } from "commander";
import { setAction } from "../command.js";
import type { CliIo } from "../io.js";
import {
  addNatsConnectionOptions,
  loadNatsConnection,
  NATS_CONNECTION_ENV_HELP,
  type NatsConnectionFlags,
} from "../natsFlags.js";

interface SendFlags extends NatsConnectionFlags {
  timeout: number;
}

function parseKind(value: string): NatsAgentKind | "all" {
  if (value === "all" || (NATS_AGENT_KINDS as readonly string[]).includes(value)) {
    return value as NatsAgentKind | "all";
  }
  throw new InvalidArgumentError(`Expected ${NATS_AGENT_KINDS.join(", ")} or all.`);
}

function parseCommand(value: string): JsonValue {
  try {
    return JSON.parse(value) as JsonValue;
  } catch {
    throw new InvalidArgumentError('Expected the command as JSON, e.g. \'{"op":"restart"}\'.');
  }
}

function parseTimeout(value: string): number {
  const ms = Number(value);
  if (!/^\d{1,6}$/.test(value.trim()) || ms < 1 || ms > 600_000) {
    throw new InvalidArgumentError("Expected milliseconds, 1–600000.");
  }
  return ms;
}

async function runSend(
  kind: NatsAgentKind | "all",
  target: string,
  command: JsonValue,
  flags: SendFlags,
  io: CliIo,
): Promise<number> {
  const broadcast = target === "broadcast";
  if (kind === "all" && !broadcast) {
    throw new InvalidArgumentError("kind all takes only broadcast as its target.");
  }
  const { connection } = await loadNatsConnection(flags, io, { name: "herald-nats-send" });
  const client = await createCommandClient(connection).catch((error: unknown) => {
    const herald = coerceError(error);
    io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
    return undefined;
  });
  if (client === undefined) return 1;
  try {
    if (broadcast) {
      const replies = await client.broadcastCommand(kind === "all" ? undefined : kind, command, {
        timeout: flags.timeout,
      });
      for (const reply of replies) io.stdout.write(`${JSON.stringify(reply)}\n`);
      io.stderr.write(`${replies.length} answer(s) within ${flags.timeout} ms\n`);
      return 0;
    }
    const reply = await client.sendCommand(kind as NatsAgentKind, target, command, {
      timeout: flags.timeout,
    });
    io.stdout.write(`${JSON.stringify(reply)}\n`);
    return 0;
  } catch (error) {
    const herald = coerceError(error);
    if (herald.code === "nats.command_invalid") throw herald;
    io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

const HELP = `
One agent: the command goes to agent.<kind>.<id>.cmd and the agent's answer is printed (JSON).
broadcast: to agent.<kind>.broadcast (kind all: agent.broadcast); every answer that comes within
--timeout is printed as {"subject":…,"reply":…}, one per line.

Exit status: 0 answered (broadcast: always, even with no answers), 1 no answer in time
(nats.command_timeout), no agent listening (nats.no_responders) or NATS unreachable, 2 usage
error.

Environment:
${NATS_CONNECTION_ENV_HELP}

Examples:
  $ herald nats send compute 2f1c…-…-…  '{"op":"restart"}'
  $ herald nats send storage broadcast '{"op":"report"}' --timeout 2000
`;

export function registerNatsSend(nats: Command, io: CliIo): Command {
  const command = addNatsConnectionOptions(
    nats
      .command("send")
      .summary("send a command to an agent (or broadcast) and print the answer")
      .description("Send a command over NATS request–reply to an agent.")
      .argument("<kind>", `${NATS_AGENT_KINDS.join(", ")} (or all, for broadcast)`, parseKind)
      .argument("<id>", "the agent's UUID, or broadcast")
      .argument("<command>", "the command, as JSON", parseCommand),
  )
    .option(
      "--timeout <ms>",
      `how long to wait for answers (default ${DEFAULT_COMMAND_TIMEOUT_MS})`,
      parseTimeout,
      DEFAULT_COMMAND_TIMEOUT_MS,
    )
    .addHelpText("after", HELP);
  return setAction(command, io, runSend);
}
