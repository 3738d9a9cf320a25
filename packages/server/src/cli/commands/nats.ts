// `herald nats …`: Herald as the NATS platform's control plane — keys and the nats.conf snippet,
// the tokens agents and browsers connect with, the auth callout service, commands to agents, and
// the listener that turns agent events into Herald messages. Each subcommand lives in nats/.

import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { registerNatsAuthListen } from "./natsAuthListen.js";
import { registerNatsKeygen } from "./natsKeygen.js";
import { registerNatsListen } from "./natsListen.js";
import { registerNatsSend } from "./natsSend.js";
import { registerNatsTokens } from "./natsTokens.js";

const NATS_HELP = `
See docs/nats.md for the model (operator, account, auth user, callout), the subject convention
and a walk-through.
`;

/** Adds `nats` and its subcommands. */
export function registerNats(program: Command, io: CliIo): Command {
  const nats = program
    .command("nats")
    .summary("NATS platform: keys, tokens, auth callout, commands, listener")
    .description(
      "Run Herald as the NATS platform's control plane. See `herald nats <command> --help`.",
    )
    .addHelpText("after", NATS_HELP);
  registerNatsKeygen(nats, io);
  registerNatsTokens(nats, io);
  registerNatsAuthListen(nats, io);
  registerNatsSend(nats, io);
  registerNatsListen(nats, io);
  return nats;
}
