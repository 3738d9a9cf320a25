// `herald sources list|add`: inbound webhook origins (POST /webhooks/:name). Their secrets go in
// and are never printed again: the list shows how many each source has.

import {
  DEFAULT_DEDUPE_TTL_S,
  DEFAULT_SOURCE_TOLERANCE_S,
} from "@heraldjs/core/internal/model/constants.js";
import type {
  SourceInput,
  SourceRecord,
  SourceTypeFrom,
} from "@heraldjs/core/internal/model/deliveryRecords.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import {
  CREDENTIAL_SCHEMES,
  type CredentialScheme,
} from "@heraldjs/webhooks/internal/signing/credentials.js";
import type { SchemeName } from "@heraldjs/webhooks/internal/signing/registry.js";
import { type Command, InvalidArgumentError } from "commander";
import { sourceToWire } from "../../wire/records.js";
import { toSourceInput } from "../../wire/source.js";
import { formatTable, plural } from "../format.js";
import type { CliIo } from "../io.js";
import { DB_ENV_HELP, printJson, type StoreFlags, withStore } from "../openStore.js";
import {
  collect,
  parseSecondsFlag,
  parseSingleLine,
  resolveSecrets,
  SECRET_ENV,
  schemeOption,
  secretOption,
} from "../options.js";
import { storeCommand } from "../storeCommand.js";

type SourcesListFlags = StoreFlags;

interface SourcesAddFlags extends StoreFlags {
  name: string;
  scheme: SchemeName | CredentialScheme;
  secret?: string[];
  tokenHeader?: string;
  allowFrom?: string[];
  allowUnsigned?: boolean;
  tolerance?: number;
  idempotencyHeader?: string;
  idempotencyRequired?: boolean;
  typeFrom?: SourceTypeFrom;
  dedupeTtl?: number;
  replace?: boolean;
}

/** `body:type`, `header:X-GitHub-Event` or `fixed:received`. */
export function parseTypeFromFlag(value: string): SourceTypeFrom {
  const match = /^(body|header|fixed):(.+)$/.exec(value.trim());
  if (match === null) {
    throw new InvalidArgumentError(
      "Expected body:<field>, header:<Header-Name> or fixed:<type> (e.g. header:X-GitHub-Event).",
    );
  }
  const where = match[1] as "body" | "header" | "fixed";
  const what = match[2]!.trim();
  if (where === "body") return { body: what };
  if (where === "header") return { header: what };
  return { fixed: what };
}

export function formatTypeFrom(typeFrom: SourceTypeFrom): string {
  if ("body" in typeFrom) return `body:${typeFrom.body}`;
  if ("header" in typeFrom) return `header:${typeFrom.header}`;
  return `fixed:${typeFrom.fixed}`;
}

function parsePositiveSecondsFlag(value: string): number {
  const seconds = parseSecondsFlag(value);
  if (seconds === 0) throw new InvalidArgumentError("Expected a number of seconds > 0.");
  return seconds;
}

function sourcesTable(sources: readonly SourceRecord[]): string {
  return formatTable(
    ["NAME", "SCHEME", "SECRETS", "TOLERANCE", "IDEMPOTENCY", "TYPE FROM", "DEDUPE TTL"],
    sources.map((s) => [
      s.name,
      s.scheme,
      String(s.secrets.length),
      `${s.toleranceS}s`,
      s.idempotencyHeader === null
        ? "-"
        : `${s.idempotencyHeader}${s.idempotencyRequired ? " (required)" : ""}`,
      formatTypeFrom(s.typeFrom),
      `${s.dedupeTtlS}s`,
    ]),
  );
}

async function runSourcesList(flags: SourcesListFlags, io: CliIo): Promise<number> {
  return withStore(flags, io, async (store) => {
    const sources = await store.listSources();
    if (flags.json === true) printJson(io, { data: sources.map(sourceToWire) });
    else if (sources.length === 0) io.stdout.write("no sources\n");
    else io.stdout.write(sourcesTable(sources));
    return 0;
  });
}

/** The flag a wire field came from, for the API's rules applied to the command line. */
const FLAG_OF: Readonly<Record<string, string>> = {
  scheme: "--scheme",
  secrets: "--secret",
  token_header: "--token-header",
  allow_from: "--allow-from",
};

/**
 * The API's rules on a source (toSourceInput: secrets the scheme can use, token header, allow
 * list, unsigned only when allowed), refused as `cli.invalid_argument` naming the flag.
 */
function checkSourceFlags(flags: SourcesAddFlags, secrets: string[]): SourceInput {
  try {
    return toSourceInput(
      {
        name: flags.name,
        scheme: flags.scheme,
        secrets,
        ...(flags.tokenHeader === undefined ? {} : { token_header: flags.tokenHeader }),
        ...(flags.allowFrom === undefined ? {} : { allow_from: flags.allowFrom }),
        ...(flags.idempotencyHeader === undefined
          ? {}
          : { idempotency_header: flags.idempotencyHeader }),
        ...(flags.idempotencyRequired === undefined
          ? {}
          : { idempotency_required: flags.idempotencyRequired }),
      },
      { allowUnsigned: flags.allowUnsigned === true },
    );
  } catch (error) {
    if (!(error instanceof HeraldError)) throw error;
    const field = String(error.details?.field ?? "");
    const flag = FLAG_OF[field.replace(/\[\d+\]$/, "")] ?? field;
    const problem = error.message.startsWith(`${field}: `)
      ? error.message.slice(field.length + 2)
      : error.message;
    const hint = error.code === "source.unsigned_not_allowed" ? " (or add --allow-unsigned)" : "";
    throw new HeraldError("cli.invalid_argument", `${flag}: ${problem}${hint}`, { cause: error });
  }
}

async function runSourcesAdd(flags: SourcesAddFlags, io: CliIo): Promise<number> {
  // An unsigned source takes no secret; every other one needs one (flags or HERALD_SECRET).
  const secrets =
    flags.scheme === "none" && (flags.secret ?? []).length === 0
      ? []
      : resolveSecrets(flags.secret, io.env);
  // The API's rules: what the scheme cannot verify with is refused before anything is stored.
  const input = checkSourceFlags(flags, secrets);
  return withStore(flags, io, async (store) => {
    if (flags.replace !== true && (await store.getSource(flags.name)) !== undefined) {
      throw new HeraldError(
        "source.already_exists",
        `A source named ${flags.name} exists; add --replace to replace it`,
        { details: { name: flags.name } },
      );
    }
    const source = await store.upsertSource({
      ...input,
      ...(flags.tolerance === undefined ? {} : { toleranceS: flags.tolerance }),
      ...(flags.typeFrom === undefined ? {} : { typeFrom: flags.typeFrom }),
      ...(flags.dedupeTtl === undefined ? {} : { dedupeTtlS: flags.dedupeTtl }),
    });
    if (flags.json === true) {
      printJson(io, sourceToWire(source));
      return 0;
    }
    io.stdout.write(
      `${flags.replace === true ? "saved" : "added"} source ${source.name} (${source.scheme}, ${plural(source.secrets.length, "secret")}, type from ${formatTypeFrom(source.typeFrom)}): POST /webhooks/${source.name}\n`,
    );
    return 0;
  });
}

const LIST_HELP = `
By name. SECRETS counts the verification secrets; no command prints them. --json prints
{"data":[…]} with the API's source shape (secret_count instead of secrets).

Exit status: 0 listed, 1 the store could not be reached, 2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald sources list
  NAME    SCHEME  SECRETS  TOLERANCE  IDEMPOTENCY  TYPE FROM  DEDUPE TTL
  stripe  stripe  2        300s       -            body:type  259200s
`;

const ADD_HELP = `
Registers an inbound webhook origin: requests to POST /webhooks/<name> are verified with the
scheme and any of the secrets, deduplicated, and become messages of type <name>.<type>.
--type-from says where <type> comes from: body:<field> (a JSON field of the body),
header:<Header-Name>, or fixed:<type> (default fixed:received). The dedupe key is the
--idempotency-header's value when given, else the scheme's message id, else a hash of the body.
A name already in use is refused (source.already_exists) unless --replace is given.

Exit status: 0 added, 1 the store refused it (source.invalid, source.already_exists) or could
not be reached, 2 usage error (no --name, an unknown --scheme, no secret, a bad --type-from).

Environment:
  ${SECRET_ENV}   the secret(s), one per line, when no --secret is given (keeps them out of shell history)
${DB_ENV_HELP}
Examples:
  $ herald sources add --name stripe --scheme stripe --secret "$STRIPE_WEBHOOK_SECRET" --type-from body:type
  added source stripe (stripe, 1 secret, type from body:type): POST /webhooks/stripe
  $ HERALD_SECRET="$GITHUB_SECRET" herald sources add --name github --scheme github \\
      --type-from header:X-GitHub-Event --idempotency-header X-GitHub-Delivery
  added source github (github, 1 secret, type from header:X-GitHub-Event): POST /webhooks/github
  $ HERALD_SECRET="$CRM_TOKEN" herald sources add --name crm --scheme token --type-from body:event
  added source crm (token, 1 secret, type from body:event): POST /webhooks/crm
  $ herald sources add --name legacy --scheme none --allow-unsigned --allow-from 203.0.113.0/24
  added source legacy (none, 0 secrets, type from fixed:received): POST /webhooks/legacy
`;

export function registerSources(program: Command, io: CliIo): Command {
  const sources = program
    .command("sources")
    .summary("list and add inbound webhook sources")
    .description("Manage inbound webhook sources. See `herald sources <command> --help`.");

  const list = sources
    .command("list")
    .summary("list sources (secret counts only)")
    .description("List the inbound webhook sources; secrets are counted, never shown.");
  storeCommand(list, io, { json: 'print {"data":[…]}', help: LIST_HELP }, runSourcesList);

  const add = sources
    .command("add")
    .summary("add an inbound webhook source")
    .description("Add an inbound webhook source: POST /webhooks/<name> verified with its scheme.")
    .requiredOption(
      "--name <name>",
      "the source's name: the path of POST /webhooks/<name>",
      parseSingleLine,
    )
    .addOption(schemeOption("verification scheme", CREDENTIAL_SCHEMES).makeOptionMandatory())
    .addOption(secretOption("verify"))
    .option(
      "--token-header <name>",
      "scheme token: the header carrying the token (default Authorization: Bearer)",
      parseSingleLine,
    )
    .option(
      "--allow-from <cidr>",
      "accept webhooks only from this address or CIDR; repeat for several",
      collect,
    )
    .option("--allow-unsigned", "allow --scheme none (unsigned webhooks; see docs/sources.md)")
    .option(
      "--tolerance <seconds>",
      `accepted clock skew, either way (default ${DEFAULT_SOURCE_TOLERANCE_S})`,
      parseSecondsFlag,
    )
    .option("--idempotency-header <name>", "header carrying the dedupe key", parseSingleLine)
    .option("--idempotency-required", "refuse requests without that header (400)")
    .option(
      "--type-from <where>",
      "body:<field> | header:<Header-Name> | fixed:<type> (default fixed:received)",
      parseTypeFromFlag,
    )
    .option(
      "--dedupe-ttl <seconds>",
      `how long a dedupe key is remembered (default ${DEFAULT_DEDUPE_TTL_S}, 3 days)`,
      parsePositiveSecondsFlag,
    )
    .option("--replace", "replace a source of the same name");
  storeCommand(
    add,
    io,
    { json: "print the source as JSON (secret_count, never the secrets)", help: ADD_HELP },
    runSourcesAdd,
  );
  return sources;
}
