// `herald nats listen`: the NATS listener as a long-running command. Agent events
// (agent.{kind}.{id}.evt) and messages on the --subject patterns, read from a JetStream durable
// consumer, become Herald messages in the --db database (each once, also across crashes); a
// `herald serve` on the same database delivers them. NATS connection settings come from
// herald.yaml's `nats:` section and HERALD_NATS_*, like the service's; logs are JSON lines.

import { createDispatcher } from "@heraldjs/core/internal/delivery/dispatcher.js";
import { DEFAULT_TENANT } from "@heraldjs/core/internal/model/constants.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import {
  DEFAULT_LISTEN_DURABLE,
  DEFAULT_LISTEN_STREAM,
  type NatsListener,
  type NatsListenerEvent,
  startNatsListener,
} from "@heraldjs/nats/internal/platform/natsListener.js";
import {
  AGENT_EVENT_SUBJECT,
  type AgentRef,
  isMessageType,
  type NatsSubjectRule,
} from "@heraldjs/nats/internal/platform/natsListenerMapping.js";
import { coerceError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { NATS_STREAM_PATTERN, STREAM_SUBJECT_PATTERN } from "../../config/transportSettings.js";
import { setAction } from "../command.js";
import type { CliIo } from "../io.js";
import {
  addNatsConnectionOptions,
  loadNatsConnection,
  NATS_CONNECTION_ENV_HELP,
  type NatsConnectionFlags,
} from "../natsFlags.js";
import { addDatabaseOptions, withStore } from "../openStore.js";
import { untilSignal } from "../untilSignal.js";

/** How long an agent's tenant is remembered before its tokens are looked up again. */
const TENANT_CACHE_MS = 10_000;
/** How often the counts are logged while they change. */
const STATS_INTERVAL_MS = 60_000;

interface ListenFlags extends NatsConnectionFlags {
  stream: string;
  durable: string;
  subject?: NatsSubjectRule[];
  createStream: boolean;
  ackWait?: number;
  db?: string;
  schema?: string;
}

function parseSubject(value: string, previous: NatsSubjectRule[] | undefined): NatsSubjectRule[] {
  const at = value.indexOf("=");
  const subject = at < 0 ? value : value.slice(0, at);
  const type = at < 0 ? undefined : value.slice(at + 1);
  if (!STREAM_SUBJECT_PATTERN.test(subject) || subject.length > 1024) {
    throw new InvalidArgumentError(
      "Expected a NATS subject ('*' one token, '>' the rest), optionally =<type>.",
    );
  }
  if (type !== undefined && !isMessageType(type)) {
    throw new InvalidArgumentError(
      "Expected the type after '=' to be a Herald type (dot-separated segments, no '*').",
    );
  }
  return [...(previous ?? []), type === undefined ? { subject } : { subject, type }];
}

function parseStreamName(value: string): string {
  if (!NATS_STREAM_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      "Expected a JetStream name (no spaces, '.', '*', '>', '/' or '\\').",
    );
  }
  return value;
}

function parseAckWait(value: string): number {
  const ms = Number(value);
  if (!/^\d{1,7}$/.test(value.trim()) || ms < 1000 || ms > 3_600_000) {
    throw new InvalidArgumentError("Expected milliseconds, 1000–3600000.");
  }
  return ms;
}

/**
 * The tenant of an agent: that of its newest live NATS token (`herald nats token create
 * --identity agent.<kind> --id <id>`), else `default`; remembered for a few seconds.
 */
function tenantResolver(store: DeliveryStore, io: CliIo): (agent: AgentRef) => Promise<string> {
  const cache = new Map<string, { tenant: string; until: number }>();
  return async ({ kind, id }) => {
    const now = io.clock.now();
    const key = `${kind}/${id}`;
    const hit = cache.get(key);
    if (hit !== undefined && hit.until > now) return hit.tenant;
    const tokens = await store.listNatsTokens({ identity: `agent.${kind}`, subjectId: id });
    const live = tokens.filter(
      (token) =>
        token.revokedAt === null && (token.expiresAt === null || Date.parse(token.expiresAt) > now),
    );
    const tenant = live.at(-1)?.tenant ?? DEFAULT_TENANT;
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { tenant, until: now + TENANT_CACHE_MS });
    return tenant;
  };
}

function logEvent(logger: pino.Logger, event: NatsListenerEvent): void {
  const at = { subject: event.subject, sequence: event.sequence };
  switch (event.outcome) {
    case "handled":
      logger.debug(
        {
          ...at,
          message_id: event.messageId,
          type: event.type,
          tenant: event.tenant,
          duplicate: event.duplicate,
        },
        "nats message stored",
      );
      return;
    case "unmapped":
      logger.warn(
        {
          ...at,
          reason: event.reason,
          detail: event.detail,
          message_id: event.messageId,
          tenant: event.tenant,
        },
        `nats message unmapped: ${event.reason}`,
      );
      return;
    case "retry":
      logger.warn(
        {
          ...at,
          code: event.error.code,
          error: event.error.message,
          delivery_count: event.deliveryCount,
          delay_ms: event.delayMs,
        },
        "nats message not stored, retried later",
      );
      return;
    case "dropped":
      logger.error(
        { ...at, code: event.error.code, error: event.error.message },
        "nats message refused even as nats.unmapped; terminated",
      );
      return;
  }
}

async function runListen(flags: ListenFlags, io: CliIo): Promise<number> {
  const { config, connection } = await loadNatsConnection(flags, io, { name: "herald-listen" });
  const subjects = flags.subject ?? [{ subject: AGENT_EVENT_SUBJECT }];
  const logger = pino(
    { level: config.logLevel, base: { service: "herald", command: "nats listen" } },
    { write: (line: string) => io.stdout.write(line) },
  );
  const database = { ...flags, db: flags.db ?? config.database ?? undefined };
  return withStore(database, io, async (store) => {
    const dispatcher = createDispatcher({
      store,
      clock: io.clock,
      closedCatalog: config.catalog.closed,
      ...(config.retry === null ? {} : { defaultRetry: config.retry }),
    });
    let listener: NatsListener;
    try {
      listener = await startNatsListener({
        ...connection,
        dispatcher,
        subjects,
        stream: flags.stream,
        durable: flags.durable,
        createStream: flags.createStream,
        ...(flags.ackWait === undefined ? {} : { ackWaitMs: flags.ackWait }),
        resolveTenant: tenantResolver(store, io),
        onMessage: (event) => logEvent(logger, event),
        onError: (error) =>
          logger.warn({ code: error.code, error: error.message }, "nats subscription problem"),
      });
    } catch (error) {
      const herald = coerceError(error);
      io.stderr.write(`error: ${herald.code}: ${herald.message}\n`);
      return 1;
    }
    logger.info(
      {
        stream: listener.stream,
        durable: listener.durable,
        subjects: subjects.map((rule) => rule.subject),
      },
      "nats listener ready",
    );
    io.stderr.write(
      `Herald NATS listener running (stream ${listener.stream}, durable ${listener.durable}). Ctrl-C stops.\n`,
    );
    let logged = JSON.stringify(listener.stats());
    const ticker = setInterval(() => {
      const now = JSON.stringify(listener.stats());
      if (now !== logged) logger.info(listener.stats(), "nats listener counts");
      logged = now;
    }, STATS_INTERVAL_MS);
    ticker.unref();
    try {
      const outcome = await Promise.race([
        untilSignal().then((signal) => ({ signal })),
        listener.done.then(
          () => ({ signal: undefined }),
          (error: unknown) => ({ error: coerceError(error) }),
        ),
      ]);
      if ("error" in outcome) {
        logger.error({ code: outcome.error.code, error: outcome.error.message }, "nats lost");
        io.stderr.write(`error: ${outcome.error.code}: ${outcome.error.message}\n`);
        return 1;
      }
      logger.info({ signal: outcome.signal }, "stopping");
      await listener.stop();
      logger.info(listener.stats(), "nats listener stopped");
      return 0;
    } finally {
      clearInterval(ticker);
      await listener.stop();
    }
  });
}

const HELP = `
Each message read becomes one Herald message (docs/nats.md):
  agent.<kind>.<id>.evt   the body's "type" (a JSON object's string), payload
                          {"agent":{"kind","id"},"data":<body.data or null>}; the tenant of the
                          agent's newest live NATS token (herald nats token), else default
  --subject P=<type>      every message on P has that type; payload the JSON body
  --subject P             the body's "type"; payload the JSON body (agent.*.*.evt: as above)
  anything else           a "nats.unmapped" message {subject, reason, body_base64}, logged
Idempotency key: the Nats-Msg-Id header, else nats:<stream>:<sequence>: a message redelivered
after a crash creates nothing twice. A message is acked only once stored; while the database
cannot write it is redelivered later.

Exit status: 0 stopped by SIGTERM/SIGINT (messages in hand are stored first), 1 could not start
(NATS or the database unreachable, stream missing) or NATS lost, 2 usage or configuration error.

Environment (flags win, then the environment, then herald.yaml's nats: section):
  HERALD_DB              SQLite path or postgres:// URL (default ./herald.db)
${NATS_CONNECTION_ENV_HELP}
  HERALD_LOG_LEVEL       trace, debug (one line per message stored), info (default), warn…

Examples:
  $ herald nats listen --db postgres://herald@db/herald
  $ herald nats listen --subject 'agent.*.*.evt' --subject 'orders.>=order.created'
`;

export function registerNatsListen(nats: Command, io: CliIo): Command {
  const command = addDatabaseOptions(
    addNatsConnectionOptions(
      nats
        .command("listen")
        .summary("turn agent events and NATS subjects into Herald messages")
        .description(
          "Read agent events (agent.<kind>.<id>.evt) and the --subject patterns from a JetStream durable consumer and store each as a Herald message, delivered by `herald serve` to the tenant's endpoints.",
        )
        .option(
          "--subject <pattern[=type]>",
          `a subject to read, optionally with the type of its messages; repeatable (default ${AGENT_EVENT_SUBJECT})`,
          parseSubject,
        )
        .option(
          "--stream <name>",
          "the JetStream stream read",
          parseStreamName,
          DEFAULT_LISTEN_STREAM,
        )
        .option(
          "--durable <name>",
          "the durable consumer (listeners sharing it share the work)",
          parseStreamName,
          DEFAULT_LISTEN_DURABLE,
        )
        .option(
          "--no-create-stream",
          "use an existing stream as it is (do not create or extend it)",
        )
        .option(
          "--ack-wait <ms>",
          "how long NATS waits for an ack before redelivering (a crash); default 30000",
          parseAckWait,
        ),
    ),
  ).addHelpText("after", HELP);
  return setAction<[], ListenFlags>(command, io, runListen);
}
