// `herald` command line. Each command lives in its own file under commands/ and registers
// itself on the program; `runCli` runs one invocation against injected stdin/stdout/env.

import { readPackageVersion } from "@heraldjs/core/internal/core/version.js";
import { coerceError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, CommanderError } from "commander";
import { DEFAULT_SQLITE_PATH } from "../store/sqliteDefault.js";
import { HeraldCommand, USAGE_EXIT_CODE } from "./command.js";
import { type CliIo, type CliIoOptions, createIo } from "./io.js";
import { DB_ENV, SECRET_ENV } from "./options.js";

const PROGRAM_HELP = `
Exit status: 0 success (verify: valid), 1 verify: invalid signature / migrate and the store
commands: the database refused the operation or could not be reached, 2 usage error.
Errors name a stable code, e.g. "error: cli.invalid_argument: …".

Environment:
  ${SECRET_ENV}   secret(s) for sign, verify, sources add and secret create|rotate, one per line,
                  when no --secret is given
  ${DB_ENV}       the database of migrate, replay, deliveries, messages, endpoints, sources and
                  secret list|create|rotate|delete, stream-tokens create|list|revoke,
                  nats token create|list|revoke
                  (a SQLite path or postgres:// URL; default ${DEFAULT_SQLITE_PATH})

Examples:
  $ export ${SECRET_ENV}=$(herald secret generate)
  $ herald sign --scheme standard < body.json > headers.txt
  $ herald verify --scheme standard --headers-file headers.txt < body.json
  valid
  $ herald deliveries --status dead_lettered
  $ herald replay --endpoint ep_orders --since 1h
`;

type Register = (program: Command, io: CliIo) => unknown;

/**
 * Each top-level command (with its aliases) and how to load the module that registers it, in the
 * order the help lists them. An invocation loads only its command's module (`herald sign` never
 * loads the server, the stores or the NATS client); help and an unknown command load them all,
 * the version none.
 */
const COMMANDS: readonly (readonly [names: readonly string[], load: () => Promise<Register>])[] = [
  [["serve", "worker"], async () => (await import("./commands/serve.js")).registerServe],
  [["sign"], async () => (await import("./commands/sign.js")).registerSign],
  [["verify"], async () => (await import("./commands/verify.js")).registerVerify],
  [["secret", "secrets"], async () => (await import("./commands/secret.js")).registerSecret],
  [["migrate"], async () => (await import("./commands/migrate.js")).registerMigrate],
  [["replay"], async () => (await import("./commands/replay.js")).registerReplay],
  [["deliveries"], async () => (await import("./commands/deliveries.js")).registerDeliveries],
  [["messages"], async () => (await import("./commands/messages.js")).registerMessages],
  [["endpoints"], async () => (await import("./commands/endpoints.js")).registerEndpoints],
  [["sources"], async () => (await import("./commands/sources.js")).registerSources],
  [["spec"], async () => (await import("./commands/spec.js")).registerSpec],
  [
    ["stream-tokens"],
    async () => (await import("./commands/streamTokens.js")).registerStreamTokens,
  ],
  [["nats"], async () => (await import("./commands/nats.js")).registerNats],
  [["forward"], async () => (await import("./commands/forward.js")).registerForward],
];

/** The commands a program for `args` needs: the one named first, none for the version, or all. */
export function commandsFor(args: readonly string[]): readonly (() => Promise<Register>)[] {
  if (args.length === 1 && (args[0] === "-v" || args[0] === "--version")) return [];
  const named = COMMANDS.filter(([names]) => names.includes(args[0] ?? ""));
  return (named.length > 0 ? named : COMMANDS).map(([, load]) => load);
}

async function buildProgram(args: readonly string[], io: CliIo): Promise<Command> {
  const program = new HeraldCommand("herald")
    .description("Events in, webhooks out: sign, verify, receive and deliver webhooks.")
    .version(readPackageVersion(), "-v, --version")
    // The program's own options (-v, -h) only before the command: after it, an argument such as
    // a secret that begins with "-v" is the command's (`sign --secret -v…` signs).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError("(add --help for usage and examples)")
    .exitOverride()
    .addHelpText("after", PROGRAM_HELP);
  // Subcommands copy the settings above when they are created, so register them last, in order.
  const registers = await Promise.all(commandsFor(args).map((load) => load()));
  for (const register of registers) register(program, io);
  return program;
}

/** Runs `herald <args…>` (arguments after the program name) and resolves to the exit status. */
export async function runCli(args: readonly string[], options: CliIoOptions = {}): Promise<number> {
  const io = createIo(options);
  try {
    const program = await buildProgram(args, io);
    await program.parseAsync([...args], { from: "user" });
    return io.exitCode;
  } catch (error) {
    // Commander has already printed its message (and help, when asked for).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    const herald = coerceError(error);
    io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
    return USAGE_EXIT_CODE;
  }
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  return runCli(argv.slice(2));
}
