// The store commands against PostgreSQL (--db postgres://… --schema <schema>): endpoints,
// deliveries with pages, messages show, replay by prefix and in bulk, sources.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";
import { serviceAvailable } from "../helpers/services.js";
import { seedDeliveries } from "./storeSeed.js";

const pgAvailable = await serviceAvailable("postgres");

describe.skipIf(!pgAvailable)("store commands on PostgreSQL", () => {
  let schema: TestSchema;
  let store: DeliveryStore;
  const clock = new ManualClock(Date.parse("2025-03-01T10:00:00.000Z"));

  beforeAll(async () => {
    schema = await createTestSchema("cli_store", { max: 4 });
    store = createPostgresDeliveryStore(schema.pool, { clock });
  });
  afterAll(async (suite) => {
    await schema?.dropIfPassed(suite);
  });

  function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return runCliCaptured([...args, "--db", schema.url, "--schema", schema.schema], {
      clock,
      env,
    });
  }

  it("adds and lists endpoints, printing the secret only once", async () => {
    const add = await cli([
      "endpoints",
      "add",
      "--id",
      "ep_pg",
      "--url",
      "https://receiver.example/pg",
      "--event-type",
      "order.*",
      "--json",
    ]);
    expect(add.code, add.stderr).toBe(0);
    const created = JSON.parse(add.stdout) as { id: string; secret: string };
    expect(created).toMatchObject({ id: "ep_pg", secret: expect.stringMatching(/^whsec_/) });
    const list = await cli(["endpoints", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toMatchObject({ data: [{ id: "ep_pg", secret_count: 1 }] });
    expect(list.stdout).not.toContain(created.secret);
  });

  it("pages deliveries, shows a message, and replays by prefix and in bulk", async () => {
    const dead = await seedDeliveries(store, clock, "ep_pg", 3, "dead_lettered");
    const first = await cli(["deliveries", "--status", "dead_lettered", "--limit", "2", "--json"]);
    const page1 = JSON.parse(first.stdout) as { data: { id: string }[]; next_cursor: string };
    expect(page1.data.map((d) => d.id)).toEqual([dead[2]!.id, dead[1]!.id]);
    const second = await cli([
      "deliveries",
      "--status",
      "dead_lettered",
      "--limit",
      "2",
      "--cursor",
      page1.next_cursor,
      "--json",
    ]);
    expect(JSON.parse(second.stdout)).toEqual({
      data: [expect.objectContaining({ id: dead[0]!.id, status: "dead_lettered" })],
      next_cursor: null,
    });

    const shown = await cli(["messages", "show", dead[0]!.messageId, "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      status: "dead_lettered",
      deliveries: [{ id: dead[0]!.id }],
    });

    const one = await cli(["replay", dead[0]!.id.slice(0, -2)]);
    expect(one).toEqual({ code: 0, stdout: `replayed ${dead[0]!.id} (pending)\n`, stderr: "" });
    const bulk = await cli(["replay", "--endpoint", "ep_pg", "--since", "1h", "--json"]);
    expect(JSON.parse(bulk.stdout)).toEqual({ replayed: 2, skipped: 0 });
    const ambiguous = await cli(["replay", "dlv_"]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/^error: delivery\.ambiguous_prefix: /);
  });

  it("adds a source from HERALD_SECRET and lists counts only", async () => {
    const add = await cli(["sources", "add", "--name", "stripe", "--scheme", "stripe"], {
      HERALD_SECRET: "whsec_pg_source_secret",
    });
    expect(add.code, add.stderr).toBe(0);
    const list = await cli(["sources", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toMatchObject({ data: [{ name: "stripe", secret_count: 1 }] });
    expect(list.stdout).not.toContain("whsec_pg_source_secret");
  });
});
