// The store commands (replay, deliveries, messages show, endpoints, sources) in-process through
// runCli against a temporary SQLite file seeded through the store API, on a manual clock shared
// by the seed and the CLI.
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { replayEndpoint } from "../../packages/server/src/cli/commands/replay.js";
import { createIo } from "../../packages/server/src/cli/io.js";
import { runCli } from "../../packages/server/src/cli/main.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { HeraldError } from "../../packages/webhooks/src/core/errors.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";
import { type MigratedSqlite, migratedSqlite, tempSqlitePath } from "../helpers/sqlite.js";
import { seedDeliveries } from "./storeSeed.js";

const START = Date.parse("2025-03-01T10:00:00.000Z");

let sqlite: MigratedSqlite;
let store: DeliveryStore;
let clock: ManualClock;

beforeEach(() => {
  sqlite = migratedSqlite();
  clock = new ManualClock(START);
  store = createSqliteDeliveryStore(sqlite.db, { clock });
});
afterEach(() => sqlite.cleanup());

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCliCaptured([...args, "--db", sqlite.path], { env, clock });
}

function json<T = Record<string, unknown>>(run: CliRun): T {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

async function endpoint(id = "ep_orders", tenant = "acme") {
  return store.createEndpoint({
    id,
    tenant,
    target: `https://receiver.example/${id}`,
    eventTypes: ["order.*"],
    secrets: [{ secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }],
  });
}

const DELIVERY_KEYS = [
  "id",
  "message_id",
  "endpoint_id",
  "status",
  "attempts",
  "max_attempts",
  "next_retry_at",
  "last_error",
  "last_status_code",
  "created_at",
  "updated_at",
];

describe("a fresh database", () => {
  const files: { cleanup(): void }[] = [];
  afterAll(() => {
    for (const file of files) file.cleanup();
  });

  it("is created and migrated by any store command", async () => {
    const file = tempSqlitePath();
    files.push(file);
    const run = await runCliCaptured(["deliveries", "--db", file.path, "--json"]);
    expect(JSON.parse(run.stdout)).toEqual({ data: [], next_cursor: null });
    const text = await runCliCaptured(["endpoints", "list"], { env: { HERALD_DB: file.path } });
    expect(text).toEqual({ code: 0, stdout: "no endpoints\n", stderr: "" });
  });

  it("reports a database it cannot open as store.unavailable (exit 1, JSON too)", async () => {
    const run = await runCliCaptured(["deliveries", "--db", "/nonexistent-dir/h.db", "--json"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: store\.unavailable: /);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: "store.unavailable" } });
  });

  it("refuses a bad --db as a usage error", async () => {
    const run = await runCliCaptured(["deliveries", "--db", "mysql://x/y"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: cli\.invalid_argument: Unsupported database URL/);
  });
});

describe("herald deliveries", () => {
  it("prints a table, newest first, with attempts, next attempt and last error", async () => {
    await endpoint();
    const [dead] = await seedDeliveries(store, clock, "ep_orders", 1, "dead_lettered");
    const [retrying] = await seedDeliveries(store, clock, "ep_orders", 1, "retrying");
    const [pending] = await seedDeliveries(store, clock, "ep_orders", 1, "pending");
    const run = await cli(["deliveries"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+ENDPOINT\s+ATTEMPTS\s+NEXT ATTEMPT\s+LAST ERROR$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual([
      pending!.id,
      retrying!.id,
      dead!.id,
    ]);
    expect(lines[1]).toMatch(/pending\s+ep_orders\s+0\/2\s+2025-03-01T10:00:02Z\s+-$/);
    expect(lines[2]).toMatch(
      /retrying\s+ep_orders\s+1\/2\s+2025-03-01T11:00:02Z\s+HTTP 503 Service Unavailable$/,
    );
    expect(lines[3]).toMatch(/dead_lettered\s+ep_orders\s+1\/2\s+-\s+HTTP 503/);
    expect(run.stdout).not.toContain("next:");
  });

  it("prints the API's snake_case page with --json", async () => {
    await endpoint();
    const [dead] = await seedDeliveries(store, clock, "ep_orders", 1, "dead_lettered");
    const page = json<{ data: Record<string, unknown>[]; next_cursor: null }>(
      await cli(["deliveries", "--json"]),
    );
    expect(page.next_cursor).toBeNull();
    expect(Object.keys(page.data[0]!)).toEqual(DELIVERY_KEYS);
    expect(page.data[0]).toEqual({
      id: dead!.id,
      message_id: dead!.messageId,
      endpoint_id: "ep_orders",
      status: "dead_lettered",
      attempts: 1,
      max_attempts: 2,
      next_retry_at: null,
      last_error: "HTTP 503 Service Unavailable",
      last_status_code: 503,
      created_at: "2025-03-01T10:00:00.000Z",
      updated_at: "2025-03-01T10:00:01.000Z",
    });
  });

  it("filters by status (repeated and comma lists), endpoint and message", async () => {
    await endpoint("ep_a");
    await endpoint("ep_b");
    const dead = await seedDeliveries(store, clock, "ep_a", 2, "dead_lettered");
    const retrying = await seedDeliveries(store, clock, "ep_b", 1, "retrying");
    await seedDeliveries(store, clock, "ep_a", 1, "delivered");
    await seedDeliveries(store, clock, "ep_b", 1, "pending");
    const ids = async (args: string[]) =>
      json<{ data: { id: string }[] }>(await cli(["deliveries", ...args, "--json"])).data.map(
        (d) => d.id,
      );
    const failedIds = [retrying[0]!.id, dead[1]!.id, dead[0]!.id];
    expect(await ids(["--status", "dead_lettered,retrying"])).toEqual(failedIds);
    expect(await ids(["--status", "dead_lettered", "--status", "retrying"])).toEqual(failedIds);
    expect(await ids(["--status", "dead_lettered", "--endpoint", "ep_b"])).toEqual([]);
    expect(await ids(["--endpoint", "ep_a", "--status", "dead_lettered"])).toEqual([
      dead[1]!.id,
      dead[0]!.id,
    ]);
    expect(await ids(["--message", dead[0]!.messageId])).toEqual([dead[0]!.id]);
    // --failed: the dead letters, newest first, with --limit and the other filters.
    expect(await ids(["--failed"])).toEqual([dead[1]!.id, dead[0]!.id]);
    expect(await ids(["--failed", "--limit", "1"])).toEqual([dead[1]!.id]);
    expect(await ids(["--failed", "--endpoint", "ep_b"])).toEqual([]);
  });

  it("pages with --limit and --cursor, printing the next page's command", async () => {
    await endpoint();
    const all = (await seedDeliveries(store, clock, "ep_orders", 5, "dead_lettered")).reverse();
    const first = await cli(["deliveries", "--status", "dead_lettered", "--limit", "2"]);
    expect(first.code).toBe(0);
    const hint = /^next: (.+)$/m.exec(first.stdout)?.[1] ?? "";
    expect(hint).toMatch(
      new RegExp(
        `^herald deliveries --status dead_lettered --limit 2 --db ${sqlite.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} --cursor \\S+$`,
      ),
    );
    const cursor = hint.split(" ").at(-1)!;
    const second = await cli([
      "deliveries",
      "--status",
      "dead_lettered",
      "--limit",
      "2",
      "--cursor",
      cursor,
    ]);
    expect(second.stdout).toContain(all[2]!.id);
    expect(second.stdout).toContain(all[3]!.id);
    expect(second.stdout).not.toContain(all[1]!.id);

    // JSON pages cover every delivery exactly once.
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const args: string[] = [
        "deliveries",
        "--limit",
        "2",
        "--json",
        ...(next === null ? [] : ["--cursor", next]),
      ];
      const page: { data: { id: string }[]; next_cursor: string | null } = json(await cli(args));
      seen.push(...page.data.map((d) => d.id));
      next = page.next_cursor;
    } while (next !== null);
    expect(seen).toEqual(all.map((d) => d.id));
  });

  it.each([
    [
      ["--status", "failed"],
      "cli.invalid_argument",
      /Unknown status "failed"; expected one of pending/,
    ],
    [["--status", ","], "cli.invalid_argument", /Expected a status/],
    [["--limit", "0"], "cli.invalid_argument", /1 to 1000/],
    [["--limit", "1001"], "cli.invalid_argument", /1 to 1000/],
    [["--limit", "ten"], "cli.invalid_argument", /1 to 1000/],
    [["--cursor", "garbage"], "cursor.invalid", /not one this list returned/],
    [["--bogus"], "cli.unknown_option", /unknown option/],
    [
      ["--failed", "--status", "pending"],
      "cli.invalid_argument",
      /option '--failed' cannot be used with option '--status <status>'/,
    ],
  ])("refuses %j with exit 2 (%s)", async (args, code, message) => {
    const run = await cli(["deliveries", ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^error: ${code.replace(".", "\\.")}: `));
    expect(run.stderr).toMatch(message);
  });

  it("says when nothing matches", async () => {
    expect((await cli(["deliveries"])).stdout).toBe("no deliveries\n");
  });
});

describe("herald replay <id>", () => {
  it("replays by full id and by a unique prefix, back to pending", async () => {
    await endpoint();
    const [dead] = await seedDeliveries(store, clock, "ep_orders", 1, "dead_lettered");
    const run = await cli(["replay", dead!.id]);
    expect(run).toEqual({ code: 0, stdout: `replayed ${dead!.id} (pending)\n`, stderr: "" });
    const after = await store.getDelivery(dead!.id);
    expect(after?.delivery).toMatchObject({ status: "pending", attempts: 0 });

    await store.claimDueDeliveries({ owner: "w", limit: 10, leaseMs: 1 });
    clock.advance(10);
    const prefix = dead!.id.slice(0, -3).toLowerCase().replace("dlv_", "");
    const json = await cli(["replay", prefix, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: dead!.id, status: "pending" });
  });

  it("refuses an ambiguous prefix with the matches listed (exit 1)", async () => {
    await endpoint();
    const seeded = await seedDeliveries(store, clock, "ep_orders", 3, "dead_lettered");
    const run = await cli(["replay", "dlv_"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: delivery\.ambiguous_prefix: Several deliveries start with "dlv_"/,
    );
    for (const d of seeded) expect(run.stderr).toContain(`\n  ${d.id}\n`);
    const asJson = await cli(["replay", "dlv_", "--json"]);
    expect(JSON.parse(asJson.stdout)).toEqual({
      error: {
        code: "delivery.ambiguous_prefix",
        message: expect.any(String),
        matches: expect.arrayContaining(seeded.map((d) => d.id)),
      },
    });
  });

  it("reports an unknown id (delivery.not_found) and one a worker holds (delivery.in_progress)", async () => {
    await endpoint();
    const missing = await cli(["replay", "dlv_01JGZZZZZZZZZZZZZZZZZZZZZZ"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: delivery\.not_found: /);
    const [held] = await seedDeliveries(store, clock, "ep_orders", 1, "delivering");
    const busy = await cli(["replay", held!.id]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/^error: delivery\.in_progress: /);
  });

  it.each([
    [[], /Give a delivery id/],
    [["dlv_x", "--endpoint", "ep_orders", "--since", "1h"], /not both/],
    [["--endpoint", "ep_orders"], /--endpoint needs --since/],
    [["dlv_x", "--since", "1h"], /--since applies to a bulk replay/],
    [["--endpoint", "ep_orders", "--since", "yesterday"], /Expected a span ago/],
  ])("refuses %j as a usage error (exit 2)", async (args, message) => {
    const run = await cli(["replay", ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: cli\.invalid_argument: /);
    expect(run.stderr).toMatch(message);
  });
});

describe("herald replay --endpoint --since", () => {
  async function seedMix() {
    await endpoint("ep_orders");
    await endpoint("ep_other");
    const old = await seedDeliveries(store, clock, "ep_orders", 2, "dead_lettered");
    clock.advance(3_600_000);
    const since = clock.now();
    const dead = await seedDeliveries(store, clock, "ep_orders", 4, "dead_lettered");
    const retrying = await seedDeliveries(store, clock, "ep_orders", 3, "retrying");
    const delivered = await seedDeliveries(store, clock, "ep_orders", 2, "delivered");
    const other = await seedDeliveries(store, clock, "ep_other", 2, "dead_lettered");
    const held = await seedDeliveries(store, clock, "ep_orders", 1, "delivering");
    return { old, since, dead, retrying, delivered, other, held };
  }

  it("replays the endpoint's retrying and dead-lettered deliveries created since then", async () => {
    const seeded = await seedMix();
    const run = await cli([
      "replay",
      "--endpoint",
      "ep_orders",
      "--since",
      new Date(seeded.since).toISOString(),
    ]);
    expect(run).toEqual({ code: 0, stdout: "replayed 7 deliveries of ep_orders\n", stderr: "" });
    const status = async (id: string) => (await store.getDelivery(id))?.delivery.status;
    for (const d of [...seeded.dead, ...seeded.retrying])
      expect(await status(d.id)).toBe("pending");
    for (const d of [...seeded.old, ...seeded.other])
      expect(await status(d.id)).toBe("dead_lettered");
    for (const d of seeded.delivered) expect(await status(d.id)).toBe("delivered");
  });

  it("takes a relative --since and Unix seconds, and counts nothing twice", async () => {
    const seeded = await seedMix();
    // The recent deliveries were created within the last 20 s of the clock; the old ones ~1 h before.
    const recent = await cli(["replay", "--endpoint", "ep_orders", "--since", "1m", "--json"]);
    expect(json(recent)).toEqual({ replayed: 7, skipped: 0 });
    const again = await cli(["replay", "--endpoint", "ep_orders", "--since", "1m", "--json"]);
    expect(json(again)).toEqual({ replayed: 0, skipped: 0 });
    const all = await cli([
      "replay",
      "--endpoint",
      "ep_orders",
      "--since",
      String(Math.floor(START / 1000)),
      "--json",
    ]);
    expect(json(all)).toEqual({ replayed: seeded.old.length, skipped: 0 });
  });

  it("skips and counts deliveries a worker claims between listing and replay", async () => {
    await endpoint();
    const seeded = await seedDeliveries(store, clock, "ep_orders", 5, "dead_lettered");
    const raced = new Set([seeded[1]!.id, seeded[3]!.id]);
    // A worker claims two of them right after the list: the store refuses to replay those.
    const racing: DeliveryStore = {
      ...store,
      replayDelivery: (id, options) =>
        raced.has(id)
          ? Promise.reject(new HeraldError("delivery.in_progress", "held"))
          : store.replayDelivery(id, options),
    };
    let stdout = "";
    const io = createIo({
      clock,
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: () => true },
    });
    const code = await replayEndpoint(racing, "ep_orders", { agoMs: 86_400_000 }, {}, io);
    expect(code).toBe(0);
    expect(stdout).toBe("replayed 3 deliveries of ep_orders\nskipped 2 in progress\n");
    stdout = "";
    await replayEndpoint(racing, "ep_orders", { agoMs: 86_400_000 }, { json: true }, io);
    expect(JSON.parse(stdout)).toEqual({ replayed: 0, skipped: 2 });
  });

  it("draws a progress bar on a terminal's stderr only", async () => {
    await endpoint();
    await seedDeliveries(store, clock, "ep_orders", 250, "dead_lettered");
    let stdout = "";
    let stderr = "";
    const code = await runCli(
      ["replay", "--endpoint", "ep_orders", "--since", "1d", "--db", sqlite.path],
      {
        clock,
        stdout: { write: (text: string) => (stdout += text) },
        stderr: Object.assign({ write: (text: string) => (stderr += text) }, { isTTY: true }),
      },
    );
    expect(code).toBe(0);
    expect(stdout).toBe("replayed 250 deliveries of ep_orders\n");
    // The clock stands still: the first frame, then only the final one (at most ~10 per second).
    expect(stderr).toBe(`\r[${".".repeat(30)}] 0/250\r[${"#".repeat(30)}] 250/250\n`);
  });

  it("refuses an unknown endpoint (endpoint.not_found, exit 1)", async () => {
    const run = await cli(["replay", "--endpoint", "ep_nope", "--since", "1h"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: endpoint\.not_found: /);
  });
});

describe("herald messages show", () => {
  it("shows the header lines and the deliveries table", async () => {
    await endpoint("ep_a");
    await endpoint("ep_b");
    const { message, deliveries } = await store.createMessage({
      message: { type: "order.created.v1", payload: { id: "ord_1", total: 42 }, tenant: "acme" },
      deliveries: [
        { endpointId: "ep_a", maxAttempts: 3 },
        { endpointId: "ep_b", maxAttempts: 3 },
      ],
    });
    const run = await cli(["messages", "show", message.id]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      [
        `message  ${message.id}`,
        "type     order.created.v1",
        "tenant   acme",
        "source   -",
        "status   queued",
        "         Queued: waiting for a worker to attempt it (due 2025-03-01T10:00:00.000Z). Deliveries: 2 pending.",
        "created  2025-03-01T10:00:00Z",
        'payload  {"id":"ord_1","total":42}',
        "",
        "2 deliveries:",
        "",
      ].join("\n"),
    );
    for (const d of deliveries)
      expect(run.stdout).toMatch(new RegExp(`${d.id}\\s+pending\\s+${d.endpointId}\\s+0/3`));
  });

  it("prints GET /v1/messages/:id with --json", async () => {
    await endpoint();
    const [dead] = await seedDeliveries(store, clock, "ep_orders", 1, "dead_lettered");
    const body = json(await cli(["messages", "show", dead!.messageId, "--json"]));
    expect(body).toEqual({
      id: dead!.messageId,
      type: "order.created.v1",
      source: null,
      status: "dead_lettered",
      status_description:
        "Dead-lettered after 1 attempt: it will not be retried unless its delivery is replayed.",
      attempts: 1,
      max_attempts: dead!.maxAttempts,
      last_error: dead!.lastError,
      next_retry_at: null,
      created_at: "2025-03-01T10:00:00.000Z",
      updated_at: dead!.updatedAt,
      payload: { n: 0 },
      tenant: "acme",
      idempotency_key: null,
      deliveries: [expect.objectContaining({ id: dead!.id, status: "dead_lettered", attempts: 1 })],
      filtered: [],
    });
  });

  it("reports an unknown id as message.not_found (exit 1)", async () => {
    const run = await cli(["messages", "show", "msg_01JGZZZZZZZZZZZZZZZZZZZZZZ"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "error: message.not_found: No message msg_01JGZZZZZZZZZZZZZZZZZZZZZZ\n",
    );
    const asJson = await cli(["messages", "show", "msg_x", "--json"]);
    expect(JSON.parse(asJson.stdout)).toEqual({
      error: { code: "message.not_found", message: "No message msg_x" },
    });
  });

  it("shows a message without deliveries", async () => {
    const { message } = await store.createMessage({
      message: { type: "x.v1", payload: {} },
      deliveries: [],
    });
    const run = await cli(["messages", "show", message.id]);
    expect(run.stdout).toContain("status   no_endpoints\n         No enabled endpoint matched");
    expect(run.stdout).toContain("0 deliveries (no endpoint matched)\n");
  });
});

describe("herald endpoints", () => {
  it("adds an endpoint and prints its id and a generated secret once", async () => {
    const run = await cli([
      "endpoints",
      "add",
      "--url",
      "https://acme.example/hooks",
      "--event-type",
      "order.*",
      "--event-type",
      "invoice.paid.v1",
      "--tenant",
      "acme",
    ]);
    expect(run.code).toBe(0);
    const id = /^id: (ep_[0-9A-Z]{26})$/m.exec(run.stdout)?.[1];
    const secret = /^secret: (whsec_\S+)$/m.exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    expect(run.stderr).toContain("no herald command shows it again");
    const stored = await store.getEndpoint(id!);
    expect(stored).toMatchObject({
      tenant: "acme",
      target: "https://acme.example/hooks",
      eventTypes: ["order.*", "invoice.paid.v1"],
      scheme: "standard",
      secrets: [{ secret }],
    });
    // The list shows a count, never the secret.
    const list = await cli(["endpoints", "list"]);
    expect(list.stdout).not.toContain(secret!);
    expect(list.stdout).toMatch(
      new RegExp(
        `${id}\\s+acme\\s+https://acme.example/hooks\\s+order\\.\\*,invoice\\.paid\\.v1\\s+1\\s+0\\s+enabled`,
      ),
    );
    expect((await cli(["endpoints", "list", "--json"])).stdout).not.toContain(secret!);
  });

  it("takes --id, --secret, --scheme and --description, and prints JSON with the secret", async () => {
    const body = json(
      await cli([
        "endpoints",
        "add",
        "--id",
        "ep_fixed",
        "--url",
        "http://localhost:9000/in",
        "--event-type",
        "*",
        "--secret",
        "my-github-secret",
        "--scheme",
        "github",
        "--description",
        "local receiver",
        "--json",
      ]),
    );
    expect(body).toMatchObject({
      id: "ep_fixed",
      tenant: "default",
      url: "http://localhost:9000/in",
      event_types: ["*"],
      scheme: "github",
      description: "local receiver",
      secret_count: 1,
      enabled: true,
      secret: "my-github-secret",
    });
    const again = await cli([
      "endpoints",
      "add",
      "--id",
      "ep_fixed",
      "--url",
      "http://x.example",
      "--event-type",
      "*",
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: endpoint\.already_exists: /);
  });

  it("lists by tenant, as a table and as JSON without secrets", async () => {
    await endpoint("ep_a", "acme");
    await endpoint("ep_b", "globex");
    const acme = json<{ data: Record<string, unknown>[] }>(
      await cli(["endpoints", "list", "--tenant", "acme", "--json"]),
    );
    expect(acme.data.map((e) => e.id)).toEqual(["ep_a"]);
    expect(acme.data[0]).toMatchObject({ secret_count: 1, url: "https://receiver.example/ep_a" });
    expect(acme.data[0]).not.toHaveProperty("secrets");
    expect(JSON.stringify(acme)).not.toContain("whsec_");
    const table = await cli(["endpoints", "list"]);
    expect(table.stdout.trimEnd().split("\n")).toHaveLength(3);
    expect(table.stdout).not.toContain("whsec_");
  });

  it("disables with a reason and enables again", async () => {
    await endpoint();
    const off = await cli(["endpoints", "disable", "ep_orders", "--reason", "receiver migration"]);
    expect(off).toEqual({
      code: 0,
      stdout: "disabled ep_orders: receiver migration\n",
      stderr: "",
    });
    expect((await cli(["endpoints", "list"])).stdout).toContain("disabled: receiver migration");
    const on = json(await cli(["endpoints", "enable", "ep_orders", "--json"]));
    expect(on).toMatchObject({ id: "ep_orders", enabled: true, disabled_reason: null });
    expect((await cli(["endpoints", "enable", "ep_orders"])).stdout).toBe("enabled ep_orders\n");
    const missing = await cli(["endpoints", "disable", "ep_nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: endpoint\.not_found: /);
  });

  it.each([
    [["add", "--event-type", "*"], "cli.missing_argument"],
    [["add", "--url", "https://x.example"], "cli.missing_argument"],
    [["add", "--url", "ftp://x.example", "--event-type", "*"], "cli.invalid_argument"],
    [["add", "--url", "not a url", "--event-type", "*"], "cli.invalid_argument"],
    [
      ["add", "--url", "https://x.example", "--event-type", "*", "--scheme", "nope"],
      "cli.invalid_argument",
    ],
    [["disable"], "cli.missing_argument"],
    [["frobnicate"], "cli.unknown_command"],
  ])("refuses %j with exit 2 (%s)", async (args, code) => {
    const run = await cli(["endpoints", ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${code}: `);
  });

  it("reports what the store refuses with exit 1 (type_pattern.invalid)", async () => {
    const run = await cli([
      "endpoints",
      "add",
      "--url",
      "https://x.example",
      "--event-type",
      "order..*",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: type_pattern\.invalid: /);
  });

  it("refuses a --secret the scheme cannot sign with (the API's rule), storing nothing", async () => {
    const run = await cli([
      "endpoints",
      "add",
      "--url",
      "https://x.example",
      "--event-type",
      "order.*",
      "--secret",
      "whsec_***",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "error: cli.invalid_argument: --secret: is not a usable standard secret",
    );
    expect(run.stdout).toBe("");
    expect((await store.listEndpoints({})).data).toEqual([]);
  });
});

describe("herald sources", () => {
  const secret = "whsec_stripe_source_secret_1234";

  it("adds a source and lists it with a secret count only", async () => {
    const run = await cli([
      "sources",
      "add",
      "--name",
      "stripe",
      "--scheme",
      "stripe",
      "--secret",
      secret,
      "--secret",
      `${secret}-old`,
      "--type-from",
      "body:type",
      "--tolerance",
      "120",
      "--dedupe-ttl",
      "3600",
    ]);
    expect(run).toEqual({
      code: 0,
      stdout:
        "added source stripe (stripe, 2 secrets, type from body:type): POST /webhooks/stripe\n",
      stderr: "",
    });
    expect(await store.getSource("stripe")).toMatchObject({
      secrets: [secret, `${secret}-old`],
      toleranceS: 120,
      dedupeTtlS: 3600,
      typeFrom: { body: "type" },
    });
    const list = await cli(["sources", "list"]);
    expect(list.stdout).toMatch(
      /^NAME\s+SCHEME\s+SECRETS\s+TOLERANCE\s+IDEMPOTENCY\s+TYPE FROM\s+DEDUPE TTL\n/,
    );
    expect(list.stdout).toMatch(/stripe\s+stripe\s+2\s+120s\s+-\s+body:type\s+3600s\n/);
    const listJson = await cli(["sources", "list", "--json"]);
    expect(JSON.parse(listJson.stdout)).toEqual({
      data: [
        {
          name: "stripe",
          scheme: "stripe",
          scheme_options: null,
          verification: "signature",
          verified: true,
          token_header: null,
          allow_from: [],
          secret_count: 2,
          tolerance_s: 120,
          idempotency_header: null,
          idempotency_required: false,
          dedupe_ttl_s: 3600,
          type_from: { body: "type" },
          created_at: "2025-03-01T10:00:00.000Z",
          updated_at: "2025-03-01T10:00:00.000Z",
        },
      ],
    });
    expect(list.stdout + listJson.stdout).not.toContain(secret);
  });

  it("adds token, Basic and (with --allow-unsigned) unsigned sources by the API's rules", async () => {
    const token = await cli(
      ["sources", "add", "--name", "crm", "--scheme", "token", "--token-header", "X-Hook-Token"],
      { HERALD_SECRET: "tok_0123456789abcdef" },
    );
    expect(token).toMatchObject({ code: 0, stderr: "" });
    expect(await store.getSource("crm")).toMatchObject({
      scheme: "token",
      schemeOptions: { header: "X-Hook-Token" },
      secrets: ["tok_0123456789abcdef"],
    });
    const short = await cli([
      "sources",
      "add",
      "--name",
      "t2",
      "--scheme",
      "token",
      "--secret",
      "short",
    ]);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--secret: is not a usable token credential: must be at least 16/);
    expect(short.stderr).not.toContain("short\n");
    const unsigned = ["sources", "add", "--name", "legacy", "--scheme", "none"];
    const refused = await cli(unsigned);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--scheme: unsigned sources .*--allow-unsigned/);
    const badCidr = await cli([...unsigned, "--allow-unsigned", "--allow-from", "10.0.0.0/33"]);
    expect(badCidr.stderr).toMatch(/--allow-from: must be an IP address or a CIDR/);
    const added = await cli([...unsigned, "--allow-unsigned", "--allow-from", "203.0.113.0/24"]);
    expect(added).toMatchObject({
      code: 0,
      stdout:
        "added source legacy (none, 0 secrets, type from fixed:received): POST /webhooks/legacy\n",
    });
    expect(await store.getSource("legacy")).toMatchObject({
      secrets: [],
      idempotencyHeader: "Idempotency-Key",
      idempotencyRequired: true,
      allowFrom: ["203.0.113.0/24"],
    });
    const pair = await cli([
      "sources",
      "add",
      "--name",
      "p",
      "--scheme",
      "basic",
      "--secret",
      "nopair",
    ]);
    expect(pair.stderr).toMatch(/user:password/);
  });

  it("reads HERALD_SECRET, takes header type and idempotency flags, refuses a taken name", async () => {
    const body = json(
      await cli(
        [
          "sources",
          "add",
          "--name",
          "github",
          "--scheme",
          "github",
          "--type-from",
          "header:X-GitHub-Event",
          "--idempotency-header",
          "X-GitHub-Delivery",
          "--idempotency-required",
          "--json",
        ],
        { HERALD_SECRET: "gh-one\ngh-two\n" },
      ),
    );
    expect(body).toMatchObject({
      name: "github",
      secret_count: 2,
      idempotency_header: "X-GitHub-Delivery",
      idempotency_required: true,
      type_from: { header: "X-GitHub-Event" },
    });
    expect(JSON.stringify(body)).not.toContain("gh-one");
    const taken = await cli([
      "sources",
      "add",
      "--name",
      "github",
      "--scheme",
      "github",
      "--secret",
      "x",
    ]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^error: source\.already_exists: .*--replace/);
    const replaced = await cli([
      "sources",
      "add",
      "--name",
      "github",
      "--scheme",
      "github",
      "--secret",
      "x",
      "--replace",
    ]);
    expect(replaced.stdout).toMatch(
      /^saved source github \(github, 1 secret, type from fixed:received\)/,
    );
  });

  it.each([
    [["add", "--scheme", "stripe", "--secret", "s"], "cli.missing_argument"],
    [["add", "--name", "x", "--secret", "s"], "cli.missing_argument"],
    [["add", "--name", "x", "--scheme", "stripe"], "cli.missing_argument"],
    [["add", "--name", "x", "--scheme", "nope", "--secret", "s"], "cli.invalid_argument"],
    [
      ["add", "--name", "x", "--scheme", "stripe", "--secret", "s", "--type-from", "json:type"],
      "cli.invalid_argument",
    ],
    [
      ["add", "--name", "x", "--scheme", "stripe", "--secret", "s", "--dedupe-ttl", "0"],
      "cli.invalid_argument",
    ],
    [
      ["add", "--name", "x", "--scheme", "stripe", "--secret", "s", "--tolerance", "-1"],
      "cli.invalid_argument",
    ],
  ])("refuses %j with exit 2 (%s)", async (args, code) => {
    const run = await cli(["sources", ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${code}: `);
    expect(run.stderr).not.toContain("s\n");
  });

  it("says when there are none", async () => {
    expect((await cli(["sources", "list"])).stdout).toBe("no sources\n");
  });

  // The API's secret rule: a secret the scheme cannot verify with never reaches the store.
  it.each([
    ["standard", "not base64!"],
    ["standard", "whsec_***"],
    ["stripe", "whsec_with space"],
  ])("refuses a %s secret the scheme cannot use (%j) with exit 2", async (scheme, bad) => {
    const run = await cli(["sources", "add", "--name", "x", "--scheme", scheme, "--secret", bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `error: cli.invalid_argument: --secret: is not a usable ${scheme} secret`,
    );
    expect(run.stderr).not.toContain(bad);
    expect(await store.getSource("x")).toBeUndefined();
  });

  it("accepts a Standard Webhooks public key, which verifies but cannot sign", async () => {
    const key = `whpk_${Buffer.alloc(32, 5).toString("base64")}`;
    const run = await cli([
      "sources",
      "add",
      "--name",
      "pk",
      "--scheme",
      "standard",
      "--secret",
      key,
    ]);
    expect(run.code).toBe(0);
    expect((await store.getSource("pk"))?.secrets).toEqual([key]);
  });
});

describe("--help", () => {
  it.each([
    ["replay"],
    ["deliveries"],
    ["messages", "show"],
    ["endpoints", "list"],
    ["endpoints", "add"],
    ["endpoints", "disable"],
    ["endpoints", "enable"],
    ["sources", "list"],
    ["sources", "add"],
  ])("documents %s with exit statuses, codes, the database and an example", async (...cmd) => {
    const run = await runCliCaptured([...cmd, "--help"]);
    expect(run.code).toBe(0);
    for (const word of [
      `Usage: herald ${cmd.join(" ")}`,
      "Exit status:",
      "--db",
      "HERALD_DB",
      "Examples:",
      `$ herald ${cmd.join(" ")}`,
    ]) {
      expect(run.stdout).toContain(word);
    }
  });

  it("lists the store commands in the program help", async () => {
    const run = await runCliCaptured(["--help"]);
    for (const name of ["replay", "deliveries", "messages", "endpoints", "sources"]) {
      expect(run.stdout).toMatch(new RegExp(`\\n  ${name} `));
    }
  });
});

describe("documented examples", () => {
  const docs = readFileSync(new URL("../../docs/cli.md", import.meta.url), "utf8");

  /** Every line printed is in the command's --help (indented) and in docs/cli.md. */
  async function expectShown(run: CliRun, help: string[]): Promise<void> {
    expect(run.code, run.stderr).toBe(0);
    const text = (await runCliCaptured([...help, "--help"])).stdout;
    for (const line of run.stdout.trimEnd().split("\n")) {
      expect(text).toContain(`  ${line}\n`);
      expect(docs).toContain(`\n${line}\n`);
    }
  }

  it("shows what endpoints list, disable and enable print", async () => {
    await store.createEndpoint({
      id: "ep_orders",
      tenant: "acme",
      target: "https://acme.example/hooks",
      eventTypes: ["order.*"],
      secrets: [{ secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }],
    });
    await expectShown(await cli(["endpoints", "list", "--tenant", "acme"]), ["endpoints", "list"]);
    await expectShown(
      await cli(["endpoints", "disable", "ep_orders", "--reason", "receiver migration"]),
      ["endpoints", "disable"],
    );
    await expectShown(await cli(["endpoints", "enable", "ep_orders"]), ["endpoints", "enable"]);
  });

  it("shows what sources add and list print", async () => {
    await expectShown(
      await cli([
        "sources",
        "add",
        "--name",
        "stripe",
        "--scheme",
        "stripe",
        "--secret",
        "whsec_a",
        "--type-from",
        "body:type",
      ]),
      ["sources", "add"],
    );
    await store.upsertSource({
      name: "stripe",
      scheme: "stripe",
      secrets: ["whsec_a", "whsec_b"],
      typeFrom: { body: "type" },
    });
    await expectShown(await cli(["sources", "list"]), ["sources", "list"]);
  });
});
