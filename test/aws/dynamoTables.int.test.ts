// The two DynamoDB tables, created on moto's server: key schema, on-demand billing, TTL on the
// inbox's expiresAt; a second ensureTables changes nothing.
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import { ensureTables, tableDefinitions } from "../../packages/aws/src/store/dynamodb/tables.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";

const available = motoAvailable("DynamoDB table tests");

// Skips only when moto_server is not installed; under CI=true motoAvailable throws instead.
describe.skipIf(!available)("DynamoDB tables on moto", () => {
  let moto: MotoServer;
  let client: DynamoDBClient;

  beforeAll(async () => {
    moto = await startMoto();
    client = new DynamoDBClient(awsClientConfig(moto.aws));
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it("creates both tables once, with PK/SK string keys and TTL on the inbox's expiresAt", async () => {
    const names = { events: "herald_events", inbox: "herald_inbox" };
    expect(await ensureTables(client, names)).toEqual([
      { name: "herald_events", created: true },
      { name: "herald_inbox", created: true },
    ]);
    expect(await ensureTables(client, names)).toEqual([
      { name: "herald_events", created: false },
      { name: "herald_inbox", created: false },
    ]);
    for (const name of ["herald_events", "herald_inbox"]) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      expect(Table?.KeySchema).toEqual([
        { AttributeName: "PK", KeyType: "HASH" },
        { AttributeName: "SK", KeyType: "RANGE" },
      ]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    }
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: "herald_inbox" }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      TimeToLiveStatus: "ENABLED",
      AttributeName: "expiresAt",
    });
  });

  it("refuses a table name DynamoDB would refuse, before any call", () => {
    expect(() => tableDefinitions({ events: "ab", inbox: "herald_inbox" })).toThrow(
      /events table must be a DynamoDB table name/,
    );
    expect(() => tableDefinitions({ events: "herald_events", inbox: "in box" })).toThrow(
      /inbox table/,
    );
  });
});
