// The NATS connection of the `herald nats` commands (auth-listen, send, listen): --servers over
// herald.yaml's `nats:` section with its HERALD_NATS_* variables (loadConfig: HERALD_NATS_URL,
// HERALD_NATS_TOKEN, HERALD_NATS_CREDS, HERALD_NATS_USER/PASSWORD), else nats://127.0.0.1:4222.
// Credentials come from the file or the environment only, so they never show in a process list.
import type { NatsConnectionOptions } from "@heraldjs/nats/internal/bus/nats/load.js";
import { type Command, InvalidArgumentError } from "commander";
import type { HeraldConfig } from "../config/types.js";
import type { CliIo } from "./io.js";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

export interface NatsConnectionFlags {
  config?: string;
  servers?: string[];
}

function parseServers(value: string): string[] {
  const servers = value
    .split(/[\s,]+/)
    .map((server) => server.trim())
    .filter((server) => server !== "");
  if (servers.length === 0) throw new InvalidArgumentError("--servers names no NATS server.");
  return servers;
}

/** Adds --config and --servers. */
export function addNatsConnectionOptions(command: Command): Command {
  return command
    .option(
      "--config <file>",
      "herald.yaml to load (default $HERALD_CONFIG, then ./herald.yaml if present)",
    )
    .option(
      "--servers <urls>",
      `NATS server URL(s), comma-separated (default $HERALD_NATS_URL, then herald.yaml's nats.servers, then ${DEFAULT_NATS_URL})`,
      parseServers,
    );
}

/** The Environment lines every connecting `herald nats` command shares. */
export const NATS_CONNECTION_ENV_HELP = `  HERALD_CONFIG          the config file (default ./herald.yaml when it exists)
  HERALD_NATS_URL        the NATS server(s) when no --servers is given (default ${DEFAULT_NATS_URL})
  HERALD_NATS_TOKEN      a token to connect with (a Herald NATS token of identity service); or
                         HERALD_NATS_CREDS (a .creds file), or HERALD_NATS_USER and
                         HERALD_NATS_PASSWORD`;

export interface LoadedNatsConnection {
  connection: NatsConnectionOptions;
  config: HeraldConfig;
}

/**
 * Loads herald.yaml (a bad file or variable is thrown: a usage error, exit 2) and builds the
 * connection options; `credentials: false` leaves the section's credentials out (the auth
 * callout connects with its own NKey).
 */
export async function loadNatsConnection(
  flags: NatsConnectionFlags,
  io: CliIo,
  options: { name: string; credentials?: boolean },
): Promise<LoadedNatsConnection> {
  const { loadConfig } = await import("../config/load.js");
  // --servers stands for HERALD_NATS_URL, so the section's credential variables apply to it.
  const env =
    flags.servers === undefined ? io.env : { ...io.env, HERALD_NATS_URL: flags.servers.join(",") };
  const config = await loadConfig({
    ...(flags.config === undefined ? {} : { path: flags.config }),
    env,
  });
  const nats = config.nats;
  const servers = flags.servers ?? nats?.servers ?? [DEFAULT_NATS_URL];
  const credentials = options.credentials !== false && nats !== null;
  return {
    config,
    connection: {
      servers,
      ...(credentials && nats.credsFile !== null ? { credsFile: nats.credsFile } : {}),
      connectOptions: {
        name: options.name,
        ...(credentials && nats.user !== null ? { user: nats.user } : {}),
        ...(credentials && nats.password !== null ? { pass: nats.password } : {}),
        ...(credentials && nats.token !== null ? { token: nats.token } : {}),
      },
    },
  };
}
