// `herald endpoints add --filter '<json>'`: the filter is stored with the endpoint and shown in
// its JSON; JSON that is not a filter is a usage error (exit 2) naming the offending part, and
// nothing is stored. `herald messages show` lists the endpoints a message was filtered out of.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDispatcher } from "../../packages/core/src/delivery/dispatcher.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

let sqlite: MigratedSqlite;
let store: DeliveryStore;
const clock = new ManualClock(Date.parse("2025-03-01T10:00:00.000Z"));

beforeEach(() => {
  sqlite = migratedSqlite();
  store = createSqliteDeliveryStore(sqlite.db, { clock });
});
afterEach(() => sqlite.cleanup());

const cli = (args: string[]): Promise<CliRun> =>
  runCliCaptured([...args, "--db", sqlite.path], { clock });

const add = (filter: string, extra: string[] = []) =>
  cli([
    "endpoints",
    "add",
    "--url",
    "https://receiver.example/big",
    "--event-type",
    "order.*",
    "--filter",
    filter,
    ...extra,
  ]);

describe("herald endpoints add --filter", () => {
  it("stores the filter and prints it in the endpoint's JSON", async () => {
    const run = await add('{"payload":{"total":{"$gte":100}},"headers":{"x-shop":"shop-1"}}', [
      "--id",
      "ep_big",
      "--json",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const filter = { payload: { total: { $gte: 100 } }, headers: { "x-shop": "shop-1" } };
    expect(JSON.parse(run.stdout)).toMatchObject({ id: "ep_big", filter });
    expect((await store.getEndpoint("ep_big"))?.filter?.json).toEqual(filter);
    const listed = await cli(["endpoints", "list", "--json"]);
    expect(JSON.parse(listed.stdout).data[0].filter).toEqual(filter);
  });

  for (const [filter, message] of [
    ['{"payload":{"total":{"$gte":[1]}}}', "filter.payload.total.$gte: must be a number or string"],
    ['{"body":{}}', "filter.body: is not payload, headers, $and, $or or $not"],
    ["[1]", "filter: must be an object with payload, headers, $and, $or or $not"],
    ["{payload:", "Expected a filter as JSON"],
  ] as const) {
    it(`refuses --filter ${filter} with exit 2, storing nothing`, async () => {
      const run = await add(filter);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("cli.invalid_argument");
      expect(run.stderr).toContain(message);
      expect(run.stdout).toBe("");
      expect((await store.listEndpoints({})).data).toEqual([]);
    });
  }

  it("messages show lists the endpoints a message was filtered out of", async () => {
    await add('{"payload":{"total":{"$gte":100}}}', ["--id", "ep_big"]);
    const dispatcher = createDispatcher({ store });
    const small = await dispatcher.dispatch({ type: "order.created.v1", payload: { total: 5 } });
    expect(small.deliveries).toBe(0);
    expect(small.filteredEndpointIds).toEqual(["ep_big"]);
    const text = await cli(["messages", "show", small.messageId]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("0 deliveries\n");
    expect(text.stdout).toContain("filtered out (no delivery): ep_big\n");
    const json = JSON.parse((await cli(["messages", "show", small.messageId, "--json"])).stdout);
    expect(json.filtered).toEqual([
      { endpoint_id: "ep_big", outcome: "filtered", at: "2025-03-01T10:00:00.000Z" },
    ]);
    const big = await dispatcher.dispatch({ type: "order.created.v1", payload: { total: 500 } });
    expect(big.deliveries).toBe(1);
    const shown = await cli(["messages", "show", big.messageId]);
    expect(shown.stdout).not.toContain("filtered out");
  });
});
