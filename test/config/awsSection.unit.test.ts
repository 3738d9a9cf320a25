// herald.yaml's `aws:` and `event_store:` sections: loaded into config.aws and config.eventStore
// (defaults for what they leave out), overridden by HERALD_AWS_REGION, HERALD_AWS_ENDPOINT,
// HERALD_EVENT_STORE and HERALD_DYNAMODB_*_TABLE, and bad values refused at file:line:column or
// naming the variable. Credentials have no key: the file cannot hold them. The service's
// transports take `aws.endpoint` as the only origin an sqs queue URL may have (400 otherwise).
import { afterAll, describe, expect, it } from "vitest";
import {
  buildServiceTransports,
  CONFIG_ENV_VARS,
  loadConfig,
} from "../../packages/server/src/config/index.js";
import { configDir, rejection, removeConfigDirs } from "./helpers.js";

afterAll(removeConfigDirs);

const AWS = `aws:
  region: eu-west-1
  endpoint: http://127.0.0.1:5000/
event_store:
  backend: dynamodb
  dynamodb:
    events_table: orders_events
    inbox_table: orders.inbox
`;

describe("aws: and event_store: in herald.yaml", () => {
  it("loads both sections (the endpoint kept as its origin)", async () => {
    const config = await loadConfig({ cwd: configDir(AWS), env: {} });
    expect(config.aws).toEqual({ region: "eu-west-1", endpoint: "http://127.0.0.1:5000" });
    expect(config.eventStore).toEqual({
      backend: "dynamodb",
      eventsTable: "orders_events",
      inboxTable: "orders.inbox",
    });
  });

  it("defaults: the SDK's region and endpoints, the database event store, the default tables", async () => {
    for (const yaml of [undefined, "aws:\nevent_store:\n", "log:\n  level: warn\n"]) {
      const config = await loadConfig({ cwd: configDir(yaml), env: {} });
      expect(config.aws, String(yaml)).toEqual({ region: null, endpoint: null });
      expect(config.eventStore, String(yaml)).toEqual({ backend: "database" });
    }
    const dynamo = await loadConfig({
      cwd: configDir("event_store:\n  backend: dynamodb\n"),
      env: {},
    });
    expect(dynamo.eventStore).toEqual({
      backend: "dynamodb",
      eventsTable: "herald_events",
      inboxTable: "herald_inbox",
    });
  });

  it("is overridden by the environment, the file's tables applying when it picks DynamoDB", async () => {
    const config = await loadConfig({
      cwd: configDir(AWS),
      env: {
        HERALD_AWS_REGION: "us-east-2",
        HERALD_AWS_ENDPOINT: "https://vpce.example.com:8443/x",
        HERALD_DYNAMODB_INBOX_TABLE: "other_inbox",
      },
    });
    expect(config.aws).toEqual({ region: "us-east-2", endpoint: "https://vpce.example.com:8443" });
    expect(config.eventStore).toEqual({
      backend: "dynamodb",
      eventsTable: "orders_events",
      inboxTable: "other_inbox",
    });
    // The file says database but names tables: HERALD_EVENT_STORE=dynamodb uses them.
    const switched = await loadConfig({
      cwd: configDir(
        "event_store:\n  backend: database\n  dynamodb:\n    events_table: file_events\n",
      ),
      env: { HERALD_EVENT_STORE: "dynamodb" },
    });
    expect(switched.eventStore).toEqual({
      backend: "dynamodb",
      eventsTable: "file_events",
      inboxTable: "herald_inbox",
    });
    const noFile = await loadConfig({
      cwd: configDir(),
      env: {
        HERALD_EVENT_STORE: "dynamodb",
        HERALD_DYNAMODB_EVENTS_TABLE: "env_events",
        HERALD_AWS_REGION: "ap-southeast-2",
        HERALD_AWS_ENDPOINT: "",
      },
    });
    expect(noFile.aws).toEqual({ region: "ap-southeast-2", endpoint: null });
    expect(noFile.eventStore).toEqual({
      backend: "dynamodb",
      eventsTable: "env_events",
      inboxTable: "herald_inbox",
    });
    const back = await loadConfig({
      cwd: configDir(AWS),
      env: { HERALD_EVENT_STORE: "database" },
    });
    expect(back.eventStore).toEqual({ backend: "database" });
  });

  it("refuses a bad value at file:line:column, naming the key", async () => {
    const cases: [string, string][] = [
      [
        "aws:\n  region: Europe\n",
        "herald.yaml:2:3: aws.region: must be an AWS region name like us-east-1",
      ],
      [
        "aws:\n  region: us-east-1\n  endpoint: ftp://files.example.com\n",
        "herald.yaml:3:3: aws.endpoint: must be an http(s) URL such as http://127.0.0.1:5000",
      ],
      ["aws:\n  region: 5\n", "herald.yaml:2:3: aws.region: must be a string (got a number)"],
      [
        "aws:\n  access_key_id: AKIA0000\n",
        "herald.yaml:2:3: aws.access_key_id: is not a known key",
      ],
      [
        "event_store:\n  backend: dynamo\n",
        'herald.yaml:2:3: event_store.backend: must be one of "database", "dynamodb"',
      ],
      [
        "event_store:\n  backend: dynamodb\n  dynamodb:\n    events_table: ab\n",
        "herald.yaml:4:5: event_store.dynamodb.events_table: must be a DynamoDB table name: 3–255 of A-Z a-z 0-9 _ . -",
      ],
      [
        "event_store:\n  dynamodb:\n    events_table: ok_name\n    inbox_table: has space\n",
        "herald.yaml:4:5: event_store.dynamodb.inbox_table: must be a DynamoDB table name: 3–255 of A-Z a-z 0-9 _ . -",
      ],
      [
        "event_store:\n  dynamodb:\n    table: x\n",
        "herald.yaml:3:5: event_store.dynamodb.table: is not a known key",
      ],
    ];
    for (const [yaml, message] of cases) {
      const error = await rejection(loadConfig({ cwd: configDir(yaml), env: {} }));
      expect(error.code, yaml).toBe("config.invalid");
      expect(error.message, yaml).toBe(message);
    }
  });

  it("refuses a bad variable, naming it", async () => {
    const cases: [Record<string, string>, string][] = [
      [
        { HERALD_AWS_REGION: "mars" },
        "Environment variable HERALD_AWS_REGION: must be an AWS region name like us-east-1",
      ],
      [
        { HERALD_AWS_ENDPOINT: "127.0.0.1:5000" },
        "Environment variable HERALD_AWS_ENDPOINT: must be an http(s) URL such as http://127.0.0.1:5000",
      ],
      [
        { HERALD_EVENT_STORE: "postgres" },
        'Environment variable HERALD_EVENT_STORE: must be database or dynamodb (got "postgres")',
      ],
      [
        { HERALD_EVENT_STORE: "dynamodb", HERALD_DYNAMODB_EVENTS_TABLE: "x" },
        "Environment variable HERALD_DYNAMODB_EVENTS_TABLE: must be a DynamoDB table name: 3–255 of A-Z a-z 0-9 _ . -",
      ],
      [
        { HERALD_DYNAMODB_INBOX_TABLE: "my_inbox" },
        "Environment variable HERALD_DYNAMODB_INBOX_TABLE: needs the DynamoDB event store (event_store.backend: dynamodb or HERALD_EVENT_STORE=dynamodb)",
      ],
    ];
    for (const [env, message] of cases) {
      const error = await rejection(loadConfig({ cwd: configDir(), env }));
      expect(error.code, message).toBe("config.invalid");
      expect(error.message).toBe(message);
      expect(error.details).toEqual({ variable: Object.keys(env).at(-1) });
    }
  });

  it("lists the variables with the keys they override", () => {
    expect(CONFIG_ENV_VARS).toMatchObject({
      HERALD_AWS_REGION: "aws.region",
      HERALD_AWS_ENDPOINT: "aws.endpoint",
      HERALD_EVENT_STORE: "event_store.backend",
      HERALD_DYNAMODB_EVENTS_TABLE: "event_store.dynamodb.events_table",
      HERALD_DYNAMODB_INBOX_TABLE: "event_store.dynamodb.inbox_table",
    });
  });

  it("gives the service sqs and eventbridge transports that take queues on aws.endpoint's origin only", async () => {
    const base = { file: null, nats: null, functions: null, endpoints: [] };
    const moto = "http://127.0.0.1:5000/123456789012/orders";
    const aws = "https://sqs.us-east-1.amazonaws.com/123456789012/orders";
    const withOverride = await buildServiceTransports(
      { ...base, aws: { region: "us-east-1", endpoint: "http://127.0.0.1:5000" } },
      { ssrfAllow: [] },
    );
    const without = await buildServiceTransports(
      { ...base, aws: { region: null, endpoint: null } },
      { ssrfAllow: [] },
    );
    try {
      expect(Object.keys(withOverride.transports)).toEqual(
        expect.arrayContaining(["sqs", "eventbridge"]),
      );
      expect(() => withOverride.checkEndpoint("sqs", moto)).not.toThrow();
      expect(() => without.checkEndpoint("sqs", aws)).not.toThrow();
      for (const [built, url] of [
        [withOverride, aws],
        [withOverride, "http://127.0.0.1:5001/123456789012/orders"],
        [without, moto],
      ] as const) {
        let caught: unknown;
        try {
          built.checkEndpoint("sqs", url);
        } catch (error) {
          caught = error;
        }
        expect(caught, url).toMatchObject({
          code: "request.invalid",
          details: { field: "url", transport: "sqs" },
        });
        expect((caught as Error).message).toMatch(/^url: must be an SQS queue URL/);
      }
      // EventBridge targets name a bus, never a host: no origin to check.
      expect(() =>
        withOverride.checkEndpoint("eventbridge", "eventbridge://orders?region=eu-west-1"),
      ).not.toThrow();
    } finally {
      await withOverride.close();
      await without.close();
    }
  });
});
