// Loads the NATS client on first use, so an application that never configures NATS never
// loads it; and opens (or borrows) the connection the publisher and consumer run on.

import { readFile } from "node:fs/promises";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { NatsConnection, NodeConnectionOptions } from "@nats-io/transport-node";

export type { NatsConnection } from "@nats-io/transport-node";

type NatsModules = {
  transport: typeof import("@nats-io/transport-node");
  jetstream: typeof import("@nats-io/jetstream");
};

let modules: Promise<NatsModules> | undefined;

export function loadNats(): Promise<NatsModules> {
  modules ??= Promise.all([import("@nats-io/transport-node"), import("@nats-io/jetstream")]).then(
    ([transport, jetstream]) => ({ transport, jetstream }),
    (error: unknown) => {
      modules = undefined;
      throw new HeraldError(
        "config.invalid",
        "NATS support needs @nats-io/transport-node and @nats-io/jetstream installed",
        { cause: error },
      );
    },
  );
  return modules;
}

type NatsPlatformModules = {
  jwt: typeof import("@nats-io/jwt");
  nkeys: typeof import("@nats-io/nkeys");
};

let platformModules: Promise<NatsPlatformModules> | undefined;

/** The NKeys and JWT libraries of the platform (platform/), loaded on first use like the client. */
export function loadNatsPlatform(): Promise<NatsPlatformModules> {
  platformModules ??= Promise.all([import("@nats-io/jwt"), import("@nats-io/nkeys")]).then(
    ([jwt, nkeys]) => ({ jwt, nkeys }),
    (error: unknown) => {
      platformModules = undefined;
      throw new HeraldError(
        "config.invalid",
        "The NATS platform needs @nats-io/jwt and @nats-io/nkeys installed",
        { cause: error },
      );
    },
  );
  return platformModules;
}

/** Either an open connection (borrowed: never closed by Herald) or where to open one. */
export interface NatsConnectionOptions {
  connection?: NatsConnection;
  /** `nats://host:4222`, or several for a cluster; used when `connection` is not given. */
  servers?: string | string[];
  /** Further options for the connection Herald opens (credentials, TLS, name…). */
  connectOptions?: Omit<NodeConnectionOptions, "servers">;
  /**
   * A NATS credentials file (`.creds`: user JWT and nkey seed) to authenticate with; read when
   * the connection opens. Unreadable: `config.invalid` naming the path, never its content.
   */
  credsFile?: string;
}

async function credsAuthenticator(
  transport: NatsModules["transport"],
  path: string,
): Promise<Pick<NodeConnectionOptions, "authenticator">> {
  let creds: Uint8Array;
  try {
    creds = await readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new HeraldError(
      "config.invalid",
      `NATS credentials file ${path} cannot be read (${reason})`,
      { cause: error, details: { file: path } },
    );
  }
  return { authenticator: transport.credsAuthenticator(creds) };
}

interface OpenedConnection {
  connection: NatsConnection;
  /** Drains the connection if Herald opened it; a no-op for a borrowed one. */
  release(): Promise<void>;
}

export async function openConnection(options: NatsConnectionOptions): Promise<OpenedConnection> {
  if (options.connection !== undefined) {
    return { connection: options.connection, release: async () => {} };
  }
  if (options.servers === undefined) {
    throw new HeraldError("config.invalid", "NATS needs `servers` or an open `connection`");
  }
  const { transport } = await loadNats();
  const creds =
    options.credsFile === undefined ? {} : await credsAuthenticator(transport, options.credsFile);
  let connection: NatsConnection;
  try {
    connection = await transport.connect({
      ...options.connectOptions,
      ...creds,
      servers: options.servers,
    });
  } catch (error) {
    throw new HeraldError("bus.unavailable", `Cannot connect to NATS at ${options.servers}`, {
      cause: error,
    });
  }
  return {
    connection,
    async release() {
      if (connection.isClosed()) return;
      // drain() flushes pending publishes and acks before closing.
      await connection.drain().catch(() => connection.close());
    },
  };
}
