// Acceptance: a forwarder process (SQLite event store file → NATS JetStream) killed with
// SIGKILL mid-stream and restarted puts every event on the stream exactly once (the
// Nats-Msg-Id dedupe absorbs the re-sent batch), and a consumer handler with a SQLite inbox
// runs exactly once per event id. Needs the built dist/ (`npm test` builds it first).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { messageToEnvelope } from "../../packages/core/src/bus/envelopeCodec.js";
import { createNatsConsumer } from "../../packages/nats/src/bus/nats/envelopeConsumer.js";
import { createSqliteDedupeStore } from "../../packages/sqlite/src/store/sqlite/dedupeStore.js";
import { createSqliteEventStore } from "../../packages/sqlite/src/store/sqlite/eventStore.js";
import { createTestStream, type TestStream } from "../bus/natsTestStream.js";
import { waitFor } from "../bus/waitFor.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

const available = await serviceAvailable("nats");
const fixture = fileURLToPath(new URL("./fixtures/forwarderProcess.mjs", import.meta.url));
const built = fileURLToPath(
  new URL("../../packages/core/dist/events/forwarder.js", import.meta.url),
);

const EVENTS = 500;
const STREAMS = 7;
const BATCH = 50;

interface StoredOnBus {
  msgId: string;
  eventId: string;
  stream: string;
  version: number;
}

/** Every message in the JetStream stream, in stream order. */
async function readBus(t: TestStream): Promise<StoredOnBus[]> {
  const info = await t.jsm.streams.info(t.stream);
  const stored: StoredOnBus[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
    const message = await t.jsm.streams.getMessage(t.stream, { seq });
    if (message === null) continue;
    const envelope = messageToEnvelope(message);
    stored.push({
      msgId: message.header.get("Nats-Msg-Id"),
      eventId: envelope.id,
      stream: `${envelope.aggregate!.type}/${envelope.aggregate!.id}`,
      version: envelope.aggregate!.version,
    });
  }
  return stored;
}

describe.skipIf(!available)("forwarder crash (SIGKILL) → NATS JetStream", () => {
  let t: TestStream;
  let outboxDb: MigratedSqlite;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
    t = await createTestStream("fwdcrash");
    outboxDb = migratedSqlite("outbox.db");
  });

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    outboxDb?.cleanup();
    await t?.delete();
  });

  /** Where a forwarder process reads from and publishes to. */
  interface Target {
    bus: TestStream;
    dbPath: string;
    /** Extra environment for the fixture. */
    env?: Record<string, string>;
  }

  function startForwarder(target: Target): { child: ChildProcess; exited: Promise<string> } {
    const child = spawn(process.execPath, [fixture], {
      env: {
        ...process.env,
        HERALD_DB: target.dbPath,
        HERALD_TEST_NATS: serviceUrl("nats"),
        FORWARDER_STREAM: target.bus.stream,
        FORWARDER_SUBJECTS: target.bus.subjects.join(","),
        FORWARDER_PREFIX: target.bus.prefix,
        FORWARDER_BATCH: String(BATCH),
        FORWARDER_PUBLISH_DELAY_MS: "2",
        ...target.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let output = "";
    child.stdout!.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr!.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise<string>((resolve) => {
      child.once("exit", () => {
        children.delete(child);
        resolve(output);
      });
    });
    return { child, exited };
  }

  async function kill(child: ChildProcess, exited: Promise<string>): Promise<void> {
    child.kill("SIGKILL");
    await exited;
  }

  /** Appends EVENTS events across STREAMS streams through publish(), half now, half later. */
  function appender(store: ReturnType<typeof createSqliteEventStore>, tag: string) {
    const versions = new Map<string, number>();
    let appended = 0;
    return async function appendUpTo(total: number): Promise<void> {
      while (appended < total) {
        const stream = `order-${tag}/${appended % STREAMS}`;
        const version = versions.get(stream) ?? 0;
        // Batches of 1–3 events per publish, as an application would write them.
        const count = Math.min(1 + (appended % 3), total - appended);
        const events = Array.from({ length: count }, (_, i) => ({
          type: "order.line_added.v1",
          source: "shop",
          payload: { n: appended + i },
        }));
        await store.publish(stream, version, events);
        versions.set(stream, version + count);
        appended += count;
      }
    };
  }

  /** Runs the forwarder, SIGKILLs it at each count, restarts; returns the last run's status. */
  async function crashAndRecover(
    target: Target,
    killAt: number[],
    whileRunning: () => Promise<void> = async () => {},
  ): Promise<{ published: number; duplicates: number }> {
    const { bus } = target;
    for (const [index, count] of killAt.entries()) {
      const { child, exited } = startForwarder(target);
      if (index === 0) await whileRunning();
      await waitFor(async () => (await bus.count()) >= count, {
        timeoutMs: 20_000,
        intervalMs: 2,
      });
      await kill(child, exited);
    }
    const { child, exited } = startForwarder(target);
    // On timeout, go on: the assertions on the stream's contents then say what is missing.
    await waitFor(async () => (await bus.count()) >= EVENTS, { timeoutMs: 10_000 }).catch(() => {});
    // Let a broken forwarder finish re-sending too, before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill("SIGTERM");
    const output = await exited;
    const status = output.trim().split("\n").at(-1)!;
    return JSON.parse(status) as { published: number; duplicates: number };
  }

  it("every event appears once on the stream and the handler runs once per event id", async () => {
    const store = createSqliteEventStore(outboxDb.db);
    const appendUpTo = appender(store, "ok");
    await appendUpTo(EVENTS / 2);

    // Kill points inside batches (not on a multiple of BATCH), so each kill loses a checkpoint
    // after publishes were acked: the restart must re-send them.
    const last = await crashAndRecover({ bus: t, dbPath: outboxDb.path }, [137, 311], () =>
      appendUpTo(EVENTS),
    );
    // The last run re-sent what the kill left uncheckpointed, and JetStream dropped it.
    expect(last.duplicates).toBeGreaterThan(0);

    const onBus = await readBus(t);
    const { events: outbox } = await store.readOutbox({ limit: EVENTS + 1 });
    expect(outbox).toHaveLength(EVENTS);
    expect(onBus).toHaveLength(EVENTS);
    expect(await t.count()).toBe(EVENTS);
    // Each Nats-Msg-Id once, equal to the event id, and the bus order is commit order.
    expect(new Set(onBus.map((m) => m.msgId)).size).toBe(EVENTS);
    expect(onBus.every((m) => m.msgId === m.eventId)).toBe(true);
    expect(onBus.map((m) => m.eventId)).toEqual(outbox.map((e) => e.envelope.id));

    // A consumer with a SQLite inbox (its own connection, as another process would have):
    // two instances share the durable; every 10th event fails its first delivery.
    const inboxDb = migratedSqlite("inbox.db");
    onTestFinished(inboxDb.cleanup);
    const runs = new Map<string, number>();
    const failed = new Set<string>();
    const consumers = await Promise.all(
      [0, 1].map(() =>
        createNatsConsumer({
          servers: serviceUrl("nats"),
          stream: t.stream,
          durable: "crash-projector",
          dedupe: createSqliteDedupeStore(inboxDb.db),
          nakDelayMs: 20,
          handler: (envelope) => {
            const n = envelope.payload.n as number;
            if (n % 10 === 0 && !failed.has(envelope.id)) {
              failed.add(envelope.id);
              throw new Error("first delivery fails");
            }
            runs.set(envelope.id, (runs.get(envelope.id) ?? 0) + 1);
          },
        }),
      ),
    );
    await waitFor(
      async () => {
        const info = await t.jsm.consumers.info(t.stream, "crash-projector");
        return runs.size === EVENTS && info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    inboxDb.db.close();
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(runs.keys())).toEqual(new Set(outbox.map((e) => e.envelope.id)));
    expect(failed.size).toBe(EVENTS / 10);
  }, 90_000);

  it("can fail: a forwarder that does not send the event id as Nats-Msg-Id stores duplicates", async () => {
    // Same crash, own stream and file, the msg id replaced by a random one.
    const broken = await createTestStream("fwdcrashbroken");
    const brokenFile = migratedSqlite("broken.db");
    try {
      await appender(createSqliteEventStore(brokenFile.db), "broken")(EVENTS);
      brokenFile.db.close();
      await crashAndRecover(
        {
          bus: broken,
          dbPath: brokenFile.path,
          env: { FORWARDER_BREAK_MSG_ID: "1" },
        },
        [137],
      );
      const onBus = await readBus(broken);
      expect(onBus.length).toBeGreaterThan(EVENTS);
      expect(new Set(onBus.map((m) => m.eventId)).size).toBe(EVENTS);
    } finally {
      await broken.delete();
      brokenFile.cleanup();
    }
  }, 60_000);
});
