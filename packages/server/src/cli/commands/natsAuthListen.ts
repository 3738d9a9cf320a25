// `herald nats auth-listen`: the auth callout service, long-running. It answers nats-server's
// authorization requests from the NATS tokens in Herald's database, logs every decision as a JSON
// line (refusals with their reason code, never a token) and counts them on /metrics.
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { NatsTokenStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import {
  type NatsAuthDecision,
  startNatsAuthCallout,
} from "@heraldjs/nats/internal/platform/authCallout.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { Counter, Histogram, Registry } from "prom-client";
import { setAction } from "../command.js";
import type { CliIo } from "../io.js";
import {
  addNatsConnectionOptions,
  loadNatsConnection,
  type NatsConnectionFlags,
} from "../natsFlags.js";
import { addDatabaseOptions, DB_ENV_HELP, type StoreFlags, withStore } from "../openStore.js";
import { untilSignal } from "../untilSignal.js";

interface AuthListenFlags extends StoreFlags, NatsConnectionFlags {
  account?: string;
  userJwtTtl?: number;
  metrics?: { host: string; port: number };
  seedsFile?: string;
}

function parseDuration(value: string): number {
  const match = /^(\d{1,9})(s|m|h|d)?$/.exec(value.trim());
  if (match === null || Number(match[1]) < 1) {
    throw new InvalidArgumentError("Expected a duration: whole seconds, or e.g. 15m, 1h, 1d.");
  }
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? "s") as "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[?([^\]\s]*)\]?:)?(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (match === null || port > 65535) {
    throw new InvalidArgumentError("Expected [host:]port, e.g. 127.0.0.1:9465.");
  }
  return { host: match[1] || "127.0.0.1", port };
}

/** KEY=VALUE lines (comments and blanks skipped), as `herald nats keygen --out` writes them. */
async function readSeedsFile(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new HeraldError(
      "cli.invalid_argument",
      `--seeds-file ${path} cannot be read (${reason})`,
    );
  }
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(\S*)\s*$/.exec(line);
    if (match !== null) values[match[1]!] = match[2]!;
  }
  return values;
}

function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (value === undefined || value === "") {
    throw new HeraldError(
      "cli.missing_argument",
      `${name} is not set: run herald nats keygen, then export it or pass --seeds-file`,
    );
  }
  return value;
}

interface AuthMetrics {
  decision(decision: NatsAuthDecision): void;
  listen(host: string, port: number): Promise<Server>;
}

function authMetrics(): AuthMetrics {
  const registry = new Registry();
  const decisions = new Counter({
    name: "herald_nats_auth_decisions_total",
    help: "Authorization requests answered by the auth callout, by result and refusal reason.",
    labelNames: ["result", "reason"] as const,
    registers: [registry],
  });
  const seconds = new Histogram({
    name: "herald_nats_auth_duration_seconds",
    help: "Time from an authorization request to its answer.",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    decision(d) {
      decisions.inc({
        result: d.allowed ? "allowed" : "refused",
        reason: d.allowed ? "" : d.reason,
      });
      seconds.observe(d.durationMs / 1000);
    },
    listen(host, port) {
      const server = createServer((req, res) => {
        if (req.method === "GET" && req.url === "/metrics") {
          registry.metrics().then(
            (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
            () => res.writeHead(500).end(),
          );
        } else if (req.method === "GET" && req.url === "/health") {
          res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
        } else {
          res
            .writeHead(404, { "content-type": "application/json" })
            .end(
              '{"error":{"code":"route.not_found","message":"Only GET /metrics and GET /health are served here"}}',
            );
        }
      });
      return new Promise((resolve, reject) => {
        server.once("error", (error: NodeJS.ErrnoException) =>
          reject(
            new HeraldError(
              "cli.invalid_argument",
              `--metrics ${host}:${port}: ${error.code ?? error.message}`,
            ),
          ),
        );
        server.listen(port, host, () => resolve(server));
      });
    },
  };
}

async function runAuthListen(flags: AuthListenFlags, io: CliIo): Promise<number> {
  const values: Record<string, string | undefined> = {
    ...(flags.seedsFile === undefined ? {} : await readSeedsFile(flags.seedsFile)),
  };
  for (const name of [
    "HERALD_NATS_ISSUER_SEED",
    "HERALD_NATS_AUTH_USER_SEED",
    "HERALD_NATS_XKEY_SEED",
    "HERALD_NATS_ACCOUNT",
  ]) {
    if (io.env[name]) values[name] = io.env[name];
  }
  const issuerSeed = required(values, "HERALD_NATS_ISSUER_SEED");
  const authUserSeed = required(values, "HERALD_NATS_AUTH_USER_SEED");
  const xkeySeed = values.HERALD_NATS_XKEY_SEED || undefined;
  const account = flags.account ?? values.HERALD_NATS_ACCOUNT ?? "APP";
  const { connection } = await loadNatsConnection(flags, io, {
    name: "herald-auth-callout",
    credentials: false,
  });
  const logger = pino(
    { base: { service: "herald-nats-auth" } },
    { write: (line: string) => io.stdout.write(line) },
  );
  const metrics = authMetrics();
  return withStore(flags, io, async (store: NatsTokenStore) => {
    const metricsServer =
      flags.metrics === undefined
        ? undefined
        : await metrics.listen(flags.metrics.host, flags.metrics.port);
    try {
      const callout = await startNatsAuthCallout({
        ...connection,
        issuerSeed,
        authUserSeed,
        ...(xkeySeed === undefined ? {} : { xkeySeed }),
        account,
        tokens: store,
        ...(flags.userJwtTtl === undefined ? {} : { userJwtTtlS: flags.userJwtTtl }),
        clock: io.clock,
        onDecision(decision) {
          metrics.decision(decision);
          if (decision.allowed) {
            logger.info(
              {
                identity: decision.identity,
                subject_id: decision.subjectId,
                tenant: decision.tenant,
                token_id: decision.tokenId,
                client_host: decision.clientHost,
                duration_ms: decision.durationMs,
              },
              "nats connection allowed",
            );
          } else {
            logger.warn(
              {
                reason: decision.reason,
                token_id: decision.tokenId,
                client_host: decision.clientHost,
                detail: decision.detail,
                duration_ms: decision.durationMs,
              },
              "nats connection refused",
            );
          }
        },
      });
      const address = metricsServer?.address();
      io.stderr.write(
        `Herald auth callout answering on ${[connection.servers].flat().join(",")} (account ${account}${xkeySeed === undefined ? ", unencrypted" : ", xkey"}${typeof address === "object" && address !== null ? `, metrics on http://${address.address}:${address.port}/metrics` : ""}). Ctrl-C stops.\n`,
      );
      const ended = await Promise.race([
        untilSignal().then((signal) => ({ signal })),
        callout.closed.then(() => ({ signal: undefined })),
      ]);
      if (ended.signal === undefined) {
        io.stderr.write("error: bus.unavailable: the NATS connection closed for good\n");
        return 1;
      }
      logger.info({ signal: ended.signal }, "stopping");
      await callout.stop();
      return 0;
    } finally {
      metricsServer?.close();
    }
  });
}

const HELP = `
Answers nats-server's auth callout ($SYS.REQ.USER.AUTH) from the NATS tokens in the database:
a live token gets a user JWT with its identity's permissions (docs/nats.md); a wrong, expired or
revoked one is refused. Each decision is a JSON line on stdout; refusals carry a reason (missing,
malformed, unknown, expired, revoked, bad_request, store_unavailable) and are counted in
herald_nats_auth_decisions_total on --metrics. Several instances may run: they share the
requests (queue group ${"herald-auth-callout"}).

Exit status: 0 stopped by SIGTERM/SIGINT, 1 NATS or the database unreachable (or lost for
good), 2 usage error (a seed missing or malformed).

Environment:
  HERALD_NATS_ISSUER_SEED     the issuer account's seed (SA…), from herald nats keygen
  HERALD_NATS_AUTH_USER_SEED  the auth user's seed (SU…): how this service connects
  HERALD_NATS_XKEY_SEED       the xkey's seed (SX…), when nats.conf names an xkey
  HERALD_NATS_ACCOUNT         the account connections are placed in (default APP)
  HERALD_NATS_URL             the NATS server(s) when no --servers is given (else herald.yaml's
                              nats.servers, else nats://127.0.0.1:4222)
${DB_ENV_HELP.replace(/^Environment:\n/, "")}
Examples:
  $ herald nats auth-listen --seeds-file herald-nats.env --metrics 127.0.0.1:9465
`;

export function registerNatsAuthListen(nats: Command, io: CliIo): Command {
  const command = addNatsConnectionOptions(
    nats
      .command("auth-listen")
      .summary("run the auth callout service (checks tokens against the database)")
      .description("Answer nats-server's auth callout from Herald's NATS tokens."),
  )
    .option(
      "--account <name>",
      "the account connections are placed in (default $HERALD_NATS_ACCOUNT, then APP)",
    )
    .option(
      "--user-jwt-ttl <duration>",
      "lifetime of the user JWTs (e.g. 15m): live connections are re-checked when it passes",
      parseDuration,
    )
    .option("--metrics <[host:]port>", "serve /metrics and /health here", parseListen)
    .option("--seeds-file <file>", "read the seeds from this file (herald nats keygen --out)");
  addDatabaseOptions(command).addHelpText("after", HELP);
  return setAction(command, io, runAuthListen);
}
