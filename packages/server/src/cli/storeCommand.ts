// What every store command (replay, deliveries, messages, endpoints, sources) adds after its own
// arguments and flags: --db and --schema, --json, the help text and an action that opens the
// store through `run` (see openStore.ts).
import type { Command } from "commander";
import { setAction } from "./command.js";
import type { CliIo } from "./io.js";
import { addDatabaseOptions, type StoreFlags } from "./openStore.js";

export interface StoreCommandText {
  /** The description of --json: what it prints. */
  json: string;
  /** Shown after the options in --help. */
  help: string;
}

export function storeCommand<A extends unknown[], F extends StoreFlags>(
  command: Command,
  io: CliIo,
  text: StoreCommandText,
  run: (...params: [...A, F, CliIo]) => Promise<number>,
): Command {
  addDatabaseOptions(command).option("--json", text.json).addHelpText("after", text.help);
  return setAction(command, io, run);
}
