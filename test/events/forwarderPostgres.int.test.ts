// The forwarder over the PostgreSQL event store → real NATS JetStream, with writers whose
// transactions commit out of position order: every event reaches the stream exactly once, in
// commit order (none skipped by the checkpoint), and a consumer with a PostgreSQL inbox handles
// each once.
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messageToEnvelope } from "../../packages/core/src/bus/envelopeCodec.js";
import { createForwarder, type Forwarder } from "../../packages/core/src/events/forwarder.js";
import type { CheckpointStore, EventStore } from "../../packages/core/src/store/ports.js";
import { createNatsConsumer } from "../../packages/nats/src/bus/nats/envelopeConsumer.js";
import {
  createNatsPublisher,
  type NatsPublisher,
} from "../../packages/nats/src/bus/nats/publisher.js";
import { appendInTransaction } from "../../packages/postgres/src/store/postgres/appendEvents.js";
import { createPostgresDedupeStore } from "../../packages/postgres/src/store/postgres/dedupeStore.js";
import { createPostgresEventStore } from "../../packages/postgres/src/store/postgres/eventStore.js";
import { createTestStream, type TestStream } from "../bus/natsTestStream.js";
import { waitFor } from "../bus/waitFor.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = (await serviceAvailable("postgres")) && (await serviceAvailable("nats"));

describe.skipIf(!available)("forwarder on PostgreSQL → NATS JetStream", () => {
  let schema: TestSchema;
  let t: TestStream;
  let store: EventStore & CheckpointStore;
  let publisher: NatsPublisher;
  let forwarder: Forwarder;
  let passed = false;
  const errors: string[] = [];

  beforeAll(async () => {
    schema = await createTestSchema("forwarder", { max: 20 });
    store = createPostgresEventStore(schema.pool);
    t = await createTestStream("fwdpg");
    publisher = await createNatsPublisher({
      servers: serviceUrl("nats"),
      stream: t.stream,
      subjects: t.subjects,
    });
    forwarder = createForwarder({
      store,
      publisher,
      batchSize: 5,
      pollIntervalMs: 2,
      subjectPrefix: t.prefix,
      onError: (error) => void errors.push(`${error.code}: ${error.message}`),
    });
  });

  afterAll(async () => {
    await forwarder?.stop();
    await publisher?.close();
    await t?.delete();
    // Keep the schema of a failed run for inspection.
    if (passed) await schema?.drop();
    else await schema?.pool.end();
  });

  it("publishes every event once, in commit order, while transactions commit out of order", async () => {
    forwarder.start();
    const writers = 6;
    const perWriter = 10;
    const committed: string[] = [];
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          const client = await schema.pool.connect();
          try {
            await client.query("BEGIN");
            const { events } = await appendInTransaction(
              client,
              `order/${w}`,
              [{ type: "order.line_added.v1", source: "shop", payload: { w, i } }],
              { publish: true, expectedVersion: i },
            );
            // Held open a varying while, so commits land out of position order while the
            // forwarder polls.
            await sleep((w * 7 + i * 3) % 11);
            await client.query("COMMIT");
            committed.push(events[0]!.envelope.id);
          } finally {
            client.release();
          }
        }
      }),
    );
    const total = writers * perWriter;
    // On timeout, go on: the assertions below then say what is missing.
    await waitFor(async () => (await t.count()) >= total, { timeoutMs: 15_000 }).catch(() => {});
    await forwarder.stop();

    const info = await t.jsm.streams.info(t.stream);
    const onBus: string[] = [];
    const versions = new Map<string, number[]>();
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const stored = await t.jsm.streams.getMessage(t.stream, { seq });
      const envelope = messageToEnvelope(stored!);
      expect(stored!.header.get("Nats-Msg-Id")).toBe(envelope.id);
      onBus.push(envelope.id);
      const stream = envelope.aggregate!.id;
      versions.set(stream, [...(versions.get(stream) ?? []), envelope.aggregate!.version]);
    }
    expect(onBus.length, `forwarder errors: ${errors.join("; ") || "none"}`).toBe(total);
    expect(new Set(onBus)).toEqual(new Set(committed));
    // Each stream's events arrive in version order. (The global order is the order in which
    // transactions became visible, which a read from the start afterwards does not reproduce:
    // it lists them by position.)
    const inOrder = Array.from({ length: perWriter }, (_, i) => i + 1);
    expect(Object.fromEntries(versions)).toEqual(
      Object.fromEntries(Array.from({ length: writers }, (_, w) => [String(w), inOrder])),
    );

    const dedupe = createPostgresDedupeStore(schema.pool);
    const runs = new Map<string, number>();
    const consumer = await createNatsConsumer({
      servers: serviceUrl("nats"),
      stream: t.stream,
      durable: "pg-projector",
      dedupe,
      handler: (envelope) => void runs.set(envelope.id, (runs.get(envelope.id) ?? 0) + 1),
    });
    await waitFor(() => runs.size === total, { timeoutMs: 15_000 }).catch(() => {});
    await consumer.stop();
    expect(runs.size).toBe(total);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    passed = true;
  }, 60_000);
});
