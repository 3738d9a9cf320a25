// `herald nats token create|list|revoke`: the tokens agents, browsers and Herald's own services
// connect to nats-server with, checked by the auth callout, on the database directly. A token is
// printed once, by the command that made it; the database keeps only its SHA-256.

import { mintNatsToken } from "@heraldjs/core/internal/delivery/natsTokens.js";
import { DEFAULT_TENANT } from "@heraldjs/core/internal/model/constants.js";
import {
  isNatsIdentity,
  MAX_NATS_TOKEN_TTL_S,
  NATS_IDENTITIES,
  type NatsIdentity,
  type NatsTokenListOptions,
  natsTokenNotFound,
} from "@heraldjs/core/internal/model/natsTokenRecords.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, InvalidArgumentError } from "commander";
import { natsTokenState, natsTokenToWire } from "../../wire/natsToken.js";
import { formatTable, shortTime } from "../format.js";
import type { CliIo } from "../io.js";
import { DB_ENV_HELP, printJson, type StoreFlags, withStore } from "../openStore.js";
import { parseSingleLine } from "../options.js";
import { storeCommand } from "../storeCommand.js";

interface ListFlags extends StoreFlags {
  tenant?: string;
  identity?: NatsIdentity;
  id?: string;
}

interface CreateFlags extends StoreFlags {
  identity: NatsIdentity;
  id: string;
  tenant?: string;
  expires?: number;
}

const UNIT_S: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `30d`, `12h`, `90m`, `45s`: a whole positive number and a unit, as seconds. */
export function parseExpires(value: string): number {
  const span = /^([1-9][0-9]{0,8})([smhd])$/.exec(value.trim());
  if (span === null) {
    throw new InvalidArgumentError(
      "Expected a whole positive number and a unit: s, m, h or d (e.g. 30d, 12h).",
    );
  }
  const seconds = Number(span[1]) * UNIT_S[span[2]!]!;
  if (seconds > MAX_NATS_TOKEN_TTL_S) {
    throw new InvalidArgumentError("Expected at most ten years (3650d).");
  }
  return seconds;
}

function parseIdentity(value: string): NatsIdentity {
  if (!isNatsIdentity(value)) {
    throw new InvalidArgumentError(`Expected one of ${NATS_IDENTITIES.join(", ")}.`);
  }
  return value;
}

async function runCreate(flags: CreateFlags, io: CliIo): Promise<number> {
  if (flags.identity === "client" && flags.tenant === undefined) {
    throw new HeraldError(
      "cli.missing_argument",
      "--tenant is required for --identity client: a client reads one tenant's events",
    );
  }
  return withStore(flags, io, async (store) => {
    const { token, record } = await mintNatsToken(
      store,
      {
        identity: flags.identity,
        id: flags.id,
        ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
        ...(flags.expires === undefined ? {} : { ttlS: flags.expires }),
      },
      { clock: io.clock },
    );
    const now = new Date(io.clock.now()).toISOString();
    if (flags.json === true) {
      printJson(io, { ...natsTokenToWire(record, now), token });
      return 0;
    }
    io.stdout.write(`token: ${token}\n`);
    const expiry = record.expiresAt === null ? "never expires" : `valid until ${record.expiresAt}`;
    io.stderr.write(
      `Created NATS token ${record.id} (${record.identity} ${record.subjectId}, tenant ${record.tenant}), ${expiry}. ` +
        "Give the token to its holder now: no herald command shows it again.\n",
    );
    return 0;
  });
}

async function runList(flags: ListFlags, io: CliIo): Promise<number> {
  return withStore(flags, io, async (store) => {
    const options: NatsTokenListOptions = {
      ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
      ...(flags.identity === undefined ? {} : { identity: flags.identity }),
      ...(flags.id === undefined ? {} : { subjectId: flags.id }),
    };
    const tokens = await store.listNatsTokens(options);
    const now = new Date(io.clock.now()).toISOString();
    if (flags.json === true) printJson(io, { data: tokens.map((t) => natsTokenToWire(t, now)) });
    else if (tokens.length === 0) io.stdout.write("no NATS tokens\n");
    else {
      io.stdout.write(
        formatTable(
          ["ID", "IDENTITY", "SUBJECT ID", "TENANT", "STATE", "EXPIRES"],
          tokens.map((t) => [
            t.id,
            t.identity,
            t.subjectId,
            t.tenant,
            natsTokenState(t, now),
            t.expiresAt === null ? "never" : shortTime(t.expiresAt),
          ]),
        ),
      );
    }
    return 0;
  });
}

async function runRevoke(id: string, flags: StoreFlags, io: CliIo): Promise<number> {
  return withStore(flags, io, async (store) => {
    const record = await store.revokeNatsToken(id);
    if (record === undefined) throw natsTokenNotFound(id);
    if (flags.json === true) {
      printJson(io, natsTokenToWire(record, new Date(io.clock.now()).toISOString()));
    } else io.stdout.write(`revoked NATS token ${id}\n`);
    return 0;
  });
}

const CREATE_HELP = `
A NATS token lets its holder connect to nats-server, which asks Herald's auth callout (herald
nats auth-listen) whether it is live: an agent (agent.compute, agent.storage, agent.network;
--id is its lowercase UUID) gets its own command and event subjects, a client (a browser; --id
is the user id, --tenant is required) reads its tenant's live events, a service (Herald's own
processes; --id is its name) publishes and subscribes anywhere in the application account.
An --id or --tenant is 1–128 letters, digits, '_' or '-' (no dots, wildcards or spaces).

The token is printed once (stdout); the database keeps only its SHA-256. --expires is a whole
positive number and a unit (s, m, h, d); without it the token lasts until revoked.

Exit status: 0 created, 1 the store refused it (nats_token.invalid: a bad --id or --tenant) or
could not be reached, 2 usage error (a bad --identity or --expires; --identity client without
--tenant: cli.missing_argument).

${DB_ENV_HELP}
Examples:
  $ herald nats token create --identity agent.compute --id 7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f --expires 30d
  token: hnt_3mQ…
  $ herald nats token create --identity client --id user_42 --tenant acme --expires 12h --json
`;

const LIST_HELP = `
Oldest first, with their state (live, expired, revoked) and expiry ("never" when they do not
expire); never a token. --json prints {"data":[…]}.

Exit status: 0 listed, 1 the store could not be reached, 2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald nats token list --tenant acme --identity client
`;

const REVOKE_HELP = `
The auth callout refuses the token from now on: its holder cannot connect with it again.

Exit status: 0 revoked (again: the first revocation time stays), 1 no such token
(nats_token.not_found) or the store could not be reached, 2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald nats token revoke ntk_01JD…
  revoked NATS token ntk_01JD…
`;

/** Adds `token` with create, list and revoke to the `nats` group. */
export function registerNatsTokens(nats: Command, io: CliIo): Command {
  const tokens = nats
    .command("token")
    .summary("create, list and revoke NATS tokens")
    .description(
      "Manage the tokens agents, browsers and services connect to NATS with. See `herald nats token <command> --help`.",
    );

  const identities = NATS_IDENTITIES.join("|");
  const create = tokens
    .command("create")
    .summary("create a NATS token (printed once)")
    .description("Create a token that lets an agent, a browser or a service connect to NATS.")
    .requiredOption("--identity <identity>", `who connects: ${identities}`, parseIdentity)
    .requiredOption(
      "--id <id>",
      "the agent's UUID, the client's user id or the service's name",
      parseSingleLine,
    )
    .option(
      "--tenant <tenant>",
      `the tenant (required for client; default ${DEFAULT_TENANT})`,
      parseSingleLine,
    )
    .option("--expires <span>", "lifetime, e.g. 30d or 12h (default: no expiry)", parseExpires);
  storeCommand(
    create,
    io,
    { json: "print the token record as JSON, with the token", help: CREATE_HELP },
    runCreate,
  );

  const list = tokens
    .command("list")
    .summary("list NATS tokens (never the tokens)")
    .description("List the NATS tokens with their state.")
    .option("--tenant <tenant>", "only this tenant's", parseSingleLine)
    .option("--identity <identity>", `only this identity's: ${identities}`, parseIdentity)
    .option("--id <id>", "only those of this agent, user or service", parseSingleLine);
  storeCommand(list, io, { json: 'print {"data":[…]}', help: LIST_HELP }, runList);

  const revoke = tokens
    .command("revoke")
    .summary("revoke a NATS token")
    .description("Revoke a NATS token: its holder cannot connect with it from now on.")
    .argument("<id>", "the token's id (ntk_…)", parseSingleLine);
  storeCommand(
    revoke,
    io,
    { json: "print the revoked token as JSON", help: REVOKE_HELP },
    runRevoke,
  );
  return tokens;
}
