// The DynamoDB inbox's items, read raw with the SDK on moto's server: where createInbox's keys
// and other dedupe keys land, what a processing and a done item hold (exact ms expiry, TTL in
// epoch seconds rounded up), and that an expired item DynamoDB's TTL has not deleted yet is
// absent to every call.
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import { createDynamoDedupeStore } from "../../packages/aws/src/store/dynamodb/dedupeStore.js";
import { ensureTables } from "../../packages/aws/src/store/dynamodb/tables.js";
import { createInbox } from "../../packages/core/src/bus/inbox.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";

const available = motoAvailable("DynamoDB inbox layout tests");

const table = "herald_inbox";
// Not on a second boundary, so rounding the TTL up is visible.
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0, 250);

// Skips only when moto_server is not installed; under CI=true motoAvailable throws instead.
describe.skipIf(!available)("DynamoDB inbox items on moto", () => {
  let moto: MotoServer;
  let client: DynamoDBClient;

  beforeAll(async () => {
    moto = await startMoto();
    client = new DynamoDBClient(awsClientConfig(moto.aws));
    await ensureTables(client, { events: "herald_events", inbox: table });
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  async function rawItem(PK: string, SK: string): Promise<Record<string, AttributeValue>> {
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: { PK: { S: PK }, SK: { S: SK } },
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) throw new Error(`no item at ${PK} / ${SK}`);
    return Item;
  }

  it("a claim and a complete through createInbox write CONSUMER#billing / EVENT#<id>", async () => {
    const clock = new ManualClock(T0);
    const inbox = createInbox(createDynamoDedupeStore({ client, table, clock }));
    const eventId = "evt:0001";

    const claim = await inbox.claim("billing", eventId, 30_000);
    if (!claim.claimed) throw new Error("expected a claim");
    expect(await rawItem("CONSUMER#billing", "EVENT#evt:0001")).toEqual({
      PK: { S: "CONSUMER#billing" },
      SK: { S: "EVENT#evt:0001" },
      state: { S: "processing" },
      token: { S: claim.token },
      expiresAtMs: { N: String(T0 + 30_000) },
      expiresAt: { N: String(Math.ceil((T0 + 30_000) / 1000)) },
    });

    clock.advance(1_000);
    expect(await inbox.complete("billing", eventId, claim.token, 86_400_000)).toBe(true);
    const done = T0 + 1_000 + 86_400_000;
    expect(await rawItem("CONSUMER#billing", "EVENT#evt:0001")).toEqual({
      PK: { S: "CONSUMER#billing" },
      SK: { S: "EVENT#evt:0001" },
      state: { S: "done" },
      token: { S: claim.token },
      expiresAtMs: { N: String(done) },
      expiresAt: { N: String(Math.ceil(done / 1000)) },
    });
    // 2030-01-02T12:00:01.250Z rounds up to the next whole second for the TTL.
    expect(done).toBe(1_893_585_601_250);
    expect((await rawItem("CONSUMER#billing", "EVENT#evt:0001")).expiresAt).toEqual({
      N: "1893585602",
    });
    expect(await inbox.claim("billing", eventId, 30_000)).toEqual({
      claimed: false,
      state: "done",
    });
    // Another consumer handles the same event independently.
    expect((await inbox.claim("shipping", eventId, 30_000)).claimed).toBe(true);
    await rawItem("CONSUMER#shipping", "EVENT#evt:0001");
    expect(await inbox.prune()).toBe(0);
  });

  it("keys that are not inbox keys get KEY#<key> items, apart from every inbox entry", async () => {
    const store = createDynamoDedupeStore({ client, table });
    // `inbox:a:b` is consumer a's event b; `a:b` and `inbox:b` are plain keys, each its own item.
    for (const key of ["inbox:a:b", "a:b", "inbox:b", "inbox::b", "inbox:a:"]) {
      expect((await store.claim(key, 60_000)).claimed).toBe(true);
    }
    await rawItem("CONSUMER#a", "EVENT#b");
    await rawItem("KEY#a:b", "KEY");
    await rawItem("KEY#inbox:b", "KEY");
    await rawItem("KEY#inbox::b", "KEY");
    await rawItem("KEY#inbox:a:", "KEY");
    const { Items = [] } = await client.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: "begins_with(PK, :key) OR PK = :a",
        ExpressionAttributeValues: { ":key": { S: "KEY#" }, ":a": { S: "CONSUMER#a" } },
        ConsistentRead: true,
      }),
    );
    expect(Items).toHaveLength(5);
  });

  it("an expired item TTL has not deleted yet is absent: the claim wins and replaces it", async () => {
    const clock = new ManualClock(T0);
    const inbox = createInbox(createDynamoDedupeStore({ client, table, clock }));
    const expired = (state: string, token: string, expiresAtMs: number) =>
      client.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            PK: { S: "CONSUMER#billing" },
            SK: { S: `EVENT#${state}-expired` },
            state: { S: state },
            token: { S: token },
            expiresAtMs: { N: String(expiresAtMs) },
            expiresAt: { N: String(Math.ceil(expiresAtMs / 1000)) },
          },
        }),
      );
    // Expired one millisecond ago, still in the same TTL second: only expiresAtMs can tell.
    await expired("done", "old-done", T0 - 1);
    await expired("processing", "old-lease", T0);

    for (const state of ["done", "processing"]) {
      const claim = await inbox.claim("billing", `${state}-expired`, 30_000);
      expect(claim).toEqual({ claimed: true, token: expect.any(String) });
      if (!claim.claimed) continue;
      expect(claim.token).not.toMatch(/^old-/);
      expect(await rawItem("CONSUMER#billing", `EVENT#${state}-expired`)).toMatchObject({
        state: { S: "processing" },
        token: { S: claim.token },
        expiresAtMs: { N: String(T0 + 30_000) },
      });
    }
    // The expired lease's token can neither complete nor release the new claim.
    expect(await inbox.complete("billing", "processing-expired", "old-lease", 60_000)).toBe(false);
    await inbox.release("billing", "processing-expired", "old-lease");
    expect(await inbox.claim("billing", "processing-expired", 30_000)).toEqual({
      claimed: false,
      state: "processing",
    });
  });

  it("a release deletes the processing item; a stale token leaves it", async () => {
    const store = createDynamoDedupeStore({ client, table });
    const inbox = createInbox(store);
    const claim = await inbox.claim("billing", "released", 60_000);
    if (!claim.claimed) throw new Error("expected a claim");
    await inbox.release("billing", "released", "someone-else");
    await rawItem("CONSUMER#billing", "EVENT#released");
    await inbox.release("billing", "released", claim.token);
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: { PK: { S: "CONSUMER#billing" }, SK: { S: "EVENT#released" } },
        ConsistentRead: true,
      }),
    );
    expect(Item).toBeUndefined();
  });

  it("a missing inbox table is store.unavailable through createInbox too", async () => {
    const inbox = createInbox(createDynamoDedupeStore({ client, table: "herald_missing_inbox" }));
    await expect(inbox.claim("billing", "x", 30_000)).rejects.toMatchObject({
      code: "store.unavailable",
      message: expect.stringContaining("herald_missing_inbox"),
    });
  });
});
