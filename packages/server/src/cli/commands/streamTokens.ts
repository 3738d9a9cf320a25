// `herald stream-tokens create|list|revoke`: the tokens a browser opens /v1/stream with, on the
// database directly (the API's /v1/stream-tokens). A token is printed once, by the command that
// made it; the database keeps only its SHA-256.

import { mintStreamToken } from "@heraldjs/core/internal/delivery/streamTokens.js";
import { DEFAULT_TENANT } from "@heraldjs/core/internal/model/constants.js";
import {
  DEFAULT_STREAM_TOKEN_TTL_S,
  MAX_STREAM_TOKEN_TTL_S,
  streamTokenNotFound,
} from "@heraldjs/core/internal/model/streamRecords.js";
import { type Command, InvalidArgumentError } from "commander";
import { streamTokenToWire } from "../../wire/streamToken.js";
import { formatTable, shortTime } from "../format.js";
import type { CliIo } from "../io.js";
import { DB_ENV_HELP, printJson, type StoreFlags, withStore } from "../openStore.js";
import { parseSingleLine } from "../options.js";
import { storeCommand } from "../storeCommand.js";

interface ListFlags extends StoreFlags {
  tenant?: string;
}

interface CreateFlags extends ListFlags {
  eventTypes: string[];
  ttl: number;
}

function parseTtl(value: string): number {
  const ttl = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || ttl < 1 || ttl > MAX_STREAM_TOKEN_TTL_S) {
    throw new InvalidArgumentError(`Expected whole seconds from 1 to ${MAX_STREAM_TOKEN_TTL_S}.`);
  }
  return ttl;
}

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== ""),
];

async function runCreate(flags: CreateFlags, io: CliIo): Promise<number> {
  return withStore(flags, io, async (store) => {
    const { token, record } = await mintStreamToken(
      store,
      {
        eventTypes: flags.eventTypes,
        ttlS: flags.ttl,
        ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
      },
      { clock: io.clock },
    );
    if (flags.json === true) {
      printJson(io, { ...streamTokenToWire(record), token });
      return 0;
    }
    io.stdout.write(`token: ${token}\n`);
    io.stderr.write(
      `Created stream token ${record.id} (tenant ${record.tenant}, ${record.eventTypes.join(", ")}), valid until ${record.expiresAt}. ` +
        "Give the token to the browser now: no herald command shows it again.\n",
    );
    return 0;
  });
}

function state(record: { revokedAt: string | null; expiresAt: string }, now: string): string {
  if (record.revokedAt !== null) return "revoked";
  return record.expiresAt <= now ? "expired" : "live";
}

async function runList(flags: ListFlags, io: CliIo): Promise<number> {
  return withStore(flags, io, async (store) => {
    const tokens = await store.listStreamTokens(
      flags.tenant === undefined ? {} : { tenant: flags.tenant },
    );
    if (flags.json === true) printJson(io, { data: tokens.map(streamTokenToWire) });
    else if (tokens.length === 0) io.stdout.write("no stream tokens\n");
    else {
      const now = new Date(io.clock.now()).toISOString();
      io.stdout.write(
        formatTable(
          ["ID", "TENANT", "EVENT TYPES", "STATE", "EXPIRES"],
          tokens.map((t) => [
            t.id,
            t.tenant,
            t.eventTypes.join(","),
            state(t, now),
            shortTime(t.expiresAt),
          ]),
        ),
      );
    }
    return 0;
  });
}

async function runRevoke(id: string, flags: StoreFlags, io: CliIo): Promise<number> {
  return withStore(flags, io, async (store) => {
    const record = await store.revokeStreamToken(id);
    if (record === undefined) throw streamTokenNotFound(id);
    if (flags.json === true) printJson(io, streamTokenToWire(record));
    else io.stdout.write(`revoked stream token ${id}\n`);
    return 0;
  });
}

const CREATE_HELP = `
A stream token opens GET /v1/stream (Server-Sent Events) and GET /v1/stream/ws (WebSocket) on
the tenant's events of the given types until it expires or is revoked. It is printed once
(stdout); the database keeps only its SHA-256.

Exit status: 0 created, 1 the store refused it (stream_token.invalid) or could not be reached,
2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald stream-tokens create --tenant acme --event-types 'order.*' --ttl 600
  token: hst_3mQ…
`;

const LIST_HELP = `
Oldest first, with their state (live, expired, revoked); never a token. --json prints
{"data":[…]} with the API's shape.

Exit status: 0 listed, 1 the store could not be reached, 2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald stream-tokens list --tenant acme
`;

const REVOKE_HELP = `
The token opens no stream from now on; streams it opened end at their next heartbeat.

Exit status: 0 revoked, 1 no such token (stream_token.not_found) or the store could not be
reached, 2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald stream-tokens revoke stk_01JD…
  revoked stream token stk_01JD…
`;

/** Adds `stream-tokens` with create, list and revoke. */
export function registerStreamTokens(program: Command, io: CliIo): Command {
  const tokens = program
    .command("stream-tokens")
    .summary("create, list and revoke live-stream tokens")
    .description("Manage the tokens of /v1/stream. See `herald stream-tokens <command> --help`.");

  const create = tokens
    .command("create")
    .summary("create a stream token (printed once)")
    .description("Create a token that reads one tenant's events of some types, live.")
    .requiredOption(
      "--event-types <patterns>",
      "event-type patterns it may read (comma-separated, repeatable), e.g. 'order.*'",
      collect,
    )
    .option(
      "--ttl <seconds>",
      `lifetime (default ${DEFAULT_STREAM_TOKEN_TTL_S}, at most ${MAX_STREAM_TOKEN_TTL_S})`,
      parseTtl,
      DEFAULT_STREAM_TOKEN_TTL_S,
    )
    .option("--tenant <tenant>", `whose events (default ${DEFAULT_TENANT})`, parseSingleLine);
  storeCommand(
    create,
    io,
    { json: "print the token record as JSON, with the token", help: CREATE_HELP },
    runCreate,
  );

  const list = tokens
    .command("list")
    .summary("list stream tokens (never the tokens)")
    .description("List the stream tokens with their state.")
    .option("--tenant <tenant>", "only this tenant's", parseSingleLine);
  storeCommand(list, io, { json: 'print {"data":[…]}', help: LIST_HELP }, runList);

  const revoke = tokens
    .command("revoke")
    .summary("revoke a stream token")
    .description("Revoke a stream token: it opens nothing from now on.")
    .argument("<id>", "the token's id (stk_…)", parseSingleLine);
  storeCommand(
    revoke,
    io,
    { json: "print the revoked token as JSON", help: REVOKE_HELP },
    runRevoke,
  );
  return tokens;
}
