// `herald migrate --dynamodb print` in-process through runCli: the two tables' CreateTable and
// UpdateTimeToLive inputs as JSON, exactly what tableDefinitions gives, named by the flags, then
// herald.yaml's event_store.dynamodb and HERALD_DYNAMODB_*_TABLE, then the defaults — and no AWS
// call (no region, no credentials, an endpoint nothing listens on). Usage errors exit 2.
// `create` against a real DynamoDB emulator is test/e2e/awsDestinations.e2e.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tableDefinitions } from "../../packages/aws/src/store/dynamodb/tables.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A herald.yaml of `yaml` in a directory of its own; returns its path. */
function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "herald-migrate-dynamo-"));
  dirs.push(dir);
  const file = join(dir, "herald.yaml");
  writeFileSync(file, yaml);
  return file;
}

// No AWS anywhere: a print that called AWS would fail (nothing listens on port 9).
const NO_AWS = {
  HERALD_AWS_ENDPOINT: "http://127.0.0.1:9",
  AWS_REGION: "",
  AWS_ACCESS_KEY_ID: "",
  AWS_SECRET_ACCESS_KEY: "",
};

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCliCaptured(["migrate", ...args], { env: { ...NO_AWS, ...env } });
}

/** What print should write for these names. */
function expected(events: string, inbox: string) {
  return {
    tables: tableDefinitions({ events, inbox }).map((d) => ({
      CreateTable: d.create,
      UpdateTimeToLive:
        d.timeToLive === undefined
          ? null
          : {
              TableName: d.create.TableName,
              TimeToLiveSpecification: { AttributeName: d.timeToLive.attributeName, Enabled: true },
            },
    })),
  };
}

describe("herald migrate --dynamodb print", () => {
  it("prints both tables' definitions with the default names, without calling AWS", async () => {
    const run = await cli(["--dynamodb", "print"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const printed = JSON.parse(run.stdout) as ReturnType<typeof expected>;
    expect(printed).toEqual(expected("herald_events", "herald_inbox"));
    // What the tables are, spelled out: on-demand, PK/SK strings, TTL on the inbox's expiresAt.
    expect(printed.tables[0]?.CreateTable).toEqual({
      TableName: "herald_events",
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "PK", AttributeType: "S" },
        { AttributeName: "SK", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "PK", KeyType: "HASH" },
        { AttributeName: "SK", KeyType: "RANGE" },
      ],
    });
    expect(printed.tables[0]?.UpdateTimeToLive).toBeNull();
    expect(printed.tables[1]?.UpdateTimeToLive).toEqual({
      TableName: "herald_inbox",
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    });
    // Pretty by default, one line with --json.
    expect(run.stdout.split("\n").length).toBeGreaterThan(10);
    const json = await cli(["--dynamodb", "print", "--json"]);
    expect(json.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(json.stdout)).toEqual(printed);
  });

  it("takes the names from the flags, then the file, then the environment's variables", async () => {
    const file = configFile(
      "event_store:\n  backend: database\n  dynamodb:\n    events_table: file_events\n    inbox_table: file_inbox\n",
    );
    const fromFile = await cli(["--dynamodb", "print", "--config", file]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual(expected("file_events", "file_inbox"));

    const fromEnv = await cli(["--dynamodb", "print"], {
      HERALD_CONFIG: file,
      HERALD_DYNAMODB_INBOX_TABLE: "env_inbox",
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toEqual(expected("file_events", "env_inbox"));

    const fromFlags = await cli(
      ["--dynamodb", "print", "--events-table", "flag.events", "--inbox-table", "flag-inbox"],
      { HERALD_CONFIG: file, HERALD_DYNAMODB_INBOX_TABLE: "env_inbox" },
    );
    expect(fromFlags.code, fromFlags.stderr).toBe(0);
    expect(JSON.parse(fromFlags.stdout)).toEqual(expected("flag.events", "flag-inbox"));
  });

  it("refuses bad usage with exit 2 and a cli code", async () => {
    const cases: [string[], Record<string, string>, string][] = [
      [
        ["--dynamodb", "print", "--events-table", "no"],
        {},
        "error: cli.invalid_argument: --events-table must be a DynamoDB table name: 3–255 of A-Z a-z 0-9 _ . -",
      ],
      [
        ["--dynamodb", "print", "--inbox-table", "herald_events"],
        {},
        "error: cli.invalid_argument: The events and inbox tables must differ (both herald_events)",
      ],
      [
        ["--dynamodb", "create", "--db", "./x.db"],
        {},
        "error: cli.invalid_argument: --dynamodb migrates DynamoDB tables: it takes no --db or --schema",
      ],
      [
        ["--events-table", "orders_events"],
        {},
        "error: cli.invalid_argument: --events-table needs --dynamodb create|print",
      ],
      [
        ["--dynamodb", "print"],
        { HERALD_DYNAMODB_EVENTS_TABLE: "a b" },
        "error: config.invalid: Environment variable HERALD_DYNAMODB_EVENTS_TABLE: must be a DynamoDB table name: 3–255 of A-Z a-z 0-9 _ . -",
      ],
    ];
    for (const [args, env, message] of cases) {
      const run = await cli(args, env);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stdout, args.join(" ")).toBe("");
      expect(run.stderr.split("\n")[0], args.join(" ")).toBe(message);
    }
    const drop = await cli(["--dynamodb", "drop"]);
    expect(drop.code).toBe(2);
    expect(drop.stderr).toContain("cli.invalid_argument");
    expect(drop.stderr).toContain("create, print");
  });

  it("has help naming the DynamoDB options", async () => {
    const run = await cli(["--help"]);
    expect(run.code).toBe(0);
    for (const word of ["--dynamodb <action>", "--events-table", "--inbox-table", "--config"]) {
      expect(run.stdout).toContain(word);
    }
  });
});
