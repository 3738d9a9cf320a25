// `herald verify`: verifies the raw body read from stdin against the given headers; the exit
// status says valid (0), invalid (1) or could not verify as asked (2, a usage error).
import { readFile } from "node:fs/promises";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { SchemeName } from "@heraldjs/webhooks/internal/signing/registry.js";
import {
  DEFAULT_TOLERANCE_SECONDS,
  verifyWebhook,
} from "@heraldjs/webhooks/internal/signing/sign.js";
import type { VerifyResult } from "@heraldjs/webhooks/internal/signing/types.js";
import type { Command } from "commander";
import { setAction } from "../command.js";
import {
  type HeaderList,
  parseHeaderFile,
  parseHeaderFlag,
  toHeaderRecord,
} from "../headerLines.js";
import type { CliIo } from "../io.js";
import {
  collect,
  parseInstantFlag,
  parseSecondsFlag,
  parseUrlFlag,
  redactSecrets,
  resolveSecrets,
  SECRET_ENV,
  SECRET_ENV_HELP,
} from "../options.js";
import { addSigningOptions, signingUsageError } from "../signingFlags.js";

interface VerifyFlags {
  scheme: SchemeName;
  secret?: string[];
  header?: string[];
  headersFile?: string;
  tolerance?: number;
  now?: Date;
  url?: string;
  json?: boolean;
}

/** Failures that mean "the command was not given what it needs", not "the request is forged". */
const USAGE_FAILURES = new Set<string>(["secret.missing", "secret.invalid", "url.missing"]);

async function collectHeaders(flags: VerifyFlags): Promise<HeaderList> {
  const headers: HeaderList = [];
  if (flags.headersFile !== undefined) {
    let text: string;
    try {
      text = await readFile(flags.headersFile, "utf8");
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new HeraldError(
        "cli.invalid_argument",
        `Cannot read --headers-file ${flags.headersFile}: ${reason}`,
      );
    }
    headers.push(...parseHeaderFile(text, flags.headersFile));
  }
  for (const flag of flags.header ?? []) headers.push(parseHeaderFlag(flag));
  return headers;
}

function describeValid(result: Extract<VerifyResult, { ok: true }>): string {
  let text = "valid\n";
  if (result.id !== undefined) text += `id: ${result.id}\n`;
  if (result.timestamp !== undefined) {
    text += `timestamp: ${result.timestamp} (${new Date(result.timestamp * 1000).toISOString()})\n`;
  }
  return text;
}

async function runVerify(flags: VerifyFlags, io: CliIo): Promise<number> {
  const secrets = resolveSecrets(flags.secret, io.env);
  const headers = await collectHeaders(flags);
  const body = await io.readStdin();
  const result = verifyWebhook({
    scheme: flags.scheme,
    secrets,
    headers: toHeaderRecord(headers),
    body,
    now: flags.now ?? io.clock.now(),
    toleranceSeconds: flags.tolerance,
    url: flags.url,
  });
  if (result.ok) {
    io.stdout.write(
      flags.json === true
        ? `${JSON.stringify({ valid: true, scheme: flags.scheme, id: result.id, timestamp: result.timestamp })}\n`
        : describeValid(result),
    );
    return 0;
  }
  if (USAGE_FAILURES.has(result.code)) {
    throw signingUsageError(result.code, result.message, secrets);
  }
  const message = redactSecrets(result.message, secrets);
  if (flags.json === true) {
    io.stdout.write(`${JSON.stringify({ valid: false, code: result.code, message })}\n`);
  } else {
    io.stderr.write(`${result.code}: ${message}\n`);
  }
  return 1;
}

const EXAMPLES = `
The body is read from stdin as raw bytes; pass exactly the bytes that were received.

Exit status:
  0  valid (prints "valid", and the id and timestamp when the scheme signs them)
  1  invalid (prints "<code>: <message>", e.g. "signature.invalid: …" or "timestamp.stale: …")
  2  usage error: unknown scheme, no secret, unreadable secret, bad flag value

Examples:
  $ export ${SECRET_ENV}=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
  $ printf '{"test": 2432232314}' > body.json
  $ herald verify --scheme standard \\
      --header 'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek' \\
      --header 'webhook-timestamp: 1614265330' \\
      --header 'webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' \\
      --now 1614265330 < body.json
  valid
  id: msg_p5jXN8AQM9LWM0D4loKWxJek
  timestamp: 1614265330 (2021-02-25T15:02:10.000Z)

  # headers saved by curl -D, or printed by herald sign
  $ herald sign --scheme github > headers.txt < body.json
  $ herald verify --scheme github --headers-file headers.txt < body.json

${SECRET_ENV_HELP}`;

export function registerVerify(program: Command, io: CliIo): Command {
  const command = program
    .command("verify")
    .summary("verify a body read from stdin against its headers")
    .description(
      "Verify the raw body read from stdin against the signature headers given with --header or --headers-file. Prints the result; the exit status is 0 valid, 1 invalid, 2 usage error.",
    );
  addSigningOptions(command, "verify")
    .option("--header <header>", "a received header, 'Name: value'; repeat for each", collect)
    .option("--headers-file <file>", "file of 'Name: value' lines (e.g. the output of curl -D)")
    .option(
      "--tolerance <seconds>",
      `accepted clock skew either way (default: ${DEFAULT_TOLERANCE_SECONDS})`,
      parseSecondsFlag,
    )
    .option("--now <time>", "verify as of this time: Unix seconds or ISO 8601", parseInstantFlag)
    .option("--url <url>", "full URL the request was sent to (twilio)", parseUrlFlag)
    .option("--json", "print the result as JSON on stdout")
    .addHelpText("after", EXAMPLES);
  return setAction(command, io, runVerify);
}
