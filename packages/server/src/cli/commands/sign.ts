// `herald sign`: signs the raw body read from stdin and prints the headers to send with it.

import { newId } from "@heraldjs/core/internal/core/ids.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { SchemeName } from "@heraldjs/webhooks/internal/signing/registry.js";
import { signWebhook } from "@heraldjs/webhooks/internal/signing/sign.js";
import { type Command, Option } from "commander";
import { setAction } from "../command.js";
import { formatHeaderLines } from "../headerLines.js";
import type { CliIo } from "../io.js";
import {
  parseSingleLine,
  parseUnixSecondsFlag,
  parseUrlFlag,
  resolveSecrets,
  SECRET_ENV,
  SECRET_ENV_HELP,
} from "../options.js";
import { addSigningOptions, signingUsageError } from "../signingFlags.js";

const SIGN_FORMATS = ["headers", "json", "curl"] as const;
type SignFormat = (typeof SIGN_FORMATS)[number];

interface SignFlags {
  scheme: SchemeName;
  secret?: string[];
  id?: string;
  timestamp?: number;
  url?: string;
  format: SignFormat;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function formatSignedHeaders(
  headers: Readonly<Record<string, string>>,
  format: SignFormat,
): string {
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      throw new HeraldError("internal", `Header ${JSON.stringify(name)} spans several lines`);
    }
  }
  if (format === "json") return `${JSON.stringify(headers, null, 2)}\n`;
  if (format === "curl") {
    const args = Object.entries(headers).map(
      ([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`,
    );
    return `${args.join(" ")}\n`;
  }
  return formatHeaderLines(headers);
}

/** Signs stdin; the `msg_` id is generated only when the scheme refuses to sign without one. */
async function runSign(flags: SignFlags, io: CliIo): Promise<number> {
  const secrets = resolveSecrets(flags.secret, io.env);
  const body = await io.readStdin();
  const options = {
    scheme: flags.scheme,
    secret: secrets,
    body,
    id: flags.id,
    timestamp: flags.timestamp ?? Math.floor(io.clock.now() / 1000),
    url: flags.url,
  };
  let headers: Record<string, string>;
  try {
    try {
      headers = signWebhook(options);
    } catch (error) {
      if (flags.id !== undefined || !isHeraldError(error, "id.missing")) throw error;
      headers = signWebhook({ ...options, id: newId("msg", { clock: io.clock }) });
    }
  } catch (error) {
    if (!isHeraldError(error)) throw error;
    throw signingUsageError(error.code, error.message, secrets);
  }
  io.stdout.write(formatSignedHeaders(headers, flags.format));
  return 0;
}

const EXAMPLES = `
The body is read from stdin as raw bytes and is not changed: send exactly those bytes.

Examples:
  $ export ${SECRET_ENV}=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw   # or $(herald secret generate)
  $ printf '{"test": 2432232314}' > body.json
  $ herald sign --scheme standard --id msg_p5jXN8AQM9LWM0D4loKWxJek --timestamp 1614265330 < body.json
  webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
  webhook-timestamp: 1614265330
  webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=

  # send it with curl (-H @- reads the header lines from stdin)
  $ herald sign --scheme standard < body.json \\
      | curl -H @- -H 'Content-Type: application/json' --data-binary @body.json https://example.com/hook

  $ herald sign --scheme twilio --secret "$TOKEN" --url 'https://example.com/sms' --format json < body.txt

${SECRET_ENV_HELP}`;

export function registerSign(program: Command, io: CliIo): Command {
  const command = program
    .command("sign")
    .summary("sign a body read from stdin; print the headers")
    .description(
      "Sign the raw body read from stdin and print the headers to send with it: one 'Name: value' per line (curl -H @file input), a JSON object, or curl -H arguments.",
    );
  addSigningOptions(command, "sign")
    .option(
      "--id <id>",
      "message id, for schemes that sign one (default: a new msg_ id where needed)",
      parseSingleLine,
    )
    .option("--timestamp <unix-seconds>", "signed timestamp (default: now)", parseUnixSecondsFlag)
    .option(
      "--url <url>",
      "full URL the request is sent to (schemes that sign it: twilio)",
      parseUrlFlag,
    )
    .addOption(
      new Option("--format <format>", "output format").choices(SIGN_FORMATS).default("headers"),
    )
    .addHelpText("after", EXAMPLES);
  return setAction(command, io, runSign);
}
