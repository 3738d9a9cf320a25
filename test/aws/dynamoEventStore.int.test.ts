// The DynamoDB event store on moto's server runs the whole EventStore contract, including the
// concurrent writers, with the documented capability that it has no readAll (store.unsupported;
// the commit-order checks run on readOutbox). Each store gets a table of its own: moto copies
// the whole table on every transaction, so a table shared by the suite makes it slow.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe } from "vitest";
import { awsClientConfig } from "../../packages/aws/src/core/awsClientConfig.js";
import { createDynamoEventStore } from "../../packages/aws/src/store/dynamodb/eventStore.js";
import { ensureTables } from "../../packages/aws/src/store/dynamodb/tables.js";
import { testEventStore } from "../contracts/eventStore.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";

const available = motoAvailable("DynamoDB event store contract");

// Skips only when moto_server is not installed; under CI=true motoAvailable throws instead.
describe.skipIf(!available)("DynamoDB event store on moto", () => {
  let moto: MotoServer;
  let client: DynamoDBClient;
  let tables = 0;

  beforeAll(async () => {
    moto = await startMoto();
    client = new DynamoDBClient(awsClientConfig(moto.aws));
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  testEventStore(
    "DynamoDB (moto)",
    async (options) => {
      const table = `herald_events_${++tables}`;
      await ensureTables(client, { events: table, inbox: `herald_inbox_${tables}` });
      return createDynamoEventStore({ ...options, client, table });
    },
    { readAll: false },
  );
});
