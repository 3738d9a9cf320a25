// Flags shared by the signing commands: scheme, secrets (flags or HERALD_SECRET), times, and the
// parsers that turn a bad value into a clear `cli.invalid_argument` error.

import { MAX_PAGE_LIMIT } from "@heraldjs/core/internal/model/constants.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  resolveScheme,
  type SchemeName,
  schemeNames,
} from "@heraldjs/webhooks/internal/signing/registry.js";
import { InvalidArgumentError, Option } from "commander";

export const SECRET_ENV = "HERALD_SECRET";

/** The database of migrate and the store commands when no --db is given. */
export const DB_ENV = "HERALD_DB";

/** The Environment section of sign's and verify's --help. */
export const SECRET_ENV_HELP = `Environment:
  ${SECRET_ENV}   the secret(s), one per line, when no --secret is given (keeps them out of shell history)
`;

/**
 * Scheme names are read from the registry when the program is built, never listed here;
 * `extra` names more that the command takes (a source's `token`, `basic`, `none`).
 */
export function schemeOption(description: string, extra: readonly string[] = []): Option {
  const names = [...schemeNames, ...extra];
  return new Option("--scheme <name>", `${description} (${names.join(", ")})`).argParser(
    (value: string) => {
      if (extra.includes(value)) return value;
      try {
        resolveScheme(value as SchemeName);
      } catch (error) {
        throw new InvalidArgumentError(
          extra.length === 0 && error instanceof Error
            ? error.message
            : `Unknown scheme ${JSON.stringify(value)}; known: ${names.join(", ")}`,
        );
      }
      return value as SchemeName;
    },
  );
}

export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

export function secretOption(verb: string): Option {
  return new Option(
    "--secret <secret>",
    `secret to ${verb} with; repeat for several (rotation). Defaults to $${SECRET_ENV}`,
  ).argParser(collect);
}

/**
 * The secrets from --secret, else from HERALD_SECRET (one per line), so they need not appear in
 * shell history or `ps` output.
 */
export function resolveSecrets(
  flags: readonly string[] | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const secrets =
    flags !== undefined && flags.length > 0
      ? [...flags]
      : (env[SECRET_ENV] ?? "").split(/\r?\n/).filter((line) => line.trim() !== "");
  if (secrets.length === 0) {
    throw new HeraldError(
      "cli.missing_argument",
      `No secret: pass --secret <secret> or set ${SECRET_ENV}`,
    );
  }
  if (secrets.some((secret) => secret.trim() === "")) {
    throw new HeraldError("cli.invalid_argument", "A --secret value is empty");
  }
  return secrets;
}

/** Replaces every secret in a message, so no error ever echoes one. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("[secret]");
  }
  return out;
}

export function parseUnixSecondsFlag(value: string): number {
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new InvalidArgumentError("Expected Unix seconds (a non-negative integer).");
  }
  return Number(value.trim());
}

export function parseSecondsFlag(value: string): number {
  const seconds = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError("Expected a number of seconds >= 0.");
  }
  return seconds;
}

/** Unix seconds (`1700000000`, fractions allowed) or an ISO 8601 date-time. */
export function parseInstantFlag(value: string): Date {
  const text = value.trim();
  const ms = /^\d{1,15}(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (text === "" || Number.isNaN(ms)) {
    throw new InvalidArgumentError(
      "Expected Unix seconds or an ISO 8601 date-time (2024-05-01T12:00:00Z).",
    );
  }
  return new Date(ms);
}

/** Header values and ids printed one per line must not break that line. */
export function parseSingleLine(value: string): string {
  if (value === "" || /[\r\n\0]/.test(value)) {
    throw new InvalidArgumentError("Expected a non-empty value on one line.");
  }
  return value;
}

export function parseUrlFlag(value: string): string {
  if (!URL.canParse(value)) throw new InvalidArgumentError("Expected an absolute URL.");
  return value;
}

/** A `--since` value: a fixed instant, or a span before the moment the command runs. */
export type SinceFlag = { at: Date } | { agoMs: number };

const SPAN_UNITS_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `30m`, `1h`, `2d` (s, m, h, d, w) ago, Unix seconds, or an ISO 8601 date-time. */
export function parseSinceFlag(value: string): SinceFlag {
  const span = /^(\d{1,9})([smhdw])$/.exec(value.trim());
  if (span !== null) return { agoMs: Number(span[1]) * (SPAN_UNITS_MS[span[2]!] ?? 0) };
  try {
    return { at: parseInstantFlag(value) };
  } catch {
    throw new InvalidArgumentError(
      "Expected a span ago (30m, 1h, 2d), Unix seconds or an ISO 8601 date-time (2024-05-01T12:00:00Z).",
    );
  }
}

/** The instant a `--since` value names, relative spans counted back from `nowMs`. */
export function resolveSince(since: SinceFlag, nowMs: number): Date {
  return "at" in since ? since.at : new Date(nowMs - since.agoMs);
}

/** A page size: an integer from 1 to MAX_PAGE_LIMIT. */
export function parseLimitFlag(value: string): number {
  const text = value.trim();
  const limit = Number(text);
  if (!/^\d{1,4}$/.test(text) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new InvalidArgumentError(`Expected an integer from 1 to ${MAX_PAGE_LIMIT}.`);
  }
  return limit;
}
