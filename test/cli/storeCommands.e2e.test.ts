// The store commands through the built bin, as a user runs them against one SQLite file:
// add an endpoint, let deliveries to it fail (seeded here as a worker would), list them, and
// replay one by prefix and the rest in bulk.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSqlite } from "../../packages/sqlite/src/store/sqlite/database.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { systemClock } from "../../packages/webhooks/src/core/clock.js";
import { type ChildRun, runHerald } from "../helpers/spawnNode.js";

const dir = mkdtempSync(join(tmpdir(), "herald-store-e2e-"));
const db = join(dir, "herald.db");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `herald <args…>` on the test's database through HERALD_DB, as an operator's shell would. */
function herald(args: readonly string[]): Promise<ChildRun> {
  return runHerald(args, { env: { HERALD_DB: db, HERALD_SECRET: undefined } });
}

/** Three failed deliveries to the endpoint, driven to dead_lettered through a claim. */
async function failDeliveries(endpointId: string, count: number): Promise<void> {
  const sqlite = openSqlite(db);
  const store = createSqliteDeliveryStore(sqlite, { clock: systemClock });
  try {
    for (let i = 0; i < count; i++) {
      await store.createMessage({
        message: { type: "order.created.v1", payload: { order: i } },
        deliveries: [{ endpointId, maxAttempts: 1 }],
      });
    }
    const claimed = await store.claimDueDeliveries({ owner: "e2e", limit: 100, leaseMs: 60_000 });
    for (const { delivery } of claimed) {
      await store.deadLetter({
        deliveryId: delivery.id,
        owner: "e2e",
        attempt: {
          startedAt: Date.now(),
          durationMs: 3,
          succeeded: false,
          statusCode: 500,
          error: "HTTP 500",
        },
      });
    }
  } finally {
    sqlite.close();
  }
}

describe("herald endpoints add → deliveries → replay (built bin)", () => {
  it("works end to end on a fresh SQLite file", async () => {
    const add = await herald([
      "endpoints",
      "add",
      "--url",
      "https://receiver.example/hooks",
      "--event-type",
      "order.*",
    ]);
    expect(add.code, add.stderr).toBe(0);
    const endpointId = /^id: (ep_\S+)$/m.exec(add.stdout)?.[1] ?? "";
    const secret = /^secret: (whsec_\S+)$/m.exec(add.stdout)?.[1] ?? "";
    expect(endpointId).toMatch(/^ep_/);
    expect(secret).toMatch(/^whsec_/);

    await failDeliveries(endpointId, 3);

    const list = await herald(["deliveries", "--status", "dead_lettered", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const page = JSON.parse(list.stdout) as {
      data: { id: string; endpoint_id: string; status: string; last_status_code: number }[];
      next_cursor: string | null;
    };
    expect(page.next_cursor).toBeNull();
    expect(page.data).toHaveLength(3);
    for (const d of page.data) {
      expect(d).toMatchObject({
        endpoint_id: endpointId,
        status: "dead_lettered",
        last_status_code: 500,
      });
    }

    const [newest] = page.data;
    // The shortest prefix no other delivery shares (ids of one millisecond differ at the end).
    const others = page.data.slice(1).map((d) => d.id);
    let length = 5;
    while (others.some((id) => id.startsWith(newest!.id.slice(0, length)))) length += 1;
    const one = await herald(["replay", newest!.id.slice(0, length)]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe(`replayed ${newest!.id} (pending)\n`);

    // stderr is a pipe here: no progress bar, only the summary.
    const bulk = await herald(["replay", "--endpoint", endpointId, "--since", "1h"]);
    expect(bulk).toEqual({
      code: 0,
      stdout: `replayed 2 deliveries of ${endpointId}\n`,
      stderr: "",
    });

    const after = await herald(["deliveries", "--endpoint", endpointId]);
    expect(after.stdout.match(/ pending /g)).toHaveLength(3);
    expect(after.stdout + list.stdout + bulk.stdout).not.toContain(secret);

    const usage = await herald(["replay", newest!.id, "--endpoint", endpointId, "--since", "1h"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: cli\.invalid_argument: /);
  });
});
