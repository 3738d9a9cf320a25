// Wake-ups, as a user runs Herald: with the worker's poll interval at 60 s, an accepted webhook
// is still delivered at once — by the embedded worker of `herald serve` (an in-process signal),
// by a separate `herald worker` on the same SQLite file (the `<db>-wake` file), and by a worker
// on PostgreSQL (LISTEN/NOTIFY).
//
// What breaking it shows: a write that no longer signals, or a worker that no longer listens,
// leaves each webhook waiting for the 60 s poll, past the test's 15 s wait.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  keepAliveAgent,
  makeTempDir,
  newStripeSecret,
  type Receiver,
  send,
  startReceiver,
  stripeEvent,
  stripeHeaders,
  waitUntil,
} from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const pgAvailable = await serviceAvailable("postgres");
const WEBHOOKS = 5;

let processes: HeraldProcess[] = [];
let receiver: Receiver | undefined;
const agent = keepAliveAgent(4);

afterEach(async () => {
  await Promise.all(processes.map((p) => p.kill9()));
  processes = [];
  await receiver?.close();
  receiver = undefined;
});

afterAll(() => agent.close());

/**
 * Starts serve (with or without its worker) and, when `separateWorker`, one `herald worker`;
 * waits past the worker's first claim, then sends webhooks one at a time, each of which must
 * be delivered long before the next poll.
 */
async function deliversWithoutPolling(dbArgs: string[], separateWorker: boolean): Promise<void> {
  const dir = await makeTempDir("wake");
  try {
    receiver = await startReceiver();
    const secret = newStripeSecret();
    const config = join(dir.path, "herald.yaml");
    await writeFile(
      config,
      [
        "sources:",
        "  - name: shop",
        "    scheme: stripe",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: herald.yaml syntax
        "    secrets: ['${SHOP_SECRET}']",
        "    type_from: { body: type }",
        "endpoints:",
        "  - id: ep_orders",
        `    url: ${receiver.url}`,
        "    event_types: ['shop.*']",
        "worker:",
        "  poll_interval_ms: 60000",
        "",
      ].join("\n"),
    );
    const env = { SHOP_SECRET: secret, HERALD_SSRF_ALLOW: "127.0.0.0/8" };
    const serveArgs = [...dbArgs, "--config", config];
    const serve = await startHerald({
      cwd: dir.path,
      args: separateWorker ? [...serveArgs, "--no-worker"] : serveArgs,
      env,
    });
    processes.push(serve);
    if (separateWorker) {
      processes.push(await startHerald({ cwd: dir.path, command: "worker", args: serveArgs, env }));
    }
    // The worker's first claim (at start, nothing due) is over: only a wake-up claims again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const r = receiver;
    for (let i = 0; i < WEBHOOKS; i++) {
      const body = stripeEvent(`evt_wake${i}`);
      const result = await send(`${serve.url}/webhooks/shop`, {
        method: "POST",
        headers: stripeHeaders(secret, body),
        body,
        agent,
      });
      expect(result.status).toBe(202);
      await waitUntil(
        () => r.ids.length === i + 1,
        15_000,
        () => `webhook ${i + 1}: ${r.ids.length} delivered (poll interval 60 s)`,
      );
    }
    for (const p of processes) expect(await p.stop()).toBe(0);
  } finally {
    await dir.remove();
  }
}

describe("wake-ups: delivered at once with a 60 s poll interval", () => {
  it("SQLite, the worker embedded in serve (in-process signal)", async () => {
    const dir = await makeTempDir("wake-db");
    try {
      await deliversWithoutPolling(["--db", join(dir.path, "herald.db")], false);
    } finally {
      await dir.remove();
    }
  }, 60_000);

  it("SQLite, serve --no-worker and a separate herald worker (the wake file)", async () => {
    const dir = await makeTempDir("wake-db");
    try {
      await deliversWithoutPolling(["--db", join(dir.path, "herald.db")], true);
    } finally {
      await dir.remove();
    }
  }, 60_000);

  // Skipped only when postgres is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
  describe.skipIf(!pgAvailable)("PostgreSQL", () => {
    let schema: TestSchema | undefined;
    afterAll(async (suite) => schema?.dropIfPassed(suite));

    it("serve --no-worker and a separate herald worker (LISTEN/NOTIFY)", async () => {
      schema = await createTestSchema("e2e_wake", { migrate: false, max: 2 });
      await deliversWithoutPolling(["--db", schema.url, "--schema", schema.schema], true);
    }, 60_000);
  });
});
