// `herald forward`: the outbox forwarder as a long-running command. It relays the events stored
// through `publish` (the transactional outbox) from the configured event store — the service's
// SQLite/PostgreSQL database, or DynamoDB (herald.yaml `event_store:`) — to a bus: EventBridge
// (`--to eventbridge --event-bus …`) or NATS JetStream (`--to nats`, herald.yaml's `nats:`),
// at least once, in commit order, checkpointed under --name so a restart (or a crash) resumes.

import type { BusPublisher } from "@heraldjs/core/internal/bus/port.js";
import { assertSubjectPrefix } from "@heraldjs/core/internal/bus/subject.js";
import { createForwarder, type Forwarder } from "@heraldjs/core/internal/events/forwarder.js";
import type { CheckpointStore, EventStore } from "@heraldjs/core/internal/store/ports.js";
import { coerceError, HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, InvalidArgumentError, Option } from "commander";
import { pino } from "pino";
import { NATS_STREAM_PATTERN } from "../../config/transportSettings.js";
import type { HeraldConfig } from "../../config/types.js";
import { backendFor, type OpenedDatabase } from "../../store/backends.js";
import { setAction } from "../command.js";
import type { CliIo } from "../io.js";
import {
  addNatsConnectionOptions,
  loadNatsConnection,
  NATS_CONNECTION_ENV_HELP,
  type NatsConnectionFlags,
} from "../natsFlags.js";
import { addDatabaseOptions } from "../openStore.js";
import { untilSignal } from "../untilSignal.js";
import { resolveDatabaseFlag } from "./migrate.js";

interface ForwardFlags extends NatsConnectionFlags {
  to: "eventbridge" | "nats";
  stream: string;
  subjectPrefix: string;
  eventBus?: string;
  source?: string;
  name: string;
  batchSize: number;
  pollMs: number;
  config?: string;
  db?: string;
  schema?: string;
}

function integerIn(min: number, max: number, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d{1,9}$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected ${what}, ${min}–${max}.`);
    }
    return n;
  };
}

function streamName(value: string): string {
  if (!NATS_STREAM_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      "Expected a JetStream name (no spaces, '.', '*', '>', '/' or '\\').",
    );
  }
  return value;
}

function checkpointName(value: string): string {
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(value)) {
    throw new InvalidArgumentError("Expected 1–200 of A-Z a-z 0-9 _ . -");
  }
  return value;
}

interface Opened {
  store: EventStore & CheckpointStore;
  where: Record<string, string>;
  close(): Promise<void>;
}

/** The AWS client options of herald.yaml's `aws:` section (credentials: the SDK's chain). */
function awsOptions(config: HeraldConfig): { region?: string; endpoint?: string } {
  return {
    ...(config.aws.region === null ? {} : { region: config.aws.region }),
    ...(config.aws.endpoint === null ? {} : { endpoint: config.aws.endpoint }),
  };
}

async function openEventStore(
  flags: ForwardFlags,
  config: HeraldConfig,
  io: CliIo,
): Promise<Opened> {
  const eventStore = config.eventStore;
  if (eventStore.backend === "dynamodb") {
    const { createDynamoEventStore } = await import(
      "@heraldjs/aws/internal/store/dynamodb/eventStore.js"
    );
    const store = createDynamoEventStore({
      aws: awsOptions(config),
      table: eventStore.eventsTable,
      clock: io.clock,
    });
    return {
      store,
      where: { event_store: "dynamodb", table: eventStore.eventsTable },
      close: () => store.close(),
    };
  }
  const target = resolveDatabaseFlag(
    { ...flags, db: flags.db ?? config.database ?? undefined },
    io.env,
  );
  const backend = backendFor(target.dialect);
  let database: OpenedDatabase | undefined;
  try {
    database = await backend.open(target, { role: "cli" });
    await backend.migrate(database);
    const store = await backend.eventStore(database, { clock: io.clock });
    const opened = database;
    return {
      store,
      where: { event_store: target.dialect },
      async close() {
        await store.close();
        await opened.close();
      },
    };
  } catch (error) {
    await database?.close().catch(() => {});
    throw error;
  }
}

async function openPublisher(
  flags: ForwardFlags,
  config: HeraldConfig,
  io: CliIo,
): Promise<BusPublisher> {
  if (flags.to === "eventbridge") {
    if (flags.eventBus === undefined) {
      throw new HeraldError("cli.invalid_argument", "--to eventbridge needs --event-bus <name>");
    }
    const { createEventBridgePublisher } = await import(
      "@heraldjs/aws/internal/bus/eventbridge/publisher.js"
    );
    return createEventBridgePublisher({
      aws: awsOptions(config),
      eventBusName: flags.eventBus,
      ...(flags.source === undefined ? {} : { source: flags.source }),
    });
  }
  const { connection } = await loadNatsConnection(flags, io, { name: "herald-forward" });
  const { createNatsPublisher } = await import("@heraldjs/nats/internal/bus/nats/publisher.js");
  // The events' own stream (created when missing), not the webhooks stream of `nats:`.
  return createNatsPublisher({
    ...connection,
    stream: flags.stream,
    subjects: [`${flags.subjectPrefix}.>`],
  });
}

async function runForward(flags: ForwardFlags, io: CliIo): Promise<number> {
  const { loadConfig } = await import("../../config/load.js");
  const config = await loadConfig({
    ...(flags.config === undefined ? {} : { path: flags.config }),
    env: io.env,
  });
  if (flags.to === "eventbridge" && flags.eventBus === undefined) {
    throw new HeraldError("cli.invalid_argument", "--to eventbridge needs --event-bus <name>");
  }
  if (flags.to === "nats") assertSubjectPrefix(flags.subjectPrefix);
  const logger = pino(
    { level: config.logLevel, base: { service: "herald", command: "forward" } },
    { write: (line: string) => io.stdout.write(line) },
  );
  let opened: Opened;
  let publisher: BusPublisher;
  try {
    opened = await openEventStore(flags, config, io);
  } catch (error) {
    const herald = coerceError(error);
    if (herald.code.startsWith("cli.")) throw herald;
    io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
    return 1;
  }
  try {
    publisher = await openPublisher(flags, config, io);
  } catch (error) {
    await opened.close().catch(() => {});
    const herald = coerceError(error);
    if (herald.code.startsWith("cli.")) throw herald;
    io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
    return 1;
  }
  let forwarder: Forwarder | undefined;
  try {
    forwarder = createForwarder({
      store: opened.store,
      publisher,
      name: flags.name,
      batchSize: flags.batchSize,
      pollIntervalMs: flags.pollMs,
      subjectPrefix: flags.subjectPrefix,
      clock: io.clock,
      onError: (error) =>
        logger.warn({ code: error.code, error: error.message }, "forward run failed; retrying"),
    });
    forwarder.start();
    logger.info(
      { ...opened.where, to: flags.to, name: flags.name, batch_size: flags.batchSize },
      "forwarder running",
    );
    io.stderr.write(
      `Herald forwarder running (${flags.to}, checkpoint ${flags.name}). Ctrl-C stops.\n`,
    );
    const signal = await untilSignal();
    logger.info({ signal }, "stopping");
    await forwarder.stop();
    const { published, duplicates, checkpoint } = forwarder.status();
    logger.info({ published, duplicates, checkpoint }, "forwarder stopped");
    return 0;
  } finally {
    await forwarder?.stop().catch(() => {});
    await publisher.close().catch(() => {});
    await opened.close().catch(() => {});
  }
}

const HELP = `
Relays the events stored through publish() — the transactional outbox — to a bus, at least once
and in commit order, from the checkpoint saved under --name (a restart, or a crash, re-sends at
most the batch in flight; consumers dedupe on the event id: JetStream by Nats-Msg-Id,
EventBridge consumers with an inbox on detail.id). docs/aws.md, docs/events.md.

Event store (herald.yaml event_store:, HERALD_EVENT_STORE):
  database   the --db SQLite file or PostgreSQL database (default)
  dynamodb   the DynamoDB events table (event_store.dynamodb.events_table), AWS settings from
             herald.yaml's aws: section and the SDK's standard credential chain

NATS (--to nats): the connection of herald.yaml's nats: section and HERALD_NATS_*, or --servers;
each event's Nats-Msg-Id is its id, so JetStream drops a re-sent event within its duplicate
window.
${NATS_CONNECTION_ENV_HELP}

Exit status: 0 stopped by SIGTERM/SIGINT (the batch in flight is published and checkpointed
first), 1 could not start (the database or NATS could not be opened), 2 usage or configuration
error. DynamoDB and EventBridge are first called by the first run: while they cannot be
reached, each failed run is logged (a warn line with its code) and retried with a growing wait.

Examples:
  $ herald forward --to eventbridge --event-bus orders --source com.example.orders
  $ HERALD_EVENT_STORE=dynamodb herald forward --to eventbridge --event-bus default
  $ herald forward --to nats --stream ORDERS --subject-prefix orders --db postgres://herald@db/herald
`;

export function registerForward(program: Command, io: CliIo): Command {
  const command = program
    .command("forward")
    .summary("relay the outbox (events stored through publish) to EventBridge or NATS")
    .description(
      "Relay the transactional outbox of the configured event store to EventBridge or NATS JetStream.",
    )
    .addOption(
      new Option("--to <bus>", "where to publish")
        .choices(["eventbridge", "nats"])
        .makeOptionMandatory(),
    )
    .option("--event-bus <name>", "the EventBridge bus (--to eventbridge)")
    .option("--source <source>", "the EventBridge Source of each entry (default herald)")
    .option(
      "--name <name>",
      "checkpoint name: one forwarder per name and bus",
      checkpointName,
      "forwarder",
    )
    .option(
      "--batch-size <n>",
      "events read and checkpointed at a time",
      integerIn(1, 1000, "a count"),
      100,
    )
    .option(
      "--poll-ms <ms>",
      "wait between polls when the outbox is drained",
      integerIn(10, 60_000, "milliseconds"),
      500,
    )
    .option(
      "--stream <name>",
      "--to nats: the JetStream stream, created when missing",
      streamName,
      "HERALD_EVENTS",
    )
    .option(
      "--subject-prefix <prefix>",
      "--to nats: subjects <prefix>.<source>.<aggregate type>.<event type>",
      "herald",
    );
  addNatsConnectionOptions(command);
  addDatabaseOptions(command);
  command.addHelpText("after", HELP);
  return setAction<[], ForwardFlags>(command, io, runForward);
}
