// Every kind of bad herald.yaml gives one config.invalid message naming the file, the
// line:column and the key path.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is herald.yaml's syntax.
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../packages/server/src/config/index.js";
import { configDir, rejection, removeConfigDirs } from "./helpers.js";

afterAll(removeConfigDirs);

const ep = (extra = "") =>
  `endpoints:\n  - id: a\n    url: https://x.example\n    event_types: [a.b]\n${extra}`;

// [name, file text, exact message]
const cases: [string, string, string][] = [
  [
    "YAML syntax error",
    "server:\n  port: [1, 2\n",
    "herald.yaml:3:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
  ],
  [
    "duplicate key",
    "server:\n  port: 1\n  port: 2\n",
    "herald.yaml:3:3: YAML syntax error: Map keys must be unique",
  ],
  ["unknown top-level key", "servr:\n  port: 1\n", "herald.yaml:1:1: servr: is not a known key"],
  [
    "unknown nested key",
    "server:\n  prot: 8080\n",
    "herald.yaml:2:3: server.prot: is not a known key",
  ],
  [
    "port out of range",
    "server:\n  port: 70000\n",
    "herald.yaml:2:3: server.port: must be ≤ 65535",
  ],
  [
    "port of the wrong type",
    "server:\n  port: eighty\n",
    "herald.yaml:2:3: server.port: must be a number (got a string)",
  ],
  [
    "unknown log level",
    "log:\n  level: loud\n",
    'herald.yaml:2:3: log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent"',
  ],
  [
    "http endpoint without an http(s) URL",
    "endpoints:\n  - id: a\n    url: ftp://x\n    event_types: [a.b]\n",
    "herald.yaml:3:5: endpoints[0].url: must be an absolute http(s) URL",
  ],
  [
    "nats endpoint with a wildcard subject",
    'endpoints:\n  - id: a\n    url: "orders.*"\n    transport: nats\n    event_types: [a.b]\n',
    "herald.yaml:3:5: endpoints[0].url: must be a NATS subject (dot-separated tokens, no wildcards)",
  ],
  [
    "endpoint without an id",
    "endpoints:\n  - url: https://x.example\n    event_types: [a.b]\n",
    "herald.yaml:2:5: endpoints[0].id: is required",
  ],
  [
    "timeout too long on the second endpoint",
    `${ep()}  - id: b\n    url: https://y.example\n    event_types: [a.b]\n    timeout_ms: 900000\n`,
    "herald.yaml:8:5: endpoints[1].timeout_ms: must be ≤ 300000",
  ],
  [
    "no event types",
    "endpoints:\n  - id: a\n    url: https://x.example\n    event_types: []\n",
    "herald.yaml:4:5: endpoints[0].event_types: must have at least 1 item",
  ],
  [
    "bad event-type pattern",
    'endpoints:\n  - id: a\n    url: https://x.example\n    event_types: ["order**"]\n',
    'herald.yaml:4:19: endpoints[0].event_types[0]: must be a type pattern like order.* (dot-separated segments, "*" as a whole segment)',
  ],
  [
    "bad header name",
    ep('    headers: {"X Y": a}\n'),
    'herald.yaml:5:15: endpoints[0].headers["X Y"]: is not a valid key: must be an HTTP header name (letters, digits, -…)',
  ],
  [
    "retry attempts not an integer",
    ep("    retry: {backoff: linear, base_s: 1, max_attempts: 1.5}\n"),
    "herald.yaml:5:41: endpoints[0].retry.max_attempts: must be an integer (got a number)",
  ],
  [
    "source name unfit for a URL",
    "sources:\n  - name: has space\n    scheme: stripe\n",
    "herald.yaml:2:5: sources[0].name: must be 1–64 characters of A–Z, a–z, 0–9, _, - and .",
  ],
  [
    "unknown scheme",
    "sources:\n  - name: s\n    scheme: stripey\n",
    'herald.yaml:3:5: sources[0].scheme: must be one of "standard", "stripe", "github", "slack", "shopify", "twilio", "eventing", "hmac", "token", "basic", "none"',
  ],
  [
    "scheme_options on a scheme other than hmac",
    "sources:\n  - name: s\n    scheme: stripe\n    secrets: [k]\n    scheme_options: {algorithm: sha256}\n",
    'herald.yaml:5:5: sources[0].scheme_options: is only allowed with scheme "hmac" (scheme is "stripe")',
  ],
  [
    "hmac template signing a timestamp without its header",
    'sources:\n  - name: s\n    scheme: hmac\n    secrets: [k]\n    scheme_options:\n      template: "{timestamp}.{body}"\n',
    "herald.yaml:6:7: sources[0].scheme_options.template: uses {timestamp} but timestamp_header is not set",
  ],
  [
    "misspelt backoff",
    "retry:\n  backoff: exponentail\n  base_s: 1\n  max_attempts: 3\n",
    'herald.yaml:2:3: retry.backoff: must be one of "exponential", "linear"',
  ],
  [
    "empty retry policy",
    "retry: {}\n",
    'herald.yaml:1:1: retry: must be {schedule_s: [seconds, …]} or {backoff: "exponential" | "linear", base_s, max_attempts}',
  ],
  [
    "negative delay in a schedule",
    "retry:\n  schedule_s: [5, -1]\n",
    "herald.yaml:2:19: retry.schedule_s[1]: must be ≥ 0",
  ],
  [
    "a source without secrets (every webhook would be refused)",
    "sources:\n  - name: s\n    scheme: github\n",
    "herald.yaml:2:5: sources[0].secrets: needs at least one secret",
  ],
  [
    "type_from of no known form",
    "sources:\n  - name: s\n    scheme: github\n    secrets: [k]\n    type_from: {bdy: type}\n",
    'herald.yaml:5:5: sources[0].type_from: must be {body: "json.path"}, {header: "Header-Name"} or {fixed: "type"}',
  ],
  [
    "duplicate source names",
    "sources:\n  - {name: s, scheme: github, secrets: [k]}\n  - {name: t, scheme: github, secrets: [k]}\n  - name: s\n    scheme: stripe\n    secrets: [k]\n",
    'herald.yaml:4:5: sources[2].name: duplicate source name "s": already used by sources[0].name at line 2',
  ],
  [
    "duplicate endpoint ids",
    `${ep()}  - id: a\n    url: https://y.example\n    event_types: [a.b]\n`,
    'herald.yaml:5:5: endpoints[1].id: duplicate endpoint id "a": already used by endpoints[0].id at line 2',
  ],
  [
    "duplicate event types",
    "event_types:\n  - name: a.b.v1\n  - name: a.b.v1\n",
    'herald.yaml:3:5: event_types[1].name: duplicate event type "a.b.v1": already used by event_types[0].name at line 2',
  ],
  [
    "bad CIDR in the SSRF allowlist",
    "ssrf:\n  allow: [10.0.0.0/8, 10.0.0.0/33]\n",
    'herald.yaml:2:23: ssrf.allow[1]: Invalid SSRF allowlist entry "10.0.0.0/33": the prefix length must be 0..32',
  ],
  [
    "uncompilable JSON Schema",
    "event_types:\n  - name: a.b.v1\n    schema: {type: 5}\n",
    "herald.yaml:3:5: event_types[0].schema: is not a valid JSON Schema: schema is invalid: data/type must be equal to one of the allowed values, data/type must be array, data/type must match a schema in anyOf",
  ],
  [
    "unset environment variable",
    "server:\n  api_key: ${NOPE}\n",
    "herald.yaml:2:12: server.api_key: environment variable NOPE is not set",
  ],
  [
    "invalid variable reference",
    "server:\n  api_key: ${1X}\n",
    "herald.yaml:2:12: server.api_key: ${1X} is not a valid variable reference (letters, digits and _)",
  ],
  [
    "unterminated reference",
    'server:\n  api_key: "${X"\n',
    "herald.yaml:2:12: server.api_key: unterminated ${ (write $${ for a literal ${)",
  ],
  [
    "a source secret its scheme cannot verify with (the API's rule)",
    'sources:\n  - name: s\n    scheme: standard\n    secrets: ["whsec_AAAA", "not base64!"]\n',
    "herald.yaml:4:29: sources[0].secrets[1]: is not a usable standard secret: Invalid secret: a whsec_ secret must be followed by standard base64",
  ],
  [
    "a variable named like an Object.prototype member is just unset",
    "server:\n  api_key: ${constructor}\n",
    "herald.yaml:2:12: server.api_key: environment variable constructor is not set",
  ],
  [
    "a list instead of a mapping",
    "- a\n",
    "herald.yaml:1:1: must be an object (a mapping) (got a list)",
  ],
];

describe("bad herald.yaml", () => {
  it("covers at least 15 kinds of mistakes", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)("%s", async (_name, yaml, message) => {
    const error = await rejection(loadConfig({ cwd: configDir(yaml), env: { X: "1" } }));
    expect(error.code).toBe("config.invalid");
    expect(error.message).toBe(message);
    expect(error.details?.file).toBe("herald.yaml");
    const [, line, column] = /^herald\.yaml:(\d+):(\d+)/.exec(message)!;
    expect(error.details).toMatchObject({ line: Number(line), column: Number(column) });
  });

  it("lists every issue in details, the first in the message", async () => {
    const yaml = "server:\n  port: -1\n  body_limit_bytes: 0\nlog:\n  level: 3\n";
    const error = await rejection(loadConfig({ cwd: configDir(yaml), env: {} }));
    expect(error.message).toBe("herald.yaml:2:3: server.port: must be ≥ 0");
    expect(error.details?.issues).toEqual([
      { field: "server.port", message: "must be ≥ 0" },
      { field: "server.body_limit_bytes", message: "must be ≥ 1" },
      {
        field: "log.level",
        message: 'must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent"',
      },
    ]);
  });

  it("refuses a request deadline outside 500–60000 ms, naming the field", async () => {
    for (const [value, message] of [
      ["100", "must be ≥ 500"],
      ["120000", "must be ≤ 60000"],
      ["1500.5", "must be an integer (got a number)"],
    ] as const) {
      const yaml = `server:\n  request_deadline_ms: ${value}\n`;
      const error = await rejection(loadConfig({ cwd: configDir(yaml), env: {} }));
      expect(error.code).toBe("config.invalid");
      expect(error.details?.issues).toEqual([{ field: "server.request_deadline_ms", message }]);
    }
  });

  it("names the file as given when it comes from options.path or HERALD_CONFIG", async () => {
    const cwd = configDir("log:\n  level: loud\n", "custom.yaml");
    const viaPath = await rejection(loadConfig({ cwd, path: "custom.yaml", env: {} }));
    expect(viaPath.message).toMatch(/^custom\.yaml:2:3: log\.level: /);
    const viaEnv = await rejection(loadConfig({ cwd, env: { HERALD_CONFIG: "custom.yaml" } }));
    expect(viaEnv.message).toMatch(/^custom\.yaml:2:3: log\.level: /);
  });

  it("refuses an explicitly named file that does not exist", async () => {
    const cwd = configDir();
    const viaPath = await rejection(loadConfig({ cwd, path: "missing.yaml", env: {} }));
    expect(viaPath.code).toBe("config.invalid");
    expect(viaPath.message).toBe("Config file missing.yaml does not exist");
    const viaEnv = await rejection(loadConfig({ cwd, env: { HERALD_CONFIG: "gone.yaml" } }));
    expect(viaEnv.message).toBe("Config file gone.yaml (HERALD_CONFIG) does not exist");
  });
});
