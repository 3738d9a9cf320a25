// Every documented transport through the built `herald serve` and `herald worker`: NATS and
// function endpoints configured in herald.yaml deliver — to the real NATS JetStream on this
// machine (a stream of this test's own, deleted afterwards) and to a module's exported function
// — both from serve's own worker and from a separate `herald worker` (serve --no-worker); a
// source routes to the built-in `simulate`; endpoints the process cannot serve are refused at
// creation (400) or, in herald.yaml, at start (exit 2).
//
// What breaking it shows: a transport not wired into serve or worker dead-letters at once with
// transport.unavailable (the waits time out); an unchecked endpoint is created (201, not 400);
// a config error at start becomes a running server (startHerald would resolve).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSecret } from "@heraldjs/webhooks";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createTestStream, type TestStream } from "../bus/natsTestStream.js";
import {
  api,
  errorCode,
  makeTempDir,
  newStripeSecret,
  send,
  stripeHeaders,
  waitUntil,
} from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";
import { repoRoot, runHerald } from "../helpers/spawnNode.js";

const natsAvailable = await serviceAvailable("nats");

// The module herald.yaml names: each call appends a line to RECORD_FILE.
const FUNCTIONS = `
import { appendFileSync } from "node:fs";
export function record(message, context) {
  appendFileSync(process.env.RECORD_FILE, JSON.stringify({
    id: message.id, type: message.type, payload: message.payload,
    endpoint: context.endpointId, attempt: context.attempt, pid: process.pid,
  }) + "\\n");
  return { recorded: message.id };
}
`;

interface Recorded {
  id: string;
  type: string;
  payload: unknown;
  endpoint: string;
  attempt: number;
  pid: number;
}

let processes: HeraldProcess[] = [];
const dirs: Array<{ remove(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(processes.map((p) => p.kill9()));
  processes = [];
});

afterAll(async () => {
  for (const dir of dirs) await dir.remove();
});

async function tempDir(label: string): Promise<string> {
  const dir = await makeTempDir(label);
  dirs.push(dir);
  return dir.path;
}

function heraldYaml(t: TestStream): string {
  return [
    "nats:",
    `  servers: [${serviceUrl("nats")}]`,
    `  stream: ${t.stream}`,
    `  subjects: ['${t.prefix}.>']`,
    "functions:",
    "  module: ./functions.mjs",
    "worker:",
    "  poll_interval_ms: 50",
    "retry: { schedule_s: [0.1, 0.1, 0.1, 0.1] }",
    "sources:",
    "  - name: demo",
    "    scheme: stripe",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: herald.yaml's interpolation
    "    secrets: ['${DEMO_SECRET}']",
    "    type_from: { body: type }",
    "endpoints:",
    "  - id: to-nats",
    `    url: ${t.prefix}.orders`,
    "    transport: nats",
    "    event_types: [order.*]",
    "    headers: { X-Team: billing }",
    "  - id: to-fn",
    "    url: record",
    "    transport: function",
    "    event_types: [order.*]",
    "  - id: to-sim",
    "    url: simulate",
    "    transport: function",
    "    event_types: [demo.*]",
    "",
  ].join("\n");
}

async function setUp(label: string) {
  const dir = await tempDir(label);
  const t = await createTestStream(label);
  writeFileSync(join(dir, "herald.yaml"), heraldYaml(t));
  writeFileSync(join(dir, "functions.mjs"), FUNCTIONS);
  const recordFile = join(dir, "recorded.jsonl");
  writeFileSync(recordFile, "");
  const demoSecret = newStripeSecret();
  const env = { DEMO_SECRET: demoSecret, RECORD_FILE: recordFile };
  const args = ["--db", join(dir, "herald.db"), "--config", join(dir, "herald.yaml")];
  const recorded = () =>
    readFileSync(recordFile, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Recorded);
  return { dir, t, env, args, demoSecret, recorded };
}

async function storedInStream(t: TestStream, count: number) {
  await waitUntil(
    async () => (await t.count()) >= count,
    15_000,
    () => `${count} message(s) in ${t.stream}`,
  );
  const info = await t.jsm.streams.info(t.stream);
  const stored = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const message = await t.jsm.streams.getMessage(t.stream, { seq });
    if (message !== null) stored.push(message);
  }
  return stored;
}

async function deliveriesOf(base: string, messageId: string) {
  const { json } = await api(base, "GET", `/v1/messages/${messageId}`);
  return (json as { deliveries: Array<Record<string, unknown>> }).deliveries;
}

async function finalDelivery(base: string, messageId: string, endpointId: string) {
  let last: Record<string, unknown> | undefined;
  await waitUntil(
    async () => {
      last = (await deliveriesOf(base, messageId)).find((d) => d.endpoint_id === endpointId);
      return last?.status === "delivered" || last?.status === "dead_lettered";
    },
    15_000,
    () => `delivery to ${endpointId}: ${JSON.stringify(last)}`,
  );
  return last as Record<string, unknown>;
}

/** Sends order.created.v1 and checks what the NATS subscriber and the function received. */
async function orderReachesNatsAndFunction(
  base: string,
  setup: Awaited<ReturnType<typeof setUp>>,
  before: () => Promise<void> = async () => {},
) {
  const sent = await api(base, "POST", "/v1/messages", {
    type: "order.created.v1",
    payload: { id: "ord_1", total: 42, note: "grüße" },
  });
  expect(sent.status).toBe(202);
  const messageId = (sent.json as { message_id: string }).message_id;
  await before();
  const [stored] = await storedInStream(setup.t, 1);
  expect(stored?.subject).toBe(`${setup.t.prefix}.orders`);
  expect(stored?.json()).toEqual({ id: "ord_1", total: 42, note: "grüße" });
  const header = (name: string) => stored?.header.get(name);
  expect(header("content-type")).toBe("application/json");
  expect(header("x-herald-message-id")).toBe(messageId);
  expect(header("x-herald-event-type")).toBe("order.created.v1");
  expect(header("x-herald-tenant")).toBe("default");
  expect(header("x-team")).toBe("billing");
  const natsDelivery = await finalDelivery(base, messageId, "to-nats");
  expect(natsDelivery).toMatchObject({ status: "delivered", attempts: 1 });
  expect(header("x-herald-delivery-id")).toBe(natsDelivery.id);
  expect(header("Nats-Msg-Id")).toBe(natsDelivery.id);

  expect(await finalDelivery(base, messageId, "to-fn")).toMatchObject({ status: "delivered" });
  const calls = setup.recorded().filter((call) => call.id === messageId);
  expect(calls).toEqual([
    {
      id: messageId,
      type: "order.created.v1",
      payload: { id: "ord_1", total: 42, note: "grüße" },
      endpoint: "to-fn",
      attempt: 1,
      pid: expect.any(Number),
    },
  ]);
  return { messageId, calls };
}

// Skipped only when NATS is unreachable (a loud notice from serviceAvailable); under CI=true or
// HERALD_REQUIRE_SERVICES=1 serviceAvailable throws instead, failing the run.
describe.skipIf(!natsAvailable)("NATS and function endpoints from herald.yaml", () => {
  const streams: TestStream[] = [];
  afterAll(async () => {
    for (const t of streams) await t.delete();
  });

  it("herald serve delivers them, routes a source to simulate, and refuses what it cannot serve", async () => {
    const setup = await setUp("e2etransserve");
    streams.push(setup.t);
    const serve = await startHerald({ cwd: setup.dir, args: setup.args, env: setup.env });
    processes.push(serve);
    const base = serve.url as string;
    const { calls } = await orderReachesNatsAndFunction(base, setup);
    expect(calls[0]?.pid).toBe(serve.child.pid);

    // A source routes to the built-in simulate like to any endpoint.
    const webhook = async (id: string, data: Record<string, unknown>) => {
      const body = JSON.stringify({ id, type: "trial", ...data });
      const result = await send(`${base}/webhooks/demo`, {
        method: "POST",
        headers: stripeHeaders(setup.demoSecret, body),
        body,
      });
      expect(result.status).toBe(202);
      return (result.json as { message_id: string }).message_id;
    };
    const transient = await webhook("evt_t", { simulate_transient: true });
    const slow = await webhook("evt_s", { simulate_delay_ms: 300 });
    const failing = await webhook("evt_f", { simulate_failure: true });
    expect(await finalDelivery(base, transient, "to-sim")).toMatchObject({
      status: "delivered",
      attempts: 3,
    });
    const slowDelivery = await finalDelivery(base, slow, "to-sim");
    expect(slowDelivery).toMatchObject({ status: "delivered", attempts: 1 });
    const { json: slowLog } = await api(base, "GET", `/v1/deliveries/${slowDelivery.id}`);
    const [attempt] = (slowLog as { attempt_log: Array<Record<string, unknown>> }).attempt_log;
    expect(attempt?.duration_ms).toBeGreaterThanOrEqual(290);
    expect(attempt?.response_body).toBe('{"simulated":true,"attempt":1,"delayed_ms":300}');
    expect(await finalDelivery(base, failing, "to-sim")).toMatchObject({
      status: "dead_lettered",
      attempts: 5,
      max_attempts: 5,
    });

    // What this process cannot deliver to is refused at creation.
    const refused = async (body: Record<string, unknown>) =>
      errorCode(await api(base, "POST", "/v1/endpoints", { event_types: ["x.*"], ...body }));
    expect(await refused({ transport: "function", url: "nope" })).toBe("function.unknown");
    expect(await refused({ transport: "nats", url: "outside.stream" })).toBe(
      "transport.unavailable",
    );
    expect(await refused({ transport: "nats", url: `${setup.t.prefix}.more` })).toBeUndefined();
    expect(await serve.stop()).toBe(0);
  }, 60_000);

  it("a separate herald worker delivers them for serve --no-worker", async () => {
    const setup = await setUp("e2etransworker");
    streams.push(setup.t);
    const serve = await startHerald({
      cwd: setup.dir,
      args: [...setup.args, "--no-worker"],
      env: setup.env,
    });
    processes.push(serve);
    const base = serve.url as string;
    const { calls } = await orderReachesNatsAndFunction(base, setup, async () => {
      // Nothing is delivered without a worker.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await setup.t.count()).toBe(0);
      expect(setup.recorded()).toEqual([]);
      processes.push(
        await startHerald({ cwd: setup.dir, command: "worker", args: setup.args, env: setup.env }),
      );
    });
    expect(calls[0]?.pid).toBe(processes[1]?.child.pid);
    for (const p of processes) expect(await p.stop()).toBe(0);
  }, 60_000);

  it("herald.example.yaml's nats and function endpoints deliver as written", async () => {
    const dir = await tempDir("e2eexample");
    // The example's stream name, made unique: the file's subjects (billing.>) are kept.
    const t = await createTestStream("e2eexample");
    streams.push(t);
    const apiKey = "example-api-key";
    const serve = await startHerald({
      cwd: dir,
      args: ["--config", join(repoRoot, "herald.example.yaml")],
      env: {
        HERALD_EXAMPLE_API_KEY: apiKey,
        HERALD_EXAMPLE_STRIPE_SECRET: newStripeSecret(),
        HERALD_EXAMPLE_GITHUB_SECRET: "github-secret",
        HERALD_EXAMPLE_PARTNER_SECRET: "partner-secret",
        HERALD_EXAMPLE_ACME_SECRET: generateSecret("standard"),
        HERALD_EXAMPLE_CRM_TOKEN: "tok_example_0123456789",
        HERALD_NATS_URL: serviceUrl("nats"),
        HERALD_NATS_STREAM: t.stream,
      },
    });
    processes.push(serve);
    const base = serve.url as string;
    const auth = { authorization: `Bearer ${apiKey}` };
    const order = await api(
      base,
      "POST",
      "/v1/messages",
      { type: "order.created.v1", payload: { id: "ord_9", total: 9.5 } },
      auth,
    );
    expect(order.status).toBe(202);
    const [stored] = await storedInStream(t, 1);
    expect(stored?.subject).toBe("billing.orders");
    expect(stored?.json()).toEqual({ id: "ord_9", total: 9.5 });
    // The built-in simulate endpoint of the example (demo.*).
    const demo = await api(
      base,
      "POST",
      "/v1/messages",
      { type: "demo.hello", payload: { simulate_delay_ms: 10 } },
      auth,
    );
    const messageId = (demo.json as { message_id: string }).message_id;
    let status: string | undefined;
    await waitUntil(
      async () => {
        const { json } = await api(base, "GET", `/v1/messages/${messageId}`, undefined, auth);
        const { deliveries } = json as {
          deliveries: Array<{ endpoint_id: string; status: string }>;
        };
        status = deliveries.find((d) => d.endpoint_id === "try-simulate")?.status;
        return status === "delivered";
      },
      15_000,
      () => `try-simulate: ${status}`,
    );
    // The example's token source takes a webhook with its token, and only with it.
    const webhook = (token: string) =>
      send(`${base}/webhooks/crm`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${token}`,
          "idempotency-key": "evt-1",
        },
        body: JSON.stringify({ event: "contact.created" }),
      });
    expect((await webhook("tok_example_0123456789")).status).toBe(202);
    expect((await webhook("tok_example_wrong_token")).status).toBe(401);
    expect(await serve.stop()).toBe(0);
  }, 60_000);

  it("herald serve does not start when NATS cannot be reached (exit 1)", async () => {
    const dir = await tempDir("e2enatsdown");
    writeFileSync(
      join(dir, "herald.yaml"),
      "nats:\n  servers: [nats://127.0.0.1:1]\n  subjects: [down.>]\n",
    );
    const run = await runHerald(["serve", "--port", "0", "--db", join(dir, "h.db")], {
      cwd: dir,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("error: bus.unavailable: Cannot connect to NATS at");
  }, 30_000);
});

describe("without NATS configured", () => {
  it("refuses a nats endpoint at creation, and a nats or unknown-function endpoint in herald.yaml at start", async () => {
    const dir = await tempDir("e2enonats");
    // A module hook that fails the process if anything loads the NATS client: without NATS
    // configured, herald serve must not.
    writeFileSync(
      join(dir, "no-nats-hooks.mjs"),
      'export async function resolve(specifier, context, next) {\n  if (specifier.startsWith("@nats-io/")) throw new Error("NATS client loaded: " + specifier);\n  return next(specifier, context);\n}\n',
    );
    writeFileSync(
      join(dir, "no-nats.mjs"),
      'import { register } from "node:module";\nregister("./no-nats-hooks.mjs", import.meta.url);\n',
    );
    const serve = await startHerald({
      cwd: dir,
      args: ["--db", join(dir, "h.db")],
      env: { NODE_OPTIONS: `--import ${join(dir, "no-nats.mjs")}` },
    });
    processes.push(serve);
    const created = await api(serve.url as string, "POST", "/v1/endpoints", {
      url: "orders.created",
      transport: "nats",
      event_types: ["order.*"],
    });
    expect(created.status).toBe(400);
    expect(errorCode(created)).toBe("transport.unavailable");
    const simulate = await api(serve.url as string, "POST", "/v1/endpoints", {
      url: "simulate",
      transport: "function",
      event_types: ["order.*"],
    });
    expect(simulate.status).toBe(201);
    expect(await serve.stop()).toBe(0);

    const endpoint = (transport: string, url: string) =>
      `endpoints:\n  - id: e\n    url: ${url}\n    transport: ${transport}\n    event_types: [a.b]\n`;
    const cases: Array<[string, string]> = [
      [endpoint("nats", "a.b"), "herald.yaml:4:5: endpoints[0].transport: this Herald has no NATS"],
      [endpoint("function", "missing"), 'herald.yaml:3:5: endpoints[0].url: no function "missing"'],
      ["functions:\n  module: ./gone.mjs\n", "herald.yaml:2:3: functions.module: "],
    ];
    for (const [yaml, message] of cases) {
      writeFileSync(join(dir, "herald.yaml"), yaml);
      const run = await runHerald(["serve", "--port", "0", "--db", join(dir, "h.db")], {
        cwd: dir,
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`error: config.invalid: ${message}`);
    }
  }, 60_000);
});
