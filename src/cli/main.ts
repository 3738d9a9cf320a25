// `herald` command line. Each command lives in its own file under commands/ and registers
// itself on the program.
import { Command } from "commander";
import { readPackageVersion } from "./version.js";

export function buildProgram(): Command {
  const program = new Command("herald")
    .description("Events in, webhooks out: sign, verify, receive and deliver webhooks.")
    .version(readPackageVersion(), "-v, --version")
    .showHelpAfterError()
    .exitOverride();
  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    const code = (error as { exitCode?: unknown }).exitCode;
    if (typeof code === "number") return code;
    process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
