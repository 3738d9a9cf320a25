// The CLI in-process through runCli, with stdout and stderr captured as text.
import type { CliIoOptions } from "../../packages/server/src/cli/io.js";
import { runCli } from "../../packages/server/src/cli/main.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCliCaptured(
  args: readonly string[],
  options: Omit<CliIoOptions, "stdout" | "stderr"> = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    ...options,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
