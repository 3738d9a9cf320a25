// The two tables' definitions (for `herald migrate --dynamodb create|print` and IaC users) and
// their creation: on-demand billing, a string partition and sort key, TTL on the inbox's
// `expiresAt`.
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { type AwsClientOptions, awsClientConfig } from "../../core/awsClientConfig.js";
import { EXPIRES_AT, PK, SK } from "./tableLayout.js";

export interface DynamoTableNames {
  /** The event table: aggregates, events, event ids, outbox, checkpoints. */
  events: string;
  /** The inbox / dedupe table (TTL on `expiresAt`). */
  inbox: string;
}

/** DynamoDB table names: 3–255 of `[A-Za-z0-9_.-]`. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export function checkTableName(name: unknown, field: string): string {
  if (typeof name !== "string" || !TABLE_NAME.test(name)) {
    throw new HeraldError(
      "config.invalid",
      `${field} must be a DynamoDB table name (3–255 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(name)}`,
      { details: { field } },
    );
  }
  return name;
}

function keyedTable(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: PK, AttributeType: "S" },
      { AttributeName: SK, AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: PK, KeyType: "HASH" },
      { AttributeName: SK, KeyType: "RANGE" },
    ],
  };
}

export interface TableDefinition {
  /** What CreateTable takes. */
  create: CreateTableCommandInput;
  /** The TTL attribute, when the table has one. */
  timeToLive?: { attributeName: string };
}

/** Both tables' definitions, in the order they are created. */
export function tableDefinitions(names: DynamoTableNames): TableDefinition[] {
  return [
    { create: keyedTable(checkTableName(names.events, "events table")) },
    {
      create: keyedTable(checkTableName(names.inbox, "inbox table")),
      timeToLive: { attributeName: EXPIRES_AT },
    },
  ];
}

export interface EnsuredTable {
  name: string;
  /** True when this call created it; false when it existed already. */
  created: boolean;
}

async function waitActive(client: DynamoDBClient, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === "ACTIVE") return;
    if (Date.now() > deadline) {
      throw new HeraldError("store.unavailable", `DynamoDB table ${name} is not ACTIVE yet`, {
        details: { table: name, status: Table?.TableStatus },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function tableExists(client: DynamoDBClient, name: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/**
 * Creates each table that does not exist yet, waits until it is ACTIVE and turns TTL on where the
 * definition has it (idempotent: existing tables are left as they are, TTL turned on if off).
 */
export async function ensureTables(
  client: DynamoDBClient,
  names: DynamoTableNames,
  options: { timeoutMs?: number } = {},
): Promise<EnsuredTable[]> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const ensured: EnsuredTable[] = [];
  for (const definition of tableDefinitions(names)) {
    const name = definition.create.TableName as string;
    let created = false;
    if (!(await tableExists(client, name))) {
      try {
        await client.send(new CreateTableCommand(definition.create));
        created = true;
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
    }
    await waitActive(client, name, timeoutMs);
    if (definition.timeToLive !== undefined) {
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
      const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
      if (status !== "ENABLED" && status !== "ENABLING") {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: {
              AttributeName: definition.timeToLive.attributeName,
              Enabled: true,
            },
          }),
        );
      }
    }
    ensured.push({ name, created });
  }
  return ensured;
}

/**
 * ensureTables on a DynamoDB client of its own, built from `aws` (region, endpoint override,
 * credentials: the SDK's chain when absent) and destroyed afterwards.
 */
export async function ensureTablesAt(
  aws: AwsClientOptions,
  names: DynamoTableNames,
  options: { timeoutMs?: number } = {},
): Promise<EnsuredTable[]> {
  const client = new DynamoDBClient(awsClientConfig(aws));
  try {
    return await ensureTables(client, names, options);
  } finally {
    client.destroy();
  }
}
