// loadConfig: file discovery, the full file mapped to store inputs, interpolation, environment
// overrides, and secrets kept out of every message.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is herald.yaml's syntax.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CONFIG_DEFAULTS, loadConfig } from "../../packages/server/src/config/index.js";
import { configDir, rejection, removeConfigDirs, STANDARD_SECRET } from "./helpers.js";

afterAll(removeConfigDirs);

const FULL = `
server:
  host: 0.0.0.0
  port: 9090
  api_key: \${API_KEY}
  body_limit_bytes: 1048576
  request_deadline_ms: 5000
database: postgres://herald@db:5432/herald
retry:
  schedule_s: [0.5, 5, 60]
  jitter: 0.1
ssrf:
  allow: [127.0.0.0/8, "::1/128"]
worker:
  enabled: false
  concurrency: 4
  lease_ms: 30000
  poll_interval_ms: 250
ingest:
  max_batch: 64
  max_wait_ms: 5
log:
  level: debug
catalog:
  closed: true
nats:
  servers: [nats://n1:4222, nats://n2:4222]
  user: herald
  password: \${NATS_PASSWORD}
  stream: ORDERS
  subjects: [orders.>]
event_types:
  - name: order.created.v1
    description: Placed
    schema: { type: object, required: [id] }
    deprecated: true
sources:
  - name: stripe
    scheme: stripe
    secrets: ["\${STRIPE_SECRET}"]
    tolerance_s: 60
    idempotency_header: Idempotency-Key
    idempotency_required: true
    dedupe_ttl_s: 3600
    type_from: { body: type }
  - name: partner
    scheme: hmac
    scheme_options: { signature_header: X-Sig, timestamp_header: X-Ts, algorithm: sha512 }
    secrets: [partner-secret]
endpoints:
  - id: acme
    url: https://hooks.acme.example/in
    event_types: [order.*]
    tenant: acme
    description: Acme
    secret: ${STANDARD_SECRET}
    headers: { X-Customer: acme }
    timeout_ms: 5000
    retry: { backoff: exponential, base_s: 30, max_attempts: 5 }
    rate_limit_per_s: 10
    max_in_flight: 4
    ordered: true
    enabled: false
  - id: bus
    url: orders.created
    transport: nats
    event_types: [order.created.v1]
`;

describe("loadConfig", () => {
  it("maps a full file to a typed config with store inputs", async () => {
    const cwd = configDir(FULL);
    const config = await loadConfig({
      cwd,
      env: { API_KEY: "key-1", STRIPE_SECRET: "whsec_stripe", NATS_PASSWORD: "nats-pw" },
    });
    const { endpoints, ...rest } = config;
    expect(rest).toEqual({
      file: join(cwd, "herald.yaml"),
      server: {
        host: "0.0.0.0",
        port: 9090,
        apiKey: "key-1",
        bodyLimitBytes: 1_048_576,
        maxInFlightBodyBytes: 33_554_432,
        bodyTimeoutMs: 10_000,
        requestDeadlineMs: 5_000,
      },
      database: "postgres://herald@db:5432/herald",
      retry: { schedule_s: [0.5, 5, 60], jitter: 0.1 },
      ssrfAllow: ["127.0.0.0/8", "::1/128"],
      worker: { enabled: false, concurrency: 4, leaseMs: 30_000, pollIntervalMs: 250 },
      ingest: { maxBatch: 64, maxWaitMs: 5, allowUnsigned: false },
      logLevel: "debug",
      catalog: { closed: true },
      streams: { pollMs: 200, heartbeatMs: 15_000, maxBufferedBytes: 1_048_576, retryMs: 1000 },
      nats: {
        servers: ["nats://n1:4222", "nats://n2:4222"],
        credsFile: null,
        user: "herald",
        password: "nats-pw",
        token: null,
        stream: "ORDERS",
        subjects: ["orders.>"],
      },
      functions: null,
      aws: { region: null, endpoint: null },
      eventStore: { backend: "database" },
      eventTypes: [
        {
          name: "order.created.v1",
          description: "Placed",
          schema: { type: "object", required: ["id"] },
          deprecated: true,
        },
      ],
      sources: [
        {
          name: "stripe",
          scheme: "stripe",
          schemeOptions: null,
          secrets: ["whsec_stripe"],
          toleranceS: 60,
          idempotencyHeader: "Idempotency-Key",
          idempotencyRequired: true,
          dedupeTtlS: 3600,
          typeFrom: { body: "type" },
          allowFrom: [],
        },
        {
          name: "partner",
          scheme: "hmac",
          schemeOptions: { signatureHeader: "X-Sig", timestampHeader: "X-Ts", algorithm: "sha512" },
          secrets: ["partner-secret"],
          toleranceS: 300,
          idempotencyHeader: null,
          idempotencyRequired: false,
          dedupeTtlS: 259_200,
          typeFrom: { fixed: "received" },
          allowFrom: [],
        },
      ],
    });
    expect(endpoints).toEqual([
      {
        secretGiven: true,
        input: {
          id: "acme",
          transport: "http",
          target: "https://hooks.acme.example/in",
          eventTypes: ["order.*"],
          scheme: "standard",
          schemeOptions: null,
          secrets: [{ secret: STANDARD_SECRET }],
          tenant: "acme",
          description: "Acme",
          headers: { "X-Customer": "acme" },
          timeoutMs: 5000,
          retry: { backoff: "exponential", base_s: 30, max_attempts: 5 },
          rateLimitPerS: 10,
          maxInFlight: 4,
          ordered: true,
          enabled: false,
        },
      },
      {
        secretGiven: false,
        input: {
          id: "bus",
          transport: "nats",
          target: "orders.created",
          eventTypes: ["order.created.v1"],
          scheme: "standard",
          schemeOptions: null,
          secrets: [{ secret: expect.stringMatching(/^whsec_/) }],
        },
      },
    ]);
  });

  it("uses the defaults without a file", async () => {
    const config = await loadConfig({ cwd: configDir(), env: {} });
    expect(config).toEqual({
      file: null,
      server: {
        host: "127.0.0.1",
        port: 8080,
        apiKey: null,
        bodyLimitBytes: 2_097_152,
        maxInFlightBodyBytes: 33_554_432,
        bodyTimeoutMs: 10_000,
        requestDeadlineMs: 8_000,
      },
      database: null,
      retry: null,
      ssrfAllow: [],
      worker: { enabled: true, concurrency: 50, leaseMs: 60_000, pollIntervalMs: 1000 },
      ingest: { maxBatch: 256, maxWaitMs: 0, allowUnsigned: false },
      logLevel: "info",
      catalog: { closed: false },
      streams: { pollMs: 200, heartbeatMs: 15_000, maxBufferedBytes: 1_048_576, retryMs: 1000 },
      eventTypes: [],
      sources: [],
      endpoints: [],
      nats: null,
      functions: null,
      aws: { region: null, endpoint: null },
      eventStore: { backend: "database" },
    });
    expect(config.server.port).toBe(CONFIG_DEFAULTS.port);
  });

  it("treats an empty file and empty sections as defaults", async () => {
    const empty = await loadConfig({ cwd: configDir(""), env: {} });
    const sections = await loadConfig({
      cwd: configDir("server:\nworker:\nsources:\nendpoints:\n"),
      env: {},
    });
    expect({ ...sections, file: null }).toEqual({ ...empty, file: null });
    expect(empty.server.port).toBe(8080);
  });

  it("prefers options.path over HERALD_CONFIG over ./herald.yaml", async () => {
    const cwd = configDir("log:\n  level: warn\n");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(cwd, "a.yaml"), "log:\n  level: error\n");
    writeFileSync(join(cwd, "b.yaml"), "log:\n  level: trace\n");
    expect((await loadConfig({ cwd, env: {} })).logLevel).toBe("warn");
    expect((await loadConfig({ cwd, env: { HERALD_CONFIG: "b.yaml" } })).logLevel).toBe("trace");
    const both = await loadConfig({ cwd, path: "a.yaml", env: { HERALD_CONFIG: "b.yaml" } });
    expect(both.logLevel).toBe("error");
    expect(both.file).toBe(join(cwd, "a.yaml"));
    const absolute = await loadConfig({ cwd: configDir(), path: join(cwd, "b.yaml"), env: {} });
    expect(absolute.logLevel).toBe("trace");
  });
});

describe("${NAME} interpolation", () => {
  it("replaces references inside strings and keeps $${ literal", async () => {
    const yaml = [
      "database: postgres://herald:${DB_PASSWORD}@${DB_HOST}:5432/herald",
      "endpoints:",
      "  - id: a",
      "    url: https://x.example/${TENANT}/in",
      "    event_types: [a.b]",
      '    headers: { X-Template: "$${NOT_A_VAR} and $$ and $5" }',
    ].join("\n");
    const config = await loadConfig({
      cwd: configDir(yaml),
      env: { DB_PASSWORD: "pw", DB_HOST: "db", TENANT: "acme" },
    });
    expect(config.database).toBe("postgres://herald:pw@db:5432/herald");
    expect(config.endpoints[0]!.input.target).toBe("https://x.example/acme/in");
    expect(config.endpoints[0]!.input.headers).toEqual({
      "X-Template": "${NOT_A_VAR} and $$ and $5",
    });
  });

  it("leaves the webhooks spec (webhooks:, info:) as written, set or not", async () => {
    const yaml = [
      "database: ${DB}",
      'info: { title: "${TITLE}" }',
      "webhooks:",
      '  - { name: a, direction: in, signing: github, description: "${UNSET}", events: [{ type: push }] }',
    ].join("\n");
    const config = await loadConfig({ cwd: configDir(yaml), env: { DB: "./x.db" } });
    expect(config.database).toBe("./x.db");
  });

  it("types an unquoted whole reference as a number or boolean; quoted ones stay strings", async () => {
    const yaml = "server:\n  port: ${PORT}\nworker:\n  enabled: ${ON}\n  concurrency: '${N}'\n";
    const config = await loadConfig({
      cwd: configDir(yaml),
      env: { PORT: "9000", ON: "false" },
    }).catch((error: Error) => error);
    expect(config).toBeInstanceOf(Error);
    expect((config as Error).message).toBe(
      "herald.yaml:5:16: worker.concurrency: environment variable N is not set",
    );
    const ok = await loadConfig({
      cwd: configDir("server:\n  port: ${PORT}\nworker:\n  enabled: ${ON}\n"),
      env: { PORT: "9000", ON: "false" },
    });
    expect(ok.server.port).toBe(9000);
    expect(ok.worker.enabled).toBe(false);
    const quoted = await rejection(
      loadConfig({ cwd: configDir('server:\n  port: "${PORT}"\n'), env: { PORT: "9000" } }),
    );
    expect(quoted.message).toBe("herald.yaml:2:3: server.port: must be a number (got a string)");
  });

  it("names the key, line and variable of an unset reference", async () => {
    const yaml =
      "sources:\n  - name: s\n    scheme: stripe\n    secrets:\n      - ${STRIPE_SECRET}\n";
    const error = await rejection(loadConfig({ cwd: configDir(yaml), env: {} }));
    expect(error.message).toBe(
      "herald.yaml:5:9: sources[0].secrets[0]: environment variable STRIPE_SECRET is not set",
    );
  });
});

describe("environment overrides", () => {
  const yaml =
    "server:\n  host: 0.0.0.0\n  port: 9090\n  api_key: from-file\ndatabase: ./file.db\nssrf:\n  allow: [10.0.0.0/8]\nlog:\n  level: warn\n";

  it("override the file", async () => {
    const config = await loadConfig({
      cwd: configDir(yaml),
      env: {
        HERALD_DB: "postgres://env/db",
        HERALD_HOST: "::",
        HERALD_PORT: "7070",
        HERALD_API_KEY: "from-env",
        HERALD_SSRF_ALLOW: "127.0.0.0/8, ::1/128",
        HERALD_LOG_LEVEL: "error",
      },
    });
    expect(config.database).toBe("postgres://env/db");
    expect(config.server).toEqual({
      host: "::",
      port: 7070,
      apiKey: "from-env",
      bodyLimitBytes: 2_097_152,
      maxInFlightBodyBytes: 33_554_432,
      bodyTimeoutMs: 10_000,
      requestDeadlineMs: 8_000,
    });
    expect(config.ssrfAllow).toEqual(["127.0.0.0/8", "::1/128"]);
    expect(config.logLevel).toBe("error");
  });

  it("HERALD_CATALOG_CLOSED closes or opens the catalogue", async () => {
    const closedFile = configDir("catalog:\n  closed: true\n");
    for (const [value, closed] of [
      ["true", true],
      ["1", true],
      ["false", false],
      ["0", false],
    ] as const) {
      const config = await loadConfig({ cwd: closedFile, env: { HERALD_CATALOG_CLOSED: value } });
      expect(config.catalog).toEqual({ closed });
    }
    expect((await loadConfig({ cwd: closedFile, env: {} })).catalog).toEqual({ closed: true });
  });

  it("apply without a file, and empty values count as unset", async () => {
    const config = await loadConfig({
      cwd: configDir(),
      env: { HERALD_PORT: "1234", HERALD_DB: "", HERALD_API_KEY: "" },
    });
    expect(config.server.port).toBe(1234);
    expect(config.database).toBeNull();
    expect(config.server.apiKey).toBeNull();
  });

  it.each([
    [
      "HERALD_PORT",
      "eighty",
      'Environment variable HERALD_PORT: must be an integer from 0 to 65535 (got "eighty")',
    ],
    [
      "HERALD_PORT",
      "65536",
      'Environment variable HERALD_PORT: must be an integer from 0 to 65535 (got "65536")',
    ],
    [
      "HERALD_HOST",
      "a b",
      "Environment variable HERALD_HOST: must be a host name or address without white space",
    ],
    [
      "HERALD_LOG_LEVEL",
      "loud",
      'Environment variable HERALD_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    ],
    [
      "HERALD_CATALOG_CLOSED",
      "yes",
      'Environment variable HERALD_CATALOG_CLOSED: must be true, false, 1 or 0 (got "yes")',
    ],
    [
      "HERALD_SSRF_ALLOW",
      "10.0.0.0/8,nope",
      'Environment variable HERALD_SSRF_ALLOW: Invalid SSRF allowlist entry "nope": not an IPv4 or IPv6 address (expected a CIDR)',
    ],
  ])("refuse a bad %s (%s)", async (name, value, message) => {
    const error = await rejection(loadConfig({ cwd: configDir(yaml), env: { [name]: value } }));
    expect(error.code).toBe("config.invalid");
    expect(error.details).toMatchObject({ variable: name });
    expect(error.message).toBe(message);
  });
});

describe("secrets stay out of messages", () => {
  const SECRET = "s3cr3t-VALUE-never-shown";

  it.each([
    ["an api_key of the wrong type", `server:\n  api_key: [${SECRET}]\n`],
    ["an api_key too long", `server:\n  api_key: ${SECRET.repeat(60)}\n`],
    [
      "a source secret of the wrong type",
      `sources:\n  - name: s\n    scheme: stripe\n    secrets: [{${SECRET}: 1}]\n`,
    ],
    [
      "an endpoint secret the scheme cannot use",
      `endpoints:\n  - id: a\n    url: https://x.example\n    event_types: [a.b]\n    secret: whsec_${SECRET}!\n`,
    ],
    ["an unterminated quote after a secret", `server:\n  api_key: "${SECRET}\n`],
    ["a secret as an unknown key's value", `server:\n  apikey: ${SECRET}\n`],
  ])("%s", async (_name, yaml) => {
    const error = await rejection(loadConfig({ cwd: configDir(yaml), env: {} }));
    expect(error.code).toBe("config.invalid");
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(error.details)).not.toContain(SECRET);
  });

  it("never shows HERALD_API_KEY", async () => {
    const error = await rejection(
      loadConfig({ cwd: configDir(), env: { HERALD_API_KEY: SECRET.repeat(50) } }),
    );
    expect(error.message).toBe(
      "Environment variable HERALD_API_KEY: must be at most 1024 characters",
    );
  });
});

describe("herald.example.yaml", () => {
  const env = {
    HERALD_EXAMPLE_API_KEY: "api-key",
    HERALD_EXAMPLE_STRIPE_SECRET: "whsec_stripe",
    HERALD_EXAMPLE_GITHUB_SECRET: "github-secret",
    HERALD_EXAMPLE_PARTNER_SECRET: "partner-secret",
    HERALD_EXAMPLE_ACME_SECRET: STANDARD_SECRET,
    HERALD_EXAMPLE_CRM_TOKEN: "tok_example_0123456789",
  };
  const root = new URL("../../", import.meta.url).pathname;

  it("loads", async () => {
    const config = await loadConfig({ cwd: root, path: "herald.example.yaml", env });
    expect(config.server.apiKey).toBe("api-key");
    expect(config.sources.map((s) => s.name)).toEqual(["stripe", "github", "partner", "crm"]);
    expect(config.endpoints.map((e) => e.input.id)).toEqual([
      "acme-orders",
      "billing-bus",
      "audit",
      "try-simulate",
    ]);
    expect(config.nats).toMatchObject({
      servers: ["nats://127.0.0.1:4222"],
      stream: "HERALD_WEBHOOKS",
      subjects: ["billing.>"],
    });
    expect(config.functions?.module).toBe(join(root, "examples/functions/herald-functions.mjs"));
    expect([...(config.functions?.functions.keys() ?? [])]).toEqual(["auditLog"]);
    expect(config.aws).toEqual({ region: "us-east-1", endpoint: null });
    expect(config.eventStore).toEqual({ backend: "database" });
    expect(config.eventTypes.map((e) => e.name)).toEqual([
      "order.created.v1",
      "order.cancelled.v1",
    ]);
  });

  it("is shown in docs/config.md verbatim", () => {
    const doc = readFileSync(join(root, "docs/config.md"), "utf8");
    const block = /<!-- example: herald\.example\.yaml -->\n```yaml\n([\s\S]*?)```/.exec(doc);
    expect(block?.[1]).toBe(readFileSync(join(root, "herald.example.yaml"), "utf8"));
  });

  it("documents every key of the file schema in docs/config.md", async () => {
    const { configFileSchema } = await import("../../packages/server/src/config/index.js");
    const doc = readFileSync(join(root, "docs/config.md"), "utf8");
    const keys: string[] = [];
    for (const [section, schema] of Object.entries(configFileSchema.shape)) {
      keys.push(section);
      const inner = (schema as { unwrap?: () => unknown }).unwrap?.();
      const shape = (inner as { unwrap?: () => { shape?: object } } | undefined)?.unwrap?.()?.shape;
      if (shape !== undefined) for (const key of Object.keys(shape)) keys.push(`${section}.${key}`);
    }
    expect(keys.length).toBeGreaterThan(20);
    const missing = keys.filter((key) => !doc.includes(`\`${key}\``));
    expect(missing).toEqual([]);
  });
});
