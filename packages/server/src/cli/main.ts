// `herald` command line. Each command lives in its own file under commands/ and registers
// itself on the program; `runCli` runs one invocation against injected stdin/stdout/env.

import { readPackageVersion } from "@heraldjs/core/internal/core/version.js";
import { coerceError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, CommanderError } from "commander";
import { DEFAULT_SQLITE_PATH } from "../store/openDatabase.js";
import { HeraldCommand, USAGE_EXIT_CODE } from "./command.js";
import { registerDeliveries } from "./commands/deliveries.js";
import { registerEndpoints } from "./commands/endpoints.js";
import { registerForward } from "./commands/forward.js";
import { registerMessages } from "./commands/messages.js";
import { DB_ENV, registerMigrate } from "./commands/migrate.js";
import { registerNats } from "./commands/nats.js";
import { registerReplay } from "./commands/replay.js";
import { registerSecret } from "./commands/secret.js";
import { registerServe } from "./commands/serve.js";
import { registerSign } from "./commands/sign.js";
import { registerSources } from "./commands/sources.js";
import { registerSpec } from "./commands/spec.js";
import { registerStreamTokens } from "./commands/streamTokens.js";
import { registerVerify } from "./commands/verify.js";
import { type CliIo, type CliIoOptions, createIo } from "./io.js";
import { SECRET_ENV } from "./options.js";

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

function buildProgram(io: CliIo = createIo()): Command {
  const program = new HeraldCommand("herald")
    .description("Events in, webhooks out: sign, verify, receive and deliver webhooks.")
    .version(readPackageVersion(), "-v, --version")
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError("(add --help for usage and examples)")
    .exitOverride()
    .addHelpText("after", PROGRAM_HELP);
  // Subcommands copy the settings above when they are created, so register them last.
  registerServe(program, io);
  registerSign(program, io);
  registerVerify(program, io);
  registerSecret(program, io);
  registerMigrate(program, io);
  registerReplay(program, io);
  registerDeliveries(program, io);
  registerMessages(program, io);
  registerEndpoints(program, io);
  registerSources(program, io);
  registerSpec(program, io);
  registerStreamTokens(program, io);
  registerNats(program, io);
  registerForward(program, io);
  return program;
}

/** Runs `herald <args…>` (arguments after the program name) and resolves to the exit status. */
export async function runCli(args: readonly string[], options: CliIoOptions = {}): Promise<number> {
  const io = createIo(options);
  const program = buildProgram(io);
  try {
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
