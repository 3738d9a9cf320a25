// herald.yaml's `nats:` and `functions:`: the module loaded relative to the file, its exports
// checked against the endpoints, NATS from the file or the environment, and every problem a
// config.invalid at file:line:column — never a dead letter later, never a password in a message.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../packages/server/src/config/index.js";
import {
  endpointTransportError,
  subjectMatches,
} from "../../packages/server/src/config/transportCheck.js";
import { configDir, rejection, removeConfigDirs } from "./helpers.js";

afterAll(removeConfigDirs);

const MODULE = `
export function record(message) { return { seen: message.id }; }
export async function slow() {}
export const notAFunction = 42;
export default function ignored() {}
`;

function dirWith(yaml: string, files: Record<string, string> = { "fns.mjs": MODULE }): string {
  const dir = configDir(yaml);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const fnEndpoint = (name: string) =>
  [
    "endpoints:",
    "  - id: fn",
    `    url: ${name}`,
    "    transport: function",
    "    event_types: [a.b]",
  ].join("\n");

describe("functions.module", () => {
  it("loads the module relative to the file: its named function exports, nothing else", async () => {
    const dir = dirWith(`functions:\n  module: ./fns.mjs\n${fnEndpoint("record")}\n`);
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.functions?.module).toBe(join(dir, "fns.mjs"));
    expect([...(config.functions?.functions.keys() ?? [])].sort()).toEqual(["record", "slow"]);
  });

  it("accepts the built-in simulate without a module", async () => {
    const config = await loadConfig({ cwd: configDir(`${fnEndpoint("simulate")}\n`), env: {} });
    expect(config.functions).toBeNull();
    expect(config.endpoints[0]?.input.target).toBe("simulate");
  });

  const cases: Array<[string, string, Record<string, string>, string]> = [
    [
      "a missing module",
      "functions:\n  module: ./nope.mjs\n",
      {},
      "herald.yaml:2:3: functions.module: DIR/nope.mjs does not exist",
    ],
    [
      "a module that throws while loading",
      "functions:\n  module: ./boom.mjs\n",
      { "boom.mjs": 'throw new Error("boom at load");\n' },
      "herald.yaml:2:3: functions.module: DIR/boom.mjs failed to load: Error: boom at load",
    ],
    [
      "a module with a syntax error",
      "functions:\n  module: ./bad.mjs\n",
      { "bad.mjs": "export function (\n" },
      // Node says SyntaxError; under Vitest the module loader reports the parse failure.
      "herald.yaml:2:3: functions.module: DIR/bad.mjs failed to load: ",
    ],
    [
      "a module exporting simulate",
      "functions:\n  module: ./mine.mjs\n",
      { "mine.mjs": "export function simulate() {}\n" },
      'herald.yaml:2:3: functions.module: DIR/mine.mjs exports "simulate", the name of Herald\'s built-in function: rename the export',
    ],
    [
      "an endpoint naming a function the module does not export",
      `functions:\n  module: ./fns.mjs\n${fnEndpoint("notAFunction")}\n`,
      { "fns.mjs": MODULE },
      'herald.yaml:5:5: endpoints[0].url: no function "notAFunction" in this Herald (functions: "record", "simulate", "slow")',
    ],
    [
      "a function endpoint without any module",
      `${fnEndpoint("record")}\n`,
      {},
      'herald.yaml:3:5: endpoints[0].url: no function "record" in this Herald (functions: "simulate")',
    ],
    [
      "a nats endpoint without NATS",
      "endpoints:\n  - id: bus\n    url: orders.created\n    transport: nats\n    event_types: [a.b]\n",
      {},
      "herald.yaml:4:5: endpoints[0].transport: this Herald has no NATS configured (a nats: block in herald.yaml, or HERALD_NATS_URL), so it cannot deliver to a NATS subject",
    ],
  ];
  for (const [name, yaml, files, message] of cases) {
    it(`refuses ${name} at load`, async () => {
      const dir = dirWith(yaml, files);
      const error = await rejection(loadConfig({ cwd: dir, env: {} }));
      expect(error.code).toBe("config.invalid");
      const expected = message.replace("DIR", dir);
      expect(error.message.slice(0, expected.length)).toBe(expected);
      expect(error.details).toMatchObject({ file: "herald.yaml" });
    });
  }
});

describe("nats", () => {
  it("applies the defaults, resolves creds_file from the file's folder", async () => {
    const dir = configDir("nats:\n  servers: nats://a:4222\n  creds_file: sub/n.creds\n");
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.nats).toEqual({
      servers: ["nats://a:4222"],
      credsFile: join(dir, "sub/n.creds"),
      user: null,
      password: null,
      token: null,
      stream: "HERALD_WEBHOOKS",
      subjects: ["webhooks.>"],
    });
  });

  it("is configured by HERALD_NATS_URL alone, and the other variables replace one setting", async () => {
    const config = await loadConfig({
      cwd: configDir(),
      env: {
        HERALD_NATS_URL: "nats://a:4222, nats://b:4222",
        HERALD_NATS_USER: "herald",
        HERALD_NATS_PASSWORD: "pw-123",
        HERALD_NATS_STREAM: "OUT",
        HERALD_NATS_CREDS: "/etc/herald/n.creds",
      },
    });
    expect(config.nats).toMatchObject({
      servers: ["nats://a:4222", "nats://b:4222"],
      user: "herald",
      password: "pw-123",
      stream: "OUT",
      credsFile: "/etc/herald/n.creds",
      subjects: ["webhooks.>"],
    });
  });

  it("overrides the file's servers and token from the environment", async () => {
    const config = await loadConfig({
      cwd: configDir("nats:\n  servers: [nats://file:4222]\n  stream: FROM_FILE\n"),
      env: { HERALD_NATS_URL: "nats://env:4222", HERALD_NATS_TOKEN: "t0ken" },
    });
    expect(config.nats).toMatchObject({
      servers: ["nats://env:4222"],
      token: "t0ken",
      stream: "FROM_FILE",
    });
  });

  const errors: Array<[string, string, Record<string, string>, string]> = [
    [
      "no servers",
      "nats:\n  stream: S\n",
      {},
      "herald.yaml:1:1: nats.servers: is required (or set HERALD_NATS_URL)",
    ],
    [
      "a password without a user",
      "nats:\n  servers: nats://a\n  password: secret-pw\n",
      {},
      "herald.yaml:3:3: nats.password: needs user",
    ],
    [
      "a token with a user",
      "nats:\n  servers: nats://a\n  user: u\n",
      { HERALD_NATS_TOKEN: "secret-token" },
      "herald.yaml:1:1: nats.token: cannot be combined with user and password",
    ],
    [
      "a stream name with a dot",
      "nats:\n  servers: nats://a\n  stream: a.b\n",
      {},
      "herald.yaml:3:3: nats.stream: must be a JetStream stream name",
    ],
    [
      "a subject with a > before the end",
      "nats:\n  servers: nats://a\n  subjects: [a.>.b]\n",
      {},
      "herald.yaml:3:14: nats.subjects[0]: must be a NATS subject",
    ],
    [
      "HERALD_NATS_TOKEN without NATS",
      "",
      { HERALD_NATS_TOKEN: "secret-token" },
      "Environment variable HERALD_NATS_TOKEN: needs NATS configured: a nats: section or HERALD_NATS_URL",
    ],
    [
      "a bad HERALD_NATS_STREAM",
      "",
      { HERALD_NATS_URL: "nats://a", HERALD_NATS_STREAM: "a b" },
      "Environment variable HERALD_NATS_STREAM: must be a JetStream stream name",
    ],
    [
      "an empty server list",
      "",
      { HERALD_NATS_URL: " , " },
      "Environment variable HERALD_NATS_URL: names no server",
    ],
  ];
  for (const [name, yaml, env, message] of errors) {
    it(`refuses ${name}, never quoting a secret`, async () => {
      const error = await rejection(loadConfig({ cwd: configDir(yaml), env }));
      expect(error.code).toBe("config.invalid");
      expect(error.message.slice(0, message.length)).toBe(message);
      expect(error.message).not.toMatch(/secret-(pw|token)/);
    });
  }
});

describe("endpointTransportError", () => {
  const available = {
    nats: { stream: "OUT", subjects: ["orders.>", "billing.*.created"] },
    functions: new Set(["simulate", "record"]),
  };

  it("matches subjects as NATS does: * one token, > one or more", () => {
    expect(subjectMatches("orders.>", "orders.a")).toBe(true);
    expect(subjectMatches("orders.>", "orders.a.b")).toBe(true);
    expect(subjectMatches("orders.>", "orders")).toBe(false);
    expect(subjectMatches("billing.*.created", "billing.eu.created")).toBe(true);
    expect(subjectMatches("billing.*.created", "billing.eu.x.created")).toBe(false);
    expect(subjectMatches("a.b", "a.b")).toBe(true);
    expect(subjectMatches("a.b", "a.b.c")).toBe(false);
    expect(subjectMatches(">", "anything.at.all")).toBe(true);
  });

  it("accepts what the process can deliver to", () => {
    expect(endpointTransportError(available, "http", "https://x.example")).toBeUndefined();
    expect(endpointTransportError(available, "nats", "orders.created")).toBeUndefined();
    expect(endpointTransportError(available, "nats", "billing.eu.created")).toBeUndefined();
    expect(endpointTransportError(available, "function", "record")).toBeUndefined();
    // Core NATS publishes to live subscribers: no stream has to capture its subject.
    expect(endpointTransportError(available, "nats-core", "client.{tenant}.evt")).toBeUndefined();
    // Subjects not known yet (before connecting): only NATS being configured is checked.
    expect(
      endpointTransportError(
        { ...available, nats: { stream: "OUT", subjects: null } },
        "nats",
        "x.y",
      ),
    ).toBeUndefined();
  });

  it("refuses the rest with a stable code", () => {
    expect(endpointTransportError(available, "nats", "shipping.sent")).toMatchObject({
      code: "transport.unavailable",
      message:
        'url: the NATS subject "shipping.sent" is not captured by the stream OUT (its subjects: "billing.*.created", "orders.>")',
      details: { field: "url" },
    });
    expect(endpointTransportError({ ...available, nats: null }, "nats", "orders.a")).toMatchObject({
      code: "transport.unavailable",
      details: { field: "transport" },
    });
    expect(
      endpointTransportError({ ...available, nats: null }, "nats-core", "client.{tenant}.evt"),
    ).toMatchObject({ code: "transport.unavailable", details: { field: "transport" } });
    expect(endpointTransportError(available, "function", "toString")).toMatchObject({
      code: "function.unknown",
      message: 'url: no function "toString" in this Herald (functions: "record", "simulate")',
    });
  });
});
