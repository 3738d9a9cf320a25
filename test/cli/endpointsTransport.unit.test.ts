// `herald endpoints add --transport <name> --url <target>`: the endpoint is stored with that
// transport; a target of the wrong form for it is a usage error (exit 2) naming --url, never
// echoing a password; a broker password given in the URL is stored but printed as `***`.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

let sqlite: MigratedSqlite;
let store: DeliveryStore;

beforeEach(() => {
  sqlite = migratedSqlite();
  store = createSqliteDeliveryStore(sqlite.db);
});
afterEach(() => sqlite.cleanup());

const add = (transport: string | null, url: string, extra: string[] = []): Promise<CliRun> =>
  runCliCaptured([
    "endpoints",
    "add",
    ...(transport === null ? [] : ["--transport", transport]),
    "--url",
    url,
    "--event-type",
    "order.*",
    "--db",
    sqlite.path,
    ...extra,
  ]);

describe("herald endpoints add --transport", () => {
  it("stores a rabbitmq endpoint and never prints its password", async () => {
    const url = "amqp://herald:s3cretpw@mq.example.com:5672/?exchange=orders&routing_key=o.c";
    const run = await add("rabbitmq", url, ["--id", "ep_mq", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const printed = JSON.parse(run.stdout) as { transport: string; target: string };
    expect(printed.transport).toBe("rabbitmq");
    expect(printed.target).toBe(
      "amqp://herald:***@mq.example.com:5672/?exchange=orders&routing_key=o.c",
    );
    expect(run.stdout + run.stderr).not.toContain("s3cretpw");
    expect(await store.getEndpoint("ep_mq")).toMatchObject({ transport: "rabbitmq", target: url });
    const listed = await runCliCaptured(["endpoints", "list", "--db", sqlite.path]);
    expect(listed.stdout).not.toContain("s3cretpw");
  });

  it.each([
    ["websocket", "wss://listener.example.com/herald"],
    ["grpc", "grpcs://listener.example.com:443"],
    ["redis-streams", "redis://cache.example.com:6379/0?stream=orders"],
    ["nats", "orders.created"],
    ["nats-core", "client.{tenant}.evt"],
    ["sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"],
    ["eventbridge", "eventbridge://orders-bus?source=acme.herald&region=eu-west-1"],
  ])("stores a %s endpoint", async (transport, url) => {
    const run = await add(transport, url, ["--id", "ep_t", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(await store.getEndpoint("ep_t")).toMatchObject({ transport, target: url });
  });

  it("keeps http the default, and refuses a non-http URL for it", async () => {
    expect((await add(null, "https://receiver.example/hooks")).code).toBe(0);
    const run = await add(null, "ws://listener.example.com/");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--url: must be an absolute http(s) URL (--transport http)");
  });

  it.each([
    ["grpc", "grpc://listener.example.com", "--url: "],
    ["rabbitmq", "amqp://u:s3cretpw@mq.example.com/?exchange=orders", "--url: "],
    ["sqs", "https://u:s3cretpw@sqs.eu-west-1.amazonaws.com/123456789012/q", "--url: "],
    ["eventbridge", "eventbridge://bus?source=aws.s3", "--url: "],
    ["smtp", "smtp://x", "Expected one of http, nats, function"],
  ])(
    "refuses --transport %s --url %s with exit 2, storing nothing",
    async (transport, url, text) => {
      const run = await add(transport, url);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(text);
      expect(run.stderr).not.toContain("s3cretpw");
      expect((await store.listEndpoints({ limit: 10 })).data).toHaveLength(0);
    },
  );
});
