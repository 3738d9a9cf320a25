// The DynamoDB event store's items, read raw with the SDK after append and publish (the layout
// docs/aws.md shows), its limits (refused before any write), concurrent publishers, a missing
// table, and the outbox rule that a publish whose counter read went stale retries and lands
// after the one that beat it, so a reader never skips it. Each test has a table of its own.
// moto never answers TransactionConflict (it runs one request at a time): that retry is
// exercised by failing a transaction in the client, before it is sent, with the cancellation
// DynamoDB returns; the retries themselves go to moto.
import { randomUUID } from "node:crypto";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import { createDynamoEventStore } from "../../packages/aws/src/store/dynamodb/eventStore.js";
import { ensureTables } from "../../packages/aws/src/store/dynamodb/tables.js";
import { event, rejection } from "../contracts/eventStore.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";

const available = motoAvailable("DynamoDB event store layout tests");

// Skips only when moto_server is not installed; under CI=true motoAvailable throws instead.
describe.skipIf(!available)("DynamoDB event store items on moto", () => {
  let moto: MotoServer;
  let client: DynamoDBClient;
  let table: string;
  let tables = 0;

  beforeAll(async () => {
    moto = await startMoto();
    client = new DynamoDBClient(awsClientConfig(moto.aws));
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  beforeEach(async () => {
    table = `layout_events_${++tables}`;
    await ensureTables(client, { events: table, inbox: `layout_inbox_${tables}` });
  });

  const key = (PK: string, SK: string) => ({ PK: { S: PK }, SK: { S: SK } });
  async function rawItem(PK: string, SK: string) {
    const { Item } = await client.send(
      new GetItemCommand({ TableName: table, Key: key(PK, SK), ConsistentRead: true }),
    );
    return Item;
  }
  async function partition(PK: string) {
    const { Items } = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "PK = :pk",
        ExpressionAttributeValues: { ":pk": { S: PK } },
        ConsistentRead: true,
      }),
    );
    return Items ?? [];
  }
  async function everything() {
    const { Items } = await client.send(
      new ScanCommand({ TableName: table, ConsistentRead: true }),
    );
    return Items ?? [];
  }

  it("append and publish write HEAD, V#, EVENTID#, the outbox counter and O# items", async () => {
    const store = createDynamoEventStore({ client, table });
    const id = `a/b-${randomUUID()}`;
    const stream = `order/${id}`;
    const appended = await store.append(stream, [event(), event({ type: "order.paid.v1" })]);
    const published = await store.publish(stream, 2, [event({ type: "order.shipped.v1" })]);
    const pk = `AGG#order#${id}`;

    expect(await rawItem(pk, "HEAD")).toEqual({ ...key(pk, "HEAD"), currentVersion: { N: "3" } });
    const items = await partition(pk);
    expect(items.map((item) => item.SK?.S)).toEqual([
      "HEAD",
      "V#0000000001",
      "V#0000000002",
      "V#0000000003",
    ]);
    const stored = [...appended.events, ...published.events];
    expect(stored.map((e) => e.checkpoint)).toEqual([`a:${stream}:1`, `a:${stream}:2`, "1"]);
    stored.forEach((e, index) => {
      const { envelope: json, ...rest } = items[index + 1]!;
      expect(rest).toEqual({
        ...key(pk, `V#000000000${index + 1}`),
        eventId: { S: e.envelope.id },
        eventType: { S: e.envelope.type },
        version: { N: String(index + 1) },
        stream: { S: stream },
        checkpoint: { S: e.checkpoint },
        committedAt: { S: e.committedAt },
      });
      expect(JSON.parse(json!.S!)).toEqual(e.envelope);
      expect(e.envelope.aggregate).toEqual({ type: "order", id, version: index + 1 });
    });
    for (const e of stored) {
      expect(await rawItem(`EVENTID#${e.envelope.id}`, "EVENTID")).toEqual({
        ...key(`EVENTID#${e.envelope.id}`, "EVENTID"),
        stream: { S: stream },
        version: { N: String(e.version) },
      });
    }
    const outbox = await partition("OUTBOX");
    expect(outbox).toHaveLength(2);
    const [item, counter] = outbox;
    expect(counter).toEqual({ ...key("OUTBOX", "SEQ"), seq: { N: "1" } });
    const { envelope: json, ...rest } = item!;
    const shipped = published.events[0]!;
    expect(rest).toEqual({
      ...key("OUTBOX", "O#0000000000000001"),
      seq: { N: "1" },
      eventId: { S: shipped.envelope.id },
      stream: { S: stream },
      version: { N: "3" },
      committedAt: { S: shipped.committedAt },
    });
    expect(JSON.parse(json!.S!)).toEqual(shipped.envelope);
    expect((await store.readOutbox()).events).toEqual(published.events);

    await store.saveCheckpoint("relay", "1");
    expect(await rawItem("CHECKPOINT#relay", "CHECKPOINT")).toMatchObject({
      ...key("CHECKPOINT#relay", "CHECKPOINT"),
      checkpoint: { S: "1" },
    });
    // An appended event's checkpoint is no outbox position.
    expect((await rejection(store.readOutbox({ after: `a:${stream}:1` }))).code).toBe(
      "checkpoint.invalid",
    );
    await store.close();
  });

  it("refuses a batch over DynamoDB's limits before any write; the largest that fit commit", async () => {
    const store = createDynamoEventStore({ client, table });
    const stream = `order/${randomUUID()}`;
    const events = (count: number) => Array.from({ length: count }, () => event());
    const tooMany = await rejection(store.append(stream, events(50)));
    expect(tooMany.code).toBe("stream.batch_too_large");
    expect(tooMany.details).toEqual({ stream, events: 50, max: 49 });
    const tooManyPublished = await rejection(store.publish(stream, 0, events(33)));
    expect(tooManyPublished.details).toEqual({ stream, events: 33, max: 32 });
    const huge = event({ payload: { blob: "x".repeat(420 * 1024) } });
    const tooBig = await rejection(store.append(stream, [event(), huge]));
    expect(tooBig.code).toBe("stream.batch_too_large");
    expect(tooBig.details).toMatchObject({ stream, index: 1, maxItemBytes: 400 * 1024 });
    expect(tooBig.details?.itemBytes).toBeGreaterThan(420 * 1024);
    const heavy = Array.from({ length: 12 }, () =>
      event({ payload: { blob: "y".repeat(350 * 1024) } }),
    );
    const tooHeavy = await rejection(store.append(stream, heavy));
    expect(tooHeavy.details).toMatchObject({ stream, events: 12, maxBytes: 4 * 1024 * 1024 });
    expect(await everything()).toEqual([]);

    expect(await store.append(stream, events(49))).toMatchObject({ toVersion: 49 });
    expect(await store.publish(stream, 49, events(32))).toMatchObject({ toVersion: 81 });
    expect(await rawItem("OUTBOX", "SEQ")).toMatchObject({ seq: { N: "32" } });
    await store.close();
  });

  it("two publishers from two processes: one conflicts with the actual head; on other streams both land", async () => {
    const first = createDynamoEventStore({ client, table });
    const second = createDynamoEventStore({ aws: moto.aws, table });
    const stream = `order/${randomUUID()}`;
    const outcomes = await Promise.allSettled([
      first.publish(stream, 0, [event()]),
      second.publish(stream, 0, [event()]),
    ]);
    const lost = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({
      code: "stream.version_conflict",
      details: { stream, expected: 0, actual: 1 },
    });
    expect(await rawItem("OUTBOX", "SEQ")).toMatchObject({ seq: { N: "1" } });

    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? first : second).publish(`invoice/${randomUUID()}`, 0, [event(), event()]),
      ),
    );
    const seqs = results.flatMap((r) => r.events.map((e) => Number(e.checkpoint)));
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
    const outbox = await first.readOutbox({ after: "1" });
    expect(outbox.events.map((e) => e.checkpoint)).toEqual(seqs.sort((a, b) => a - b).map(String));
    await first.close();
    await second.close();
  });

  it("a publish whose counter read went stale retries and lands after, so readers never skip it", async () => {
    const slowClient = new DynamoDBClient(awsClientConfig(moto.aws));
    const slow = createDynamoEventStore({ client: slowClient, table });
    const fast = createDynamoEventStore({ client, table });
    const reader = createDynamoEventStore({ client, table });
    let beaten: string | undefined;
    let transactions = 0;
    // Between the slow publisher's counter read and its transaction, another one publishes.
    slowClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "TransactWriteItemsCommand" && ++transactions === 1) {
          await fast.publish(`invoice/${randomUUID()}`, 0, [event()]);
          beaten = (await reader.readOutbox()).checkpoint;
        }
        return next(args);
      },
      { step: "initialize", name: "publishInBetween" },
    );
    const stream = `order/${randomUUID()}`;
    const result = await slow.publish(stream, 0, [event(), event()]);
    expect(transactions).toBe(2);
    expect(beaten).toBe("1");
    expect(result.events.map((e) => e.checkpoint)).toEqual(["2", "3"]);
    const next = await reader.readOutbox({ after: beaten });
    expect(next).toEqual({ events: result.events, checkpoint: "3" });
    expect(await slow.load(stream)).toEqual(result.events);
    for (const store of [slow, fast, reader]) await store.close();
    slowClient.destroy();
  });

  it("retries a transaction DynamoDB cancels for a concurrent one (TransactionConflict), bounded", async () => {
    const conflicted = new DynamoDBClient(awsClientConfig(moto.aws));
    const store = createDynamoEventStore({ client: conflicted, table });
    let conflicts = 0;
    let sent = 0;
    conflicted.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "TransactWriteItemsCommand") return next(args);
        if (conflicts > 0) {
          conflicts--;
          const items = (args.input as { TransactItems: unknown[] }).TransactItems;
          throw new TransactionCanceledException({
            message:
              "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
            $metadata: {},
            CancellationReasons: items.map((_, index) =>
              index === 0 ? { Code: "TransactionConflict" } : { Code: "None" },
            ),
          });
        }
        sent++;
        return next(args);
      },
      { step: "initialize", name: "transactionConflict" },
    );
    const stream = `order/${randomUUID()}`;
    conflicts = 3;
    const result = await store.append(stream, [event()], { expectedVersion: 0 });
    expect({ conflicts, sent, toVersion: result.toVersion }).toEqual({
      conflicts: 0,
      sent: 1,
      toVersion: 1,
    });
    conflicts = 11;
    const error = await rejection(store.publish(stream, 1, [event()]));
    expect(error.code).toBe("store.unavailable");
    expect(error.details).toMatchObject({ table, stream, attempts: 11 });
    expect({ conflicts, sent }).toEqual({ conflicts: 0, sent: 1 });
    expect(await store.streamVersion(stream)).toBe(1);
    expect(await rawItem("OUTBOX", "SEQ")).toBeUndefined();
    await store.close();
    conflicted.destroy();
  });

  it("a missing table or a closed store rejects with store.unavailable; options are checked", async () => {
    const store = createDynamoEventStore({ client, table: "no_such_table" });
    const stream = `order/${randomUUID()}`;
    for (const call of [
      () => store.append(stream, [event()]),
      () => store.publish(stream, 0, [event()]),
      () => store.load(stream),
      () => store.streamVersion(stream),
      () => store.readOutbox(),
      () => store.getCheckpoint("relay"),
    ]) {
      const error = await rejection(call());
      expect(error.code).toBe("store.unavailable");
      expect(error.details).toEqual({ table: "no_such_table" });
      expect((error.cause as Error).name).toBe("ResourceNotFoundException");
    }
    const owned = createDynamoEventStore({ aws: moto.aws, table });
    await owned.close();
    expect((await rejection(owned.streamVersion(stream))).code).toBe("store.unavailable");
    expect(() => createDynamoEventStore({ table } as never)).toThrow(/exactly one of client/);
    expect(() => createDynamoEventStore({ client, aws: moto.aws, table } as never)).toThrow(
      /exactly one of client/,
    );
    expect(() => createDynamoEventStore({ client, table: "x" })).toThrow(/DynamoDB table name/);
  });

  it("an event item another writer broke (envelope not a JSON object) is store.unavailable naming it", async () => {
    const store = createDynamoEventStore({ client, table });
    const stream = `order/${randomUUID()}`;
    await store.append(stream, [event()]);
    const [, id] = stream.split("/") as [string, string];
    const PK = `AGG#order#${id}`;
    const item = (await rawItem(PK, "V#0000000001"))!;
    for (const broken of ["{not json", "[1,2]", "null", "\u0000"]) {
      await client.send(
        new PutItemCommand({ TableName: table, Item: { ...item, envelope: { S: broken } } }),
      );
      const error = await rejection(store.load(stream));
      expect(error.code).toBe("store.unavailable");
      expect(error.message).toContain("JSON envelope");
      expect(error.details).toMatchObject({ PK, SK: "V#0000000001" });
    }
    await store.close();
  });
});
