// `herald secret generate`: prints a new random secret in the form the scheme expects, or an
// Ed25519 key pair for Standard Webhooks v1a signatures; the named secrets' subcommands are in
// namedSecrets.ts.

import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { SchemeName } from "@heraldjs/webhooks/internal/signing/registry.js";
import { generateStandardKeyPair } from "@heraldjs/webhooks/internal/signing/schemes/standard.js";
import { generateSecret } from "@heraldjs/webhooks/internal/signing/sign.js";
import { type Command, Option } from "commander";
import { runAction } from "../command.js";
import type { CliIo } from "../io.js";
import { SECRET_ENV, schemeOption } from "../options.js";
import { registerNamedSecrets } from "./namedSecrets.js";

interface SecretGenerateFlags {
  scheme: SchemeName;
  ed25519?: boolean;
  json?: boolean;
}

async function runSecretGenerate(flags: SecretGenerateFlags, io: CliIo): Promise<number> {
  if (flags.ed25519 === true) {
    if (flags.scheme !== "standard") {
      throw new HeraldError(
        "cli.invalid_argument",
        `--ed25519 key pairs exist only for the standard scheme, not ${flags.scheme}`,
      );
    }
    const pair = generateStandardKeyPair();
    io.stdout.write(
      flags.json === true
        ? `${JSON.stringify({ scheme: flags.scheme, secret: pair.secret, public_key: pair.publicKey })}\n`
        : `secret: ${pair.secret}\npublic key: ${pair.publicKey}\n`,
    );
    return 0;
  }
  const secret = generateSecret(flags.scheme);
  io.stdout.write(
    flags.json === true ? `${JSON.stringify({ scheme: flags.scheme, secret })}\n` : `${secret}\n`,
  );
  return 0;
}

const EXAMPLES = `
Examples:
  $ herald secret generate
  whsec_MfKQ9r8GKYqrTFQf1cQhiNG2Y6sRp6TZb3iHvK3nU/Y=
  $ export ${SECRET_ENV}=$(herald secret generate --scheme stripe)

  # Standard Webhooks v1a: sign with the whsk_ secret, give receivers the whpk_ public key
  $ herald secret generate --ed25519
  secret: whsk_…
  public key: whpk_…
  $ herald secret generate --ed25519 --json
  {"scheme":"standard","secret":"whsk_…","public_key":"whpk_…"}
`;

export function registerSecret(program: Command, io: CliIo): Command {
  const secret = program
    .command("secret")
    .alias("secrets")
    .summary("generate secrets; manage named secrets")
    .description(
      "Generate signing secrets, and manage the named secrets that sign ad-hoc dispatches. See `herald secret <command> --help`.",
    );
  secret
    .command("generate")
    .summary("print a new random signing secret")
    .description(
      "Print a new random secret in the form the scheme expects (whsec_<base64 of 32 bytes> for standard), or with --ed25519 a whsk_ signing secret and its whpk_ public key.",
    )
    .addOption(schemeOption("scheme the secret is for").default("standard"))
    .addOption(new Option("--ed25519", "an Ed25519 key pair for v1a signatures (standard only)"))
    .option("--json", "print JSON instead of text")
    .addHelpText("after", EXAMPLES)
    .action((flags: SecretGenerateFlags, self: Command) =>
      runAction(self, io, () => runSecretGenerate(flags, io)),
    );
  registerNamedSecrets(secret, io);
  return secret;
}
