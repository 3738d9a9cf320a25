// The NATS listener against a real JetStream (this file's own nats-server) and a real SQLite
// store: agent events and configured subjects become Herald messages (type, tenant, payload as
// docs/nats.md says), the same event twice is one message, what cannot be mapped is stored
// as `nats.unmapped` with its reason, and a store that cannot write gets the message nak'ed and
// stored when it comes back.
//
// What breaking it shows: a wrong mapping fails the row-by-row comparison; an idempotency key
// that is not the msg id / stream position stores a duplicate; dropping unmapped bodies leaves
// rows missing; acking before the commit (or on a store error) loses the locked-out message.
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, nanos } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DispatchInput } from "../../packages/core/src/delivery/dispatcher.js";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import {
  type NatsListener,
  type NatsListenerEvent,
  type NatsListenerOptions,
  startNatsListener,
} from "../../packages/nats/src/platform/natsListener.js";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { waitFor } from "../bus/waitFor.js";
import {
  natsServerAvailable,
  type OwnNatsServer,
  startOwnNatsServer,
} from "../helpers/ownNatsServer.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

// Skips only where the nats-server binary is missing (a loud notice); under CI=true or
// HERALD_REQUIRE_SERVICES=1 its absence throws instead, so CI always runs this file.
const haveNats = natsServerAvailable("the NATS listener tests");

interface Row {
  tenant: string;
  type: string;
  payload: Record<string, unknown>;
  idempotency_key: string | null;
}

let server: OwnNatsServer;
let client: NatsConnection;
let sqlite: MigratedSqlite;
let store: DeliveryStore;
let listener: NatsListener | undefined;
let events: NatsListenerEvent[];
let streamCounter = 0;

beforeAll(async () => {
  if (!haveNats) return;
  server = await startOwnNatsServer();
  client = await connect({ servers: server.url });
});

afterAll(async () => {
  if (!haveNats) return;
  await client.drain();
  await server.stop();
});

afterEach(async () => {
  if (!haveNats) return;
  await listener?.stop();
  listener = undefined;
  await store?.close();
  sqlite?.cleanup();
  // Every test's stream captures agent.*.*.evt: the next one can only exist once it is gone.
  const jsm = await jetstreamManager(client);
  for await (const info of jsm.streams.list()) await jsm.streams.delete(info.config.name);
});

function freshStore(): void {
  sqlite = migratedSqlite();
  store = createSqliteDeliveryStore(sqlite.db);
}

function rows(): Row[] {
  return (
    sqlite.db
      .prepare("SELECT tenant, type, payload, idempotency_key FROM messages ORDER BY rowid")
      .all() as (Omit<Row, "payload"> & { payload: string })[]
  ).map((row) => ({ ...row, payload: JSON.parse(row.payload) as Record<string, unknown> }));
}

async function start(
  options: Partial<NatsListenerOptions> & Pick<NatsListenerOptions, "dispatcher">,
): Promise<NatsListener> {
  events = [];
  streamCounter += 1;
  listener = await startNatsListener({
    servers: server.url,
    stream: `LISTEN_T${streamCounter}`,
    durable: `listen-t${streamCounter}`,
    retryDelayMs: 50,
    onMessage: (event) => events.push(event),
    ...options,
  });
  return listener;
}

const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

async function publish(subject: string, body: unknown, msgId?: string): Promise<boolean> {
  const ack = await jetstream(client).publish(subject, encode(body), {
    ...(msgId === undefined ? {} : { msgID: msgId }),
  });
  return ack.duplicate;
}

function settled(): number {
  return events.filter((event) => event.outcome === "handled" || event.outcome === "unmapped")
    .length;
}

// Skipped only when the nats-server binary is missing (see haveNats above); fails under CI=true.
describe.skipIf(!haveNats)("NATS listener", () => {
  it("maps agent events and subject rules to Herald messages, and stores the unmappable", async () => {
    freshStore();
    const dispatcher = createDispatcher({ store });
    const lookups: string[] = [];
    const started = await start({
      dispatcher,
      subjects: [
        { subject: "agent.*.*.evt" },
        { subject: "orders.>", type: "order.created", tenant: "acme" },
        { subject: "billing.>" },
      ],
      resolveTenant: ({ kind, id }) => {
        lookups.push(`${kind}/${id}`);
        return id === "a1" ? "t1" : "default";
      },
    });
    expect(started.stream).toBe(`LISTEN_T${streamCounter}`);
    // An endpoint of t1 for vm.*: the agent event fans out to it like an inbound webhook.
    const endpoint = await store.createEndpoint({
      tenant: "t1",
      target: "https://hooks.example.com/vm",
      eventTypes: ["vm.*"],
    });

    await publish("agent.compute.a1.evt", { type: "vm.started", data: { cpu: 2 } });
    await publish("agent.storage.b-2.evt", { type: "disk.full" });
    await publish("orders.eu.1", { id: 1, type: "ignored.by.rule" });
    await publish("billing.x", { type: "invoice.paid", amount: 3 });
    await publish("agent.compute.a1.evt", "not json {");
    await publish("agent.gpu.g1.evt", { type: "gpu.hot" });
    await publish("agent.network.n1.evt", { data: {} });
    await publish("agent.network.n1.evt", { type: "bad type*" });
    await publish("billing.y", [1, 2]);
    await publish(
      "billing.z",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1",
    );
    await waitFor(() => settled() === 10, { timeoutMs: 10_000 });

    const byKey = (key: string) => rows().find((row) => row.idempotency_key === key);
    const stream = started.stream;
    expect(byKey(`nats:${stream}:1`)).toEqual({
      tenant: "t1",
      type: "vm.started",
      payload: { agent: { kind: "compute", id: "a1" }, data: { cpu: 2 } },
      idempotency_key: `nats:${stream}:1`,
    });
    expect(byKey(`nats:${stream}:2`)).toMatchObject({
      tenant: "default",
      type: "disk.full",
      payload: { agent: { kind: "storage", id: "b-2" }, data: null },
    });
    expect(byKey(`nats:${stream}:3`)).toMatchObject({
      tenant: "acme",
      type: "order.created",
      payload: { id: 1, type: "ignored.by.rule" },
    });
    expect(byKey(`nats:${stream}:4`)).toMatchObject({
      tenant: "default",
      type: "invoice.paid",
      payload: { type: "invoice.paid", amount: 3 },
    });
    const unmapped = (seq: number, tenant: string, subject: string, reason: string) => {
      const row = byKey(`nats:${stream}:${seq}`);
      expect(row, `sequence ${seq}`).toMatchObject({
        tenant,
        type: "nats.unmapped",
        payload: { subject, reason },
      });
      return Buffer.from(String(row?.payload.body_base64), "base64").toString("utf8");
    };
    expect(unmapped(5, "t1", "agent.compute.a1.evt", "body.invalid_json")).toBe("not json {");
    expect(unmapped(6, "default", "agent.gpu.g1.evt", "subject.invalid")).toBe(
      JSON.stringify({ type: "gpu.hot" }),
    );
    unmapped(7, "default", "agent.network.n1.evt", "type.missing");
    unmapped(8, "default", "agent.network.n1.evt", "type.invalid");
    unmapped(9, "default", "billing.y", "body.not_object");
    unmapped(10, "default", "billing.z", "body.too_deep");
    expect(rows()).toHaveLength(10);

    // The agent event of t1 got a delivery to t1's endpoint; nothing else matched it.
    const deliveries = await store.listDeliveries({ endpointId: endpoint.id });
    expect(deliveries.data).toHaveLength(1);
    expect(started.stats()).toEqual({ handled: 4, unmapped: 6, duplicates: 0, failed: 0 });
    expect(lookups).toContain("compute/a1");
    expect(lookups).not.toContain("gpu/g1");
    const reasons = events.flatMap((event) => (event.outcome === "unmapped" ? [event.reason] : []));
    expect(reasons.sort()).toEqual(
      [
        "body.invalid_json",
        "body.not_object",
        "body.too_deep",
        "subject.invalid",
        "type.invalid",
        "type.missing",
      ].sort(),
    );

    // Graceful stop: done resolves, nothing is left unacked on the consumer.
    await started.stop();
    await expect(started.done).resolves.toBeUndefined();
    const jsm = await jetstreamManager(client);
    const info = await jsm.consumers.info(stream, started.durable);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it("stores one message for two events with the same Nats-Msg-Id, and none again after a crash before the ack", async () => {
    freshStore();
    const dispatcher = createDispatcher({ store });
    // A stream whose duplicate window is short, so JetStream stores both copies and the
    // listener's own idempotency is what keeps the second from becoming a message.
    const name = `LISTEN_DUP${++streamCounter}`;
    const jsm = await jetstreamManager(client);
    await jsm.streams.add({
      name,
      subjects: ["agent.*.*.evt"],
      duplicate_window: nanos(100),
    });
    expect(await publish("agent.compute.c1.evt", { type: "vm.stopped" }, "evt-1")).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await publish("agent.compute.c1.evt", { type: "vm.stopped" }, "evt-1")).toBe(false);
    // The message a crashed listener stored but never acked: its stream position is the key.
    await publish("agent.compute.c1.evt", { type: "vm.rebooted" });
    await dispatcher.dispatch({
      type: "vm.rebooted",
      payload: { agent: { kind: "compute", id: "c1" }, data: null },
      idempotencyKey: `nats:${name}:3`,
    });
    expect((await jsm.streams.info(name)).state.messages).toBe(3);

    const started = await start({ dispatcher, stream: name, createStream: false });
    await waitFor(() => settled() === 3, { timeoutMs: 10_000 });
    expect(rows().map((row) => [row.type, row.idempotency_key])).toEqual([
      ["vm.rebooted", `nats:${name}:3`],
      ["vm.stopped", "evt-1"],
    ]);
    expect(started.stats()).toEqual({ handled: 3, unmapped: 0, duplicates: 2, failed: 0 });
  });

  it("naks while the store cannot write, and stores the message once it can", async () => {
    sqlite = migratedSqlite();
    // The listener's own connection gives up on a held write lock after 50 ms (store.unavailable).
    const connection = openSqlite(sqlite.path, { busyTimeoutMs: 50 });
    store = createSqliteDeliveryStore(connection);
    const dispatcher = createDispatcher({ store });
    const calls: DispatchInput[] = [];
    const locker = openSqlite(sqlite.path);
    locker.exec("BEGIN IMMEDIATE");
    try {
      await start({
        dispatcher: {
          dispatch: (input) => {
            calls.push(input);
            return dispatcher.dispatch(input);
          },
        },
      });
      await publish("agent.storage.s1.evt", { type: "disk.degraded", data: { disk: "sda" } });
      await waitFor(() => events.filter((event) => event.outcome === "retry").length >= 2, {
        timeoutMs: 10_000,
      });
      expect(rows()).toHaveLength(0);
      const retry = events.find((event) => event.outcome === "retry");
      expect(retry).toMatchObject({ subject: "agent.storage.s1.evt", deliveryCount: 1 });
      expect(retry?.outcome === "retry" ? retry.error.code : "").toBe("store.unavailable");
    } finally {
      locker.exec("COMMIT");
      locker.close();
    }
    await waitFor(() => settled() === 1, { timeoutMs: 10_000 });
    const stored = rows();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      type: "disk.degraded",
      payload: { agent: { kind: "storage", id: "s1" }, data: { disk: "sda" } },
    });
    expect(calls.length).toBeGreaterThanOrEqual(3);
    const stats = listener?.stats();
    expect(stats?.handled).toBe(1);
    expect(stats?.failed).toBeGreaterThanOrEqual(2);
    await listener?.stop();
    listener = undefined;
    connection.close();
  });

  it("reconnects by itself when nats-server restarts, and reads on", async () => {
    freshStore();
    const dispatcher = createDispatcher({ store });
    const errors: string[] = [];
    const started = await start({ dispatcher, onError: (error) => errors.push(error.code) });
    await publish("agent.network.r1.evt", { type: "link.up" });
    await waitFor(() => settled() === 1, { timeoutMs: 10_000 });
    await server.restart();
    // The test's own client reconnects too; publish once it has.
    await waitFor(
      async () => {
        try {
          await publish("agent.network.r1.evt", { type: "link.down" }, "after-restart");
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    await waitFor(() => settled() === 2, { timeoutMs: 20_000 });
    expect(rows().map((row) => row.type)).toEqual(["link.up", "link.down"]);
    expect(started.stats()).toMatchObject({ handled: 2, failed: 0 });
  });

  it("refuses bad options before connecting", async () => {
    freshStore();
    const dispatcher = createDispatcher({ store });
    await expect(
      startNatsListener({ servers: server.url, dispatcher, subjects: [] }),
    ).rejects.toMatchObject({ code: "config.invalid" });
    await expect(
      startNatsListener({
        servers: server.url,
        dispatcher,
        subjects: [{ subject: "orders.>", type: "not a type" }],
      }),
    ).rejects.toMatchObject({ code: "config.invalid" });
    await expect(
      startNatsListener({ servers: server.url, dispatcher, durable: "a.b" }),
    ).rejects.toMatchObject({ code: "config.invalid" });
    await expect(
      startNatsListener({ servers: server.url, dispatcher, stream: "NOPE", createStream: false }),
    ).rejects.toMatchObject({ code: "config.invalid" });
  });
});
