// `herald serve` (ingestion + management API + delivery worker in one process) and
// `herald worker` (the delivery worker only, for more sending capacity on PostgreSQL).

import { DEFAULT_RETRY_POLICY } from "@heraldjs/core/internal/core/retryPolicy.js";
import { readPackageVersion } from "@heraldjs/core/internal/core/version.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { coerceError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { CONFIG_DEFAULTS } from "../../config/fileSchema.js";
import type { ServiceTransports } from "../../config/serviceTransports.js";
import type { HeraldConfig } from "../../config/types.js";
import {
  DEFAULT_SQLITE_PATH,
  describeDatabase,
  parseDatabaseUrl,
} from "../../store/openDatabase.js";
import { runAction } from "../command.js";
import type { CliIo } from "../io.js";
import { untilSignal } from "../untilSignal.js";

interface ServiceFlags {
  db?: string;
  schema?: string;
  config?: string;
  port?: number;
  host?: string;
  worker?: boolean;
  concurrency?: number;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value.trim()) || port > 65_535) {
    throw new InvalidArgumentError("Expected a port number 0–65535 (0 picks a free one).");
  }
  return port;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d{1,6}$/.test(value.trim()) || n < 1) {
    throw new InvalidArgumentError("Expected a whole number ≥ 1.");
  }
  return n;
}

async function runService(
  flags: ServiceFlags,
  io: CliIo,
  mode: { http: boolean },
): Promise<number> {
  // Loaded here, not at the top: every other command would pay for the server's imports (and
  // `herald worker` loads only the worker's, see ../workerService.ts).
  const [{ loadConfig }, { applyConfig }] = await Promise.all([
    import("../../config/load.js"),
    import("../../config/apply.js"),
  ]);
  // A bad config or flag is thrown: runAction reports it as a usage error (exit 2).
  const { withSpec } = await import("../../spec/specConfig.js");
  const config: HeraldConfig = await withSpec(
    await loadConfig({
      ...(flags.config === undefined ? {} : { path: flags.config }),
      env: io.env,
    }),
    io.env,
  );
  const database = parseDatabaseUrl(flags.db ?? config.database ?? DEFAULT_SQLITE_PATH, {
    schema: flags.schema,
  });
  const logger = pino(
    { level: config.logLevel, base: { service: "herald" } },
    { write: (line: string) => io.stdout.write(line) },
  );
  const worker = mode.http ? flags.worker !== false && config.worker.enabled : true;
  const seed = async (store: DeliveryStore) => {
    const applied = await applyConfig(store, config, { clock: io.clock });
    if (config.file !== null) logger.info({ file: config.file, applied }, "config applied");
  };
  let transports: ServiceTransports;
  try {
    // NATS connected (its stream ensured) and every endpoint of the file checked before anything
    // starts; a config problem found here is a usage error (exit 2) like any other.
    const { buildServiceTransports } = await import("../../config/serviceTransports.js");
    transports = await buildServiceTransports(config, {
      ssrfAllow: config.ssrfAllow,
      clock: io.clock,
    });
    const { nats, functions } = transports.availability;
    logger.info(
      { transports: Object.keys(transports.transports), functions: [...functions], nats },
      "transports ready",
    );
  } catch (error) {
    if (isHeraldError(error, "config.invalid")) throw error;
    const herald = coerceError(error);
    io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
    return 1;
  }
  try {
    if (!mode.http) {
      const { startWorkerService } = await import("../workerService.js");
      const service = await startWorkerService({
        database,
        defaultRetry: config.retry ?? DEFAULT_RETRY_POLICY,
        transports,
        concurrency: flags.concurrency ?? config.worker.concurrency,
        leaseMs: config.worker.leaseMs,
        pollIntervalMs: config.worker.pollIntervalMs,
        requestDeadlineMs: config.server.requestDeadlineMs,
        logger,
        clock: io.clock,
        seed,
      });
      io.stderr.write(`Herald worker running (${describeDatabase(database)}). Ctrl-C stops.\n`);
      const signal = await untilSignal();
      logger.info({ signal }, "stopping");
      await service.stop();
      return 0;
    }
    const { startService } = await import("../../server/service.js");
    const service = await startService({
      database,
      http: true,
      worker,
      host: flags.host ?? config.server.host,
      port: flags.port ?? config.server.port,
      apiKey: config.server.apiKey,
      bodyLimitBytes: config.server.bodyLimitBytes,
      maxInFlightBodyBytes: config.server.maxInFlightBodyBytes,
      bodyTimeoutMs: config.server.bodyTimeoutMs,
      defaultRetry: config.retry,
      ssrfAllow: config.ssrfAllow,
      transports,
      workerConcurrency: flags.concurrency ?? config.worker.concurrency,
      leaseMs: config.worker.leaseMs,
      pollIntervalMs: config.worker.pollIntervalMs,
      ingestMaxBatch: config.ingest.maxBatch,
      ingestMaxWaitMs: config.ingest.maxWaitMs,
      allowUnsigned: config.ingest.allowUnsigned,
      closedCatalog: config.catalog.closed,
      requestDeadlineMs: config.server.requestDeadlineMs,
      streams: config.streams,
      logger,
      clock: io.clock,
      version: readPackageVersion(),
      seed,
    });
    io.stderr.write(
      `Herald listening on ${service.url} (${describeDatabase(database)}${worker ? ", delivery worker on" : ""})${config.server.apiKey === null ? "; management API without a key, this machine only" : ""}. Ctrl-C stops.\n`,
    );
    const signal = await untilSignal();
    logger.info({ signal }, "stopping");
    await service.stop();
    return 0;
  } catch (error) {
    const herald = coerceError(error);
    io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
    return 1;
  }
}

const COMMON_HELP = `
Exit status: 0 stopped by SIGTERM/SIGINT (graceful: requests in progress are answered,
sends in progress finish, unstarted deliveries are given back), 1 could not start (database
unreachable, port in use…), 2 usage or configuration error.

Environment (flags win, then the environment, then herald.yaml):
  HERALD_DB          SQLite path or postgres:// URL (default ${DEFAULT_SQLITE_PATH})
  HERALD_CONFIG      the config file (default ./herald.yaml when it exists)
  HERALD_PORT        listening port (default ${CONFIG_DEFAULTS.port})
  HERALD_HOST        listening address (default ${CONFIG_DEFAULTS.host})
  HERALD_API_KEY     Bearer key of the /v1 management API (required off loopback)
  HERALD_SSRF_ALLOW  CIDRs deliveries may reach despite the SSRF guard, e.g. 127.0.0.0/8
  HERALD_LOG_LEVEL   trace, debug, info (default), warn, error, fatal, silent
  HERALD_NATS_URL    NATS servers of transport: nats endpoints (with HERALD_NATS_CREDS,
                     HERALD_NATS_USER, HERALD_NATS_PASSWORD, HERALD_NATS_TOKEN, HERALD_NATS_STREAM)
  HERALD_STREAM_HEARTBEAT_MS, HERALD_STREAM_MAX_BUFFER_BYTES, HERALD_STREAM_POLL_MS,
  HERALD_STREAM_RETRY_MS   live streams (/v1/stream; streams: in herald.yaml): docs/streams.md
`;

function databaseOptions(command: Command): Command {
  return command
    .option(
      "--db <path|url>",
      `SQLite file path or postgres:// URL (default $HERALD_DB, then ${DEFAULT_SQLITE_PATH})`,
    )
    .option("--schema <name>", "PostgreSQL schema (default public, or ?schema= in the URL)")
    .option(
      "--config <file>",
      "herald.yaml to load (default $HERALD_CONFIG, then ./herald.yaml if present)",
    )
    .option(
      "--concurrency <n>",
      `deliveries sent at once by the worker (default ${CONFIG_DEFAULTS.concurrency})`,
      parseCount,
    );
}

export function registerServe(program: Command, io: CliIo): void {
  databaseOptions(
    program
      .command("serve")
      .summary("run the service: webhooks in, API, delivery")
      .description(
        `Serve POST /webhooks/:source, the /v1 management API, /health, /ready, /metrics and /openapi.json, and deliver messages to endpoints, on SQLite (default ${DEFAULT_SQLITE_PATH}, created and migrated at start) or PostgreSQL.`,
      )
      .option(
        "--port <port>",
        `listening port (default $HERALD_PORT, then ${CONFIG_DEFAULTS.port})`,
        parsePort,
      )
      .option(
        "--host <address>",
        `listening address (default $HERALD_HOST, then ${CONFIG_DEFAULTS.host})`,
      )
      .option("--no-worker", "do not deliver in this process (run `herald worker` elsewhere)"),
  )
    .addHelpText(
      "after",
      `${COMMON_HELP}
Examples:
  $ herald serve
  $ HERALD_API_KEY=$(openssl rand -hex 32) herald serve --host 0.0.0.0 --db postgres://herald@db/herald
`,
    )
    .action((flags: ServiceFlags, self: Command) =>
      runAction(self, io, () => runService(flags, io, { http: true })),
    );

  databaseOptions(
    program
      .command("worker")
      .summary("run only the delivery worker")
      .description(
        "Claim due deliveries and send them; several workers (on several machines) can share one PostgreSQL database.",
      ),
  )
    .addHelpText(
      "after",
      `${COMMON_HELP}
Examples:
  $ herald worker --db postgres://herald@db/herald --concurrency 50
`,
    )
    .action((flags: ServiceFlags, self: Command) =>
      runAction(self, io, () => runService(flags, io, { http: false })),
    );
}
