// The CLI's view of the outside world (stdin as raw bytes, stdout, stderr, environment, clock),
// injected so commands run in-process in tests exactly as they do from a shell.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { systemClock } from "@heraldjs/webhooks/internal/core/clock.js";

export interface TextSink {
  write(text: string): unknown;
}

export interface CliIo {
  /** The whole of stdin, byte for byte (never decoded and re-encoded). */
  readStdin(): Promise<Buffer>;
  stdout: TextSink;
  stderr: TextSink;
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  /** Set by the command that ran, like `process.exitCode`; 0 unless it says otherwise. */
  exitCode: number;
}

/** What a caller may pass to `runCli`; anything left out comes from the real process. */
export interface CliIoOptions {
  stdin?: Buffer | Uint8Array | string | NodeJS.ReadableStream;
  stdout?: TextSink;
  stderr?: TextSink;
  env?: Readonly<Record<string, string | undefined>>;
  clock?: Clock;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function stdinReader(source: CliIoOptions["stdin"], stderr: TextSink): () => Promise<Buffer> {
  if (typeof source === "string") return async () => Buffer.from(source, "utf8");
  if (source instanceof Uint8Array) return async () => Buffer.from(source);
  if (source !== undefined) return () => readAll(source);
  return () => {
    // A body typed at a terminal is rarely intended; say what the command is waiting for.
    if (process.stdin.isTTY) stderr.write("Reading the body from stdin (end with Ctrl-D)…\n");
    return readAll(process.stdin);
  };
}

let pipeGuarded = false;

/** `herald … | head -1` closes the pipe early: that is the reader's choice, not a crash. */
function guardBrokenPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

export function createIo(options: CliIoOptions = {}): CliIo {
  const stderr = options.stderr ?? process.stderr;
  if (options.stdout === undefined) guardBrokenPipe();
  return {
    readStdin: stdinReader(options.stdin, stderr),
    stdout: options.stdout ?? process.stdout,
    stderr,
    env: options.env ?? process.env,
    clock: options.clock ?? systemClock,
    exitCode: 0,
  };
}
