// The DynamoDB DedupeStore on moto's server: the shared DedupeStore contract (50 concurrent
// claims among it) and the expiry suite on an injected clock, with a borrowed client and with a
// client the store creates; closing, argument checks and a missing table.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import { createDynamoDedupeStore } from "../../packages/aws/src/store/dynamodb/dedupeStore.js";
import { ensureTables } from "../../packages/aws/src/store/dynamodb/tables.js";
import { testDedupeStore, testDedupeStoreClock } from "../contracts/dedupeStore.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";

const available = motoAvailable("DynamoDB DedupeStore tests");

const table = "herald_inbox";

// Skips only when moto_server is not installed; under CI=true motoAvailable throws instead.
describe.skipIf(!available)("DynamoDB DedupeStore on moto", () => {
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

  describe("with a borrowed client", () => {
    testDedupeStore("DynamoDB (moto, client)", () => createDynamoDedupeStore({ client, table }));
    testDedupeStoreClock("DynamoDB (moto, client)", (clock) =>
      createDynamoDedupeStore({ client, table, clock }),
    );
  });

  describe("with a client the store creates", () => {
    testDedupeStore("DynamoDB (moto, aws options)", () =>
      createDynamoDedupeStore({ aws: moto.aws, table }),
    );
  });

  it("leaves a borrowed client usable after close, and rejects every call once closed", async () => {
    const store = createDynamoDedupeStore({ client, table });
    const claim = await store.claim("closing", 60_000);
    if (!claim.claimed) throw new Error("expected a claim");
    await store.close?.();
    for (const call of [
      () => store.claim("closing-2", 60_000),
      () => store.complete("closing", claim.token, 60_000),
      () => store.release("closing", claim.token),
      () => store.prune(),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: "store.unavailable" });
    }
    // The client still works: another store on it sees the first claim.
    const other = createDynamoDedupeStore({ client, table });
    expect(await other.claim("closing", 60_000)).toEqual({ claimed: false, state: "processing" });
  });

  it("prune deletes nothing and returns 0 (DynamoDB's TTL deletes expired items)", async () => {
    const store = createDynamoDedupeStore({ client, table });
    await store.claim("prune-me", 1);
    expect(await store.prune()).toBe(0);
  });

  it("refuses leases and ttls that are not positive finite milliseconds", async () => {
    const store = createDynamoDedupeStore({ client, table });
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(store.claim("bad-lease", bad)).rejects.toMatchObject({
        code: "config.invalid",
        message: expect.stringContaining("leaseMs"),
      });
    }
    const claim = await store.claim("bad-ttl", 60_000);
    if (!claim.claimed) throw new Error("expected a claim");
    await expect(store.complete("bad-ttl", claim.token, Number.NaN)).rejects.toMatchObject({
      code: "config.invalid",
      message: expect.stringContaining("ttlMs"),
    });
    // The refused complete changed nothing: the claim is still processing and completable.
    expect(await store.complete("bad-ttl", claim.token, 60_000)).toBe(true);
  });

  it("refuses an empty key and one too long for a DynamoDB key, before any write", async () => {
    const store = createDynamoDedupeStore({ client, table });
    await expect(store.claim("", 60_000)).rejects.toMatchObject({ code: "inbox.invalid_key" });
    await expect(store.claim(`inbox:billing:${"é".repeat(600)}`, 60_000)).rejects.toMatchObject({
      code: "inbox.invalid_key",
      details: { sortKeyBytes: 6 + 1200 },
    });
    await expect(store.claim("k".repeat(2100), 60_000)).rejects.toMatchObject({
      code: "inbox.invalid_key",
    });
  });

  it("a missing table is store.unavailable naming the table, with the SDK error as cause", async () => {
    const store = createDynamoDedupeStore({ client, table: "herald_no_such_inbox" });
    const error = await store.claim("missing", 60_000).then(
      () => undefined,
      (rejected: unknown) => rejected,
    );
    expect(error).toMatchObject({
      code: "store.unavailable",
      message: expect.stringContaining("herald_no_such_inbox"),
      details: { table: "herald_no_such_inbox" },
      cause: { name: "ResourceNotFoundException" },
    });
    await expect(store.complete("missing", "t", 60_000)).rejects.toMatchObject({
      code: "store.unavailable",
    });
    await expect(store.release("missing", "t")).rejects.toMatchObject({
      code: "store.unavailable",
    });
  });

  it("refuses a malformed table name, and anything but exactly one of client and aws", () => {
    expect(() => createDynamoDedupeStore({ client, table: "in box" })).toThrow(
      expect.objectContaining({ code: "config.invalid" }),
    );
    type Options = Parameters<typeof createDynamoDedupeStore>[0];
    for (const options of [{ client, aws: moto.aws, table }, { table }]) {
      expect(() => createDynamoDedupeStore(options as never as Options)).toThrow(
        expect.objectContaining({
          code: "config.invalid",
          message: expect.stringContaining("exactly one of client"),
        }),
      );
    }
  });
});
