// `herald stream-tokens create|list|revoke` in-process through runCli against a temporary
// SQLite file, on a manual clock: the token is printed once and works with the store's check;
// list shows states, never tokens; revoke refuses an unknown id.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authenticateStreamToken } from "../../packages/core/src/delivery/streamTokens.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

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

function cli(args: string[]): Promise<CliRun> {
  return runCliCaptured([...args, "--db", sqlite.path], { clock });
}

describe("herald stream-tokens", () => {
  it("creates a token printed once, lists states without tokens, revokes", async () => {
    const created = await cli([
      "stream-tokens",
      "create",
      "--tenant",
      "acme",
      "--event-types",
      "order.*,user.created",
      "--ttl",
      "600",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const token = /^token: (hst_\S+)\n$/.exec(created.stdout)?.[1];
    expect(token).toBeDefined();
    expect(created.stderr).toMatch(/no herald command shows it again/);
    const record = await authenticateStreamToken(store, token, { clock });
    expect(record).toMatchObject({
      tenant: "acme",
      eventTypes: ["order.*", "user.created"],
      expiresAt: "2025-03-01T10:10:00.000Z",
    });

    const list = await cli(["stream-tokens", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      `ID                              TENANT  EVENT TYPES           STATE  EXPIRES\n${record.id}  acme    order.*,user.created  live   2025-03-01T10:10:00Z\n`,
    );
    expect(list.stdout).not.toContain(token!);
    clock.advance(600_000);
    expect((await cli(["stream-tokens", "list"])).stdout).toContain(" expired ");

    const revoked = await cli(["stream-tokens", "revoke", record.id]);
    expect(revoked).toEqual({ code: 0, stdout: `revoked stream token ${record.id}\n`, stderr: "" });
    const json = JSON.parse((await cli(["stream-tokens", "list", "--json"])).stdout);
    expect(json.data[0]).toMatchObject({ id: record.id, revoked_at: "2025-03-01T10:10:00.000Z" });
    expect(JSON.stringify(json)).not.toContain(token!);
  });

  it("refuses an unknown id, a bad pattern and a bad ttl", async () => {
    const unknown = await cli(["stream-tokens", "revoke", "stk_01JAAAAAAAAAAAAAAAAAAAAAAA"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("stream_token.not_found");
    const pattern = await cli(["stream-tokens", "create", "--event-types", "order..x"]);
    expect(pattern.code).toBe(1);
    expect(pattern.stderr).toContain("stream_token.invalid");
    expect((await cli(["stream-tokens", "create", "--event-types", "*", "--ttl", "0"])).code).toBe(
      2,
    );
    expect(await store.listStreamTokens()).toEqual([]);
  });
});
