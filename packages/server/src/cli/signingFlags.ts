// What `herald sign` and `herald verify` share: the --scheme and --secret flags, and how a
// request they cannot sign or verify as asked becomes a usage error that never shows a secret.

import { HeraldError, type HeraldErrorCode } from "@heraldjs/webhooks/internal/core/errors.js";
import type { Command } from "commander";
import { redactSecrets, schemeOption, secretOption } from "./options.js";

/** --scheme (required) and --secret, worded for what the command does with the secret. */
export function addSigningOptions(command: Command, verb: "sign" | "verify"): Command {
  return command
    .addOption(schemeOption("signing scheme").makeOptionMandatory())
    .addOption(secretOption(verb));
}

/** The error to throw, its message with the secrets redacted and a hint when --url is missing. */
export function signingUsageError(
  code: HeraldErrorCode,
  message: string,
  secrets: readonly string[],
): HeraldError {
  const hint = code === "url.missing" ? " (pass --url)" : "";
  return new HeraldError(code, `${redactSecrets(message, secrets)}${hint}`);
}
