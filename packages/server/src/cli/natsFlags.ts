// The NATS connection of the `herald nats` commands that connect as a client (send, and the
// connection half of auth-listen): --servers, else HERALD_NATS_URL, else nats://127.0.0.1:4222;
// credentials from the environment only, so they never show in a process list.
import type { NatsConnectionOptions } from "@heraldjs/nats/internal/bus/nats/load.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { Command } from "commander";
import type { CliIo } from "./io.js";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

export interface NatsConnectionFlags {
  servers?: string;
}

export function addNatsServersOption(command: Command): Command {
  return command.option(
    "--servers <urls>",
    `NATS server URL(s), comma-separated (default $HERALD_NATS_URL, then ${DEFAULT_NATS_URL})`,
  );
}

/** The Environment lines every connecting `herald nats` command shares. */
export const NATS_CONNECTION_ENV_HELP = `  HERALD_NATS_URL        the NATS server(s) when no --servers is given
  HERALD_NATS_TOKEN      a token to connect with (a Herald NATS token of identity service)
  HERALD_NATS_CREDS      or a .creds file; or HERALD_NATS_USER and HERALD_NATS_PASSWORD`;

function serversOf(flags: NatsConnectionFlags, io: CliIo): string[] {
  const text = flags.servers ?? io.env.HERALD_NATS_URL ?? DEFAULT_NATS_URL;
  const servers = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (servers.length === 0 || servers.some((s) => /\s/.test(s))) {
    throw new HeraldError("cli.invalid_argument", "--servers must be NATS URLs, comma-separated");
  }
  return servers;
}

/** Connection options from the flags and the environment (credentials: environment only). */
export function natsConnectionOptions(
  flags: NatsConnectionFlags,
  io: CliIo,
  options: { credentials?: boolean } = {},
): NatsConnectionOptions {
  const { env } = io;
  const result: NatsConnectionOptions = { servers: serversOf(flags, io) };
  if (options.credentials === false) return result;
  if (env.HERALD_NATS_CREDS) result.credsFile = env.HERALD_NATS_CREDS;
  else if (env.HERALD_NATS_TOKEN) result.connectOptions = { token: env.HERALD_NATS_TOKEN };
  else if (env.HERALD_NATS_USER) {
    result.connectOptions = { user: env.HERALD_NATS_USER, pass: env.HERALD_NATS_PASSWORD ?? "" };
  }
  return result;
}
