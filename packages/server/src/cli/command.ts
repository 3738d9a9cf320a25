// A commander Command whose usage errors carry a stable `cli.*` code and exit with status 2, and
// the wrappers that turn a command body's result into the exit status.

import { coerceError } from "@heraldjs/webhooks/internal/core/errors.js";
import { Command, CommanderError, type ErrorOptions } from "commander";
import type { CliIo } from "./io.js";

/** Exit status for usage errors: unknown option or scheme, missing secret, bad flag value. */
export const USAGE_EXIT_CODE = 2;

const USAGE_CODES: Readonly<Record<string, string>> = {
  "commander.unknownOption": "cli.unknown_option",
  "commander.unknownCommand": "cli.unknown_command",
  "commander.missingArgument": "cli.missing_argument",
  "commander.optionMissingArgument": "cli.missing_argument",
  "commander.missingMandatoryOptionValue": "cli.missing_argument",
  "commander.invalidArgument": "cli.invalid_argument",
  "commander.excessArguments": "cli.invalid_argument",
  "commander.conflictingOption": "cli.invalid_argument",
};

/** The stable code shown for a commander error code; Herald codes pass through unchanged. */
export function usageCode(code: string): string {
  return code.startsWith("commander.") ? (USAGE_CODES[code] ?? "cli.usage") : code;
}

export class HeraldCommand extends Command {
  override createCommand(name?: string): Command {
    return new HeraldCommand(name);
  }

  override error(message: string, options: ErrorOptions = {}): never {
    const code = options.code ?? "commander.error";
    const text = message.replace(/^error: /, "");
    return super.error(`error: ${usageCode(code)}: ${text}`, {
      code,
      exitCode: options.exitCode ?? USAGE_EXIT_CODE,
    });
  }
}

/**
 * Runs a command body: the number it returns becomes the exit status; anything it throws is
 * reported as a usage error with the error's code (HeraldError) and exit status 2.
 */
export async function runAction(
  command: Command,
  io: CliIo,
  body: () => Promise<number>,
): Promise<void> {
  let status: number;
  try {
    status = await body();
  } catch (error) {
    if (error instanceof CommanderError) throw error;
    const herald = coerceError(error);
    command.error(herald.message, { code: herald.code });
  }
  io.exitCode = status;
}

/**
 * Makes `run` the command's action: it gets the command's arguments, its flags and the io, as
 * the `runX(…, flags, io)` functions of commands/ take them, and runs through runAction.
 */
export function setAction<A extends unknown[], F>(
  command: Command,
  io: CliIo,
  run: (...params: [...A, F, CliIo]) => Promise<number>,
): Command {
  return command.action((...params: unknown[]) => {
    // Commander passes the arguments, the flags and last the command itself.
    const self = params.pop() as Command;
    return runAction(self, io, () => run(...(params as [...A, F]), io));
  });
}
