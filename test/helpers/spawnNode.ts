// Runs Node on a script (the built CLI, or a tiny script importing a package's dist/) as a child process,
// feeds it stdin, and collects its exit status and output.
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "../..");
/** The built `herald` executable (npm run build first). */
export const heraldBin = join(repoRoot, "packages/server/dist/cli/bin.js");

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Added to this process's environment; an undefined value removes the variable. */
  env?: Record<string, string | undefined>;
  /** Default: the repository root. */
  cwd?: string;
  /** Written to the child's stdin, which is then closed (default: closed at once). */
  stdin?: Buffer | string;
}

export function runNode(args: readonly string[], options: RunOptions = {}): Promise<ChildRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
  }
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...args], { env, cwd: options.cwd ?? repoRoot });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", fail);
    child.on("close", (code) =>
      done({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
    child.stdin.end(options.stdin);
  });
}

/** `herald <args…>` through the built bin. */
export function runHerald(args: readonly string[], options: RunOptions = {}): Promise<ChildRun> {
  return runNode([heraldBin, ...args], options);
}
