// `herald nats keygen`: fresh keys for the NATS platform and the nats.conf block that uses them.
// The seeds go to stdout once (or to a file created 0600 with --out), never to stderr or a log.
import { writeFile } from "node:fs/promises";
import {
  generateNatsKeys,
  type NatsPlatformKeys,
  natsConfSnippet,
} from "@heraldjs/nats/internal/platform/natsKeys.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, InvalidArgumentError } from "commander";
import { setAction } from "../command.js";
import type { CliIo } from "../io.js";

interface KeygenFlags {
  account: string;
  encrypt: boolean;
  websocketPort?: number;
  out?: string;
  json?: boolean;
}

function parseAccount(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new InvalidArgumentError("Expected a NATS account name (letters, digits, '_' or '-').");
  }
  return value;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port < 1 || port > 65535) {
    throw new InvalidArgumentError("Expected a TCP port, 1–65535.");
  }
  return port;
}

/** The seeds as environment lines, as `herald nats auth-listen` reads them. */
export function seedEnvLines(keys: NatsPlatformKeys, account: string, encrypt: boolean): string {
  return [
    `HERALD_NATS_ISSUER_SEED=${keys.issuer.seed}`,
    `HERALD_NATS_AUTH_USER_SEED=${keys.authUser.seed}`,
    ...(encrypt ? [`HERALD_NATS_XKEY_SEED=${keys.xkey.seed}`] : []),
    `HERALD_NATS_ACCOUNT=${account}`,
    `# operator (for operator-mode set-ups with nsc; the block above does not use it): ${keys.operator.publicKey}`,
    `HERALD_NATS_OPERATOR_SEED=${keys.operator.seed}`,
  ].join("\n");
}

async function runKeygen(flags: KeygenFlags, io: CliIo): Promise<number> {
  const keys = await generateNatsKeys();
  const snippet = natsConfSnippet(keys, {
    account: flags.account,
    encrypt: flags.encrypt,
    ...(flags.websocketPort === undefined ? {} : { websocketPort: flags.websocketPort }),
  });
  const seeds = `${seedEnvLines(keys, flags.account, flags.encrypt)}\n`;
  if (flags.out !== undefined) {
    try {
      await writeFile(flags.out, seeds, { mode: 0o600, flag: "wx" });
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? "unwritable";
      throw new HeraldError(
        "cli.invalid_argument",
        `--out ${flags.out} cannot be created (${reason}); it is never overwritten`,
      );
    }
  }
  if (flags.json === true) {
    const publicOnly = Object.fromEntries(
      Object.entries(keys).map(([name, key]) => [name, { public_key: key.publicKey }]),
    );
    const withSeeds = Object.fromEntries(
      Object.entries(keys).map(([name, key]) => [
        name,
        { public_key: key.publicKey, seed: key.seed },
      ]),
    );
    io.stdout.write(
      `${JSON.stringify({ keys: flags.out === undefined ? withSeeds : publicOnly, account: flags.account, nats_conf: snippet })}\n`,
    );
  } else {
    io.stdout.write(`# nats.conf — Herald's auth callout (config mode)\n${snippet}`);
    if (flags.out === undefined) {
      io.stdout.write(
        `\n# Secrets for herald nats auth-listen: keep them like passwords\n${seeds}`,
      );
    }
  }
  io.stderr.write(
    flags.out === undefined
      ? "Keys generated. The seeds are printed once: store them now (or use --out next time).\n"
      : `Keys generated; the seeds are in ${flags.out} (mode 0600).\n`,
  );
  return 0;
}

const HELP = `
Prints the nats.conf block (accounts AUTH, ${"<account>"} and SYS; the callout with its issuer,
auth user and xkey) and the seeds herald nats auth-listen needs, as environment lines:
HERALD_NATS_ISSUER_SEED, HERALD_NATS_AUTH_USER_SEED, HERALD_NATS_XKEY_SEED, HERALD_NATS_ACCOUNT.
An operator key is generated too, for operator-mode set-ups; the block does not use it.

Exit status: 0 generated, 2 usage error (or --out exists).

Examples:
  $ herald nats keygen --out herald-nats.env >> nats.conf
  $ herald nats keygen --websocket-port 8080
`;

export function registerNatsKeygen(nats: Command, io: CliIo): Command {
  const command = nats
    .command("keygen")
    .summary("generate the platform's NKeys and the nats.conf block")
    .description("Generate the issuer account key, auth user key, xkey and operator key.")
    .option(
      "--account <name>",
      "the account agents and browsers are placed in",
      parseAccount,
      "APP",
    )
    .option("--no-encrypt", "leave the xkey out: callout requests and answers unencrypted")
    .option("--websocket-port <port>", "add a websocket block (browsers) on this port", parsePort)
    .option("--out <file>", "write the seeds to this new file (0600) instead of stdout")
    .option("--json", "print the keys and the block as JSON")
    .addHelpText("after", HELP);
  return setAction(command, io, runKeygen);
}
