// `herald secret list|create|rotate|delete` (also `herald secrets …`): the named secrets that sign
// ad-hoc dispatches, on the database directly. A value is printed only when Herald generated it,
// once, by the command that generated it.

import { DEFAULT_SECRET_OVERLAP_MS } from "@heraldjs/core/internal/delivery/endpointSecrets.js";
import { rotateNamedSecret } from "@heraldjs/core/internal/delivery/namedSecrets.js";
import { schemeSpecFor } from "@heraldjs/core/internal/delivery/transports/signingHeaders.js";
import {
  DEFAULT_ENDPOINT_SCHEME,
  DEFAULT_TENANT,
} from "@heraldjs/core/internal/model/constants.js";
import type { NamedSecretRecord } from "@heraldjs/core/internal/model/deliveryRecords.js";
import { namedSecretNotFound } from "@heraldjs/core/internal/model/namedSecretRecords.js";
import type { SchemeName } from "@heraldjs/webhooks/internal/signing/registry.js";
import { generateSecret } from "@heraldjs/webhooks/internal/signing/sign.js";
import type { Command } from "commander";
import { checkSecret } from "../../wire/endpoint.js";
import { namedSecretToWire } from "../../wire/namedSecret.js";
import { formatTable, shortTime } from "../format.js";
import type { CliIo } from "../io.js";
import { DB_ENV_HELP, printJson, type StoreFlags, withStore } from "../openStore.js";
import { parseSecondsFlag, parseSingleLine, SECRET_ENV, schemeOption } from "../options.js";
import { storeCommand } from "../storeCommand.js";

interface TenantFlags extends StoreFlags {
  tenant?: string;
}

interface CreateFlags extends TenantFlags {
  scheme: SchemeName;
  secret?: string;
}

interface RotateFlags extends TenantFlags {
  secret?: string;
  overlap?: number;
}

/** --secret, else the first line of HERALD_SECRET, else undefined (generate one). */
function givenSecret(flag: string | undefined, io: CliIo): string | undefined {
  if (flag !== undefined) return flag;
  const line = (io.env[SECRET_ENV] ?? "").split(/\r?\n/).find((l) => l.trim() !== "");
  return line;
}

const check = (record: Pick<NamedSecretRecord, "scheme" | "schemeOptions">, secret: string) =>
  checkSecret(
    schemeSpecFor(record),
    record.scheme,
    secret,
    "--secret",
    "sign",
    "cli.invalid_argument",
  );

/** The value once when generated (stdout), else a one-line confirmation; or JSON. */
function report(
  io: CliIo,
  flags: StoreFlags,
  record: NamedSecretRecord,
  done: string,
  generated: string | undefined,
): number {
  if (flags.json === true) {
    printJson(io, {
      ...namedSecretToWire(record),
      ...(generated === undefined ? {} : { secret: generated }),
    });
    return 0;
  }
  if (generated === undefined) {
    io.stdout.write(`${done} secret ${record.name} (tenant ${record.tenant}, ${record.scheme})\n`);
    return 0;
  }
  io.stdout.write(`secret: ${generated}\n`);
  io.stderr.write(
    `${done[0]?.toUpperCase()}${done.slice(1)} secret ${record.name} (tenant ${record.tenant}, ${record.scheme}). ` +
      "Give this value to the receiver now: no herald command shows it again.\n",
  );
  return 0;
}

async function runList(flags: TenantFlags, io: CliIo): Promise<number> {
  return withStore(flags, io, async (store) => {
    const secrets = await store.listNamedSecrets(
      flags.tenant === undefined ? {} : { tenant: flags.tenant },
    );
    if (flags.json === true) printJson(io, { data: secrets.map(namedSecretToWire) });
    else if (secrets.length === 0) io.stdout.write("no secrets\n");
    else {
      io.stdout.write(
        formatTable(
          ["NAME", "TENANT", "SCHEME", "VERSIONS", "UPDATED"],
          secrets.map((s) => [
            s.name,
            s.tenant,
            s.scheme,
            String(s.secrets.length),
            shortTime(s.updatedAt),
          ]),
        ),
      );
    }
    return 0;
  });
}

async function runCreate(name: string, flags: CreateFlags, io: CliIo): Promise<number> {
  const given = givenSecret(flags.secret, io);
  // The API's rule: a value the scheme cannot sign with is refused before anything is stored.
  if (given !== undefined) check({ scheme: flags.scheme, schemeOptions: null }, given);
  const secret = given ?? generateSecret(flags.scheme);
  return withStore(flags, io, async (store) => {
    const record = await store.createNamedSecret({
      name,
      scheme: flags.scheme,
      secrets: [{ secret }],
      ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
    });
    return report(io, flags, record, "created", given === undefined ? secret : undefined);
  });
}

async function runRotate(name: string, flags: RotateFlags, io: CliIo): Promise<number> {
  const given = givenSecret(flags.secret, io);
  const tenant = flags.tenant ?? DEFAULT_TENANT;
  return withStore(flags, io, async (store) => {
    if (given !== undefined) {
      const existing = await store.getNamedSecret(tenant, name);
      if (existing === undefined) throw namedSecretNotFound(tenant, name);
      check(existing, given);
    }
    const { secret, record } = await rotateNamedSecret(store, tenant, name, {
      clock: io.clock,
      ...(given === undefined ? {} : { secret: given }),
      ...(flags.overlap === undefined ? {} : { overlapMs: flags.overlap * 1000 }),
    });
    return report(io, flags, record, "rotated", given === undefined ? secret : undefined);
  });
}

async function runDelete(name: string, flags: TenantFlags, io: CliIo): Promise<number> {
  const tenant = flags.tenant ?? DEFAULT_TENANT;
  return withStore(flags, io, async (store) => {
    if (!(await store.deleteNamedSecret(tenant, name))) throw namedSecretNotFound(tenant, name);
    if (flags.json === true) printJson(io, { deleted: { tenant, name } });
    else io.stdout.write(`deleted secret ${name} (tenant ${tenant})\n`);
    return 0;
  });
}

const VALUE_HELP = `The value is --secret, else the first line of $${SECRET_ENV} (keeps it out of shell
history), else a new one generated for the scheme: only a generated value is printed, once.`;

const LIST_HELP = `
By tenant, then name. VERSIONS counts the values that sign (several during a rotation); no
command prints a stored value. --json prints {"data":[…]} with the API's shape.

Exit status: 0 listed, 1 the store could not be reached, 2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald secret list
  NAME     TENANT   SCHEME    VERSIONS  UPDATED
  partner  default  standard  1         2025-03-01T10:00:00Z
`;

const CREATE_HELP = `
A named secret signs ad-hoc dispatches (POST /v1/messages with "url" and "secret_name", or
dispatch({ url, secretName }) in the library) with its scheme. ${VALUE_HELP}

Exit status: 0 created, 1 the store refused it (secret.already_exists, secret.invalid) or could
not be reached, 2 usage error (a value the scheme cannot sign with, an unknown --scheme).

Environment:
  ${SECRET_ENV}   the value, when no --secret is given
${DB_ENV_HELP}
Examples:
  $ herald secret create partner
  secret: whsec_MfKQ9r8GKYqrTFQf1cQhiNG2Y6sRp6TZb3iHvK3nU/Y=
  $ HERALD_SECRET="$PARTNER_SECRET" herald secret create partner --tenant acme
  created secret partner (tenant acme, standard)
`;

const ROTATE_HELP = `
The new value signs from now on, also the retries of deliveries already queued; the previous
ones keep signing for --overlap seconds (default ${DEFAULT_SECRET_OVERLAP_MS / 1000}), so the receiver can switch over.
${VALUE_HELP}

Exit status: 0 rotated, 1 no such secret (secret.not_found) or the store could not be reached,
2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald secret rotate partner --overlap 3600
  secret: whsec_…
`;

const DELETE_HELP = `
Deliveries still queued for the secret are kept: their attempts fail with secret.not_found
and are retried by their policy, so creating a secret of the same name before their last
attempt lets them through.

Exit status: 0 deleted, 1 no such secret (secret.not_found) or the store could not be reached,
2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald secret delete partner --tenant acme
  deleted secret partner (tenant acme)
`;

const tenantOption = (command: Command, what: string) =>
  command.option("--tenant <tenant>", what, parseSingleLine);

/** Adds list, create, rotate and delete to the `secret` command. */
export function registerNamedSecrets(secret: Command, io: CliIo): void {
  const list = secret
    .command("list")
    .summary("list named secrets (never their values)")
    .description("List the named secrets that sign ad-hoc dispatches.");
  tenantOption(list, "only this tenant's");
  storeCommand(list, io, { json: 'print {"data":[…]}', help: LIST_HELP }, runList);

  const create = secret
    .command("create")
    .summary("create a named secret")
    .description("Create a named secret for ad-hoc dispatches.")
    .argument("<name>", "unique per tenant: the secret_name of POST /v1/messages", parseSingleLine)
    .addOption(schemeOption("signing scheme").default(DEFAULT_ENDPOINT_SCHEME))
    .option("--secret <value>", `the value (default $${SECRET_ENV}, else generated)`);
  tenantOption(create, `owner of the secret (default ${DEFAULT_TENANT})`);
  storeCommand(
    create,
    io,
    { json: "print the secret as JSON (with the value only when generated)", help: CREATE_HELP },
    runCreate,
  );

  const rotate = secret
    .command("rotate")
    .summary("give a named secret a new value")
    .description("Rotate a named secret: the new value signs at once, the old ones for a while.")
    .argument("<name>", "the secret's name", parseSingleLine)
    .option("--secret <value>", `the new value (default $${SECRET_ENV}, else generated)`)
    .option("--overlap <seconds>", "how long the previous values keep signing", parseSecondsFlag);
  tenantOption(rotate, `the secret's tenant (default ${DEFAULT_TENANT})`);
  storeCommand(
    rotate,
    io,
    { json: "print the secret as JSON (with the value only when generated)", help: ROTATE_HELP },
    runRotate,
  );

  const remove = secret
    .command("delete")
    .summary("delete a named secret")
    .description("Delete a named secret.")
    .argument("<name>", "the secret's name", parseSingleLine);
  tenantOption(remove, `the secret's tenant (default ${DEFAULT_TENANT})`);
  storeCommand(remove, io, { json: 'print {"deleted":{…}}', help: DELETE_HELP }, runDelete);
}
