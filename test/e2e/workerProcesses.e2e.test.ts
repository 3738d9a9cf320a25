// `herald serve --no-worker` takes webhooks while separate `herald worker` processes deliver
// them: one worker on SQLite, two sharing PostgreSQL. Sources and endpoints come from a
// herald.yaml that `serve` applies at start (the workers read the same file).
//
// Wake-ups: with the worker's poll interval at 60 s, an accepted webhook is still delivered at
// once — by the embedded worker of `herald serve` (an in-process signal), by a separate
// `herald worker` on the same SQLite file (the `<db>-wake` file), and by a worker on
// PostgreSQL (LISTEN/NOTIFY). A write that no longer signals, or a worker that no longer
// listens, leaves each webhook waiting for the 60 s poll, past the test's 15 s wait.
//
// What breaking it shows: a serve that still delivers with --no-worker, or a worker that never
// claims, leaves deliveries pending (timeout); two workers claiming the same delivery show as a
// webhook-id received twice; a config that is not applied at start gives 404 source.not_found.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  keepAliveAgent,
  listAllDeliveries,
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
const WEBHOOKS = 200;
const WAKE_WEBHOOKS = 5;

let processes: HeraldProcess[] = [];
let receiver: Receiver | undefined;
const agent = keepAliveAgent(32);

afterEach(async () => {
  await Promise.all(processes.map((p) => p.kill9()));
  processes = [];
  await receiver?.close();
  receiver = undefined;
});

afterAll(() => agent.close());

async function configFile(dir: string, receiverUrl: string, pollMs = 100): Promise<string> {
  const file = join(dir, "herald.yaml");
  await writeFile(
    file,
    [
      "sources:",
      "  - name: shop",
      "    scheme: stripe",
      // Interpolated by herald from the environment, not by JavaScript.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: herald.yaml syntax
      "    secrets: ['${SHOP_SECRET}']",
      "    type_from: { body: type }",
      "endpoints:",
      "  - id: ep_orders",
      `    url: ${receiverUrl}`,
      "    event_types: ['shop.*']",
      "worker:",
      `  poll_interval_ms: ${pollMs}`,
      "",
    ].join("\n"),
  );
  return file;
}

async function run(dbArgs: string[], workers: number) {
  const dir = await makeTempDir("workers");
  try {
    receiver = await startReceiver();
    const secret = newStripeSecret();
    const config = await configFile(dir.path, receiver.url);
    const env = { SHOP_SECRET: secret, HERALD_SSRF_ALLOW: "127.0.0.0/8" };
    const serve = await startHerald({
      cwd: dir.path,
      args: [...dbArgs, "--config", config, "--no-worker"],
      env,
    });
    processes.push(serve);
    const base = serve.url as string;
    for (let i = 0; i < WEBHOOKS; i++) {
      const body = stripeEvent(`evt_w${i}`);
      const result = await send(`${base}/webhooks/shop`, {
        method: "POST",
        headers: stripeHeaders(secret, body),
        body,
        agent,
      });
      expect(result.status).toBe(202);
    }
    // Nothing is delivered without a worker.
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.ids).toHaveLength(0);
    for (let i = 0; i < workers; i++) {
      processes.push(
        await startHerald({
          cwd: dir.path,
          command: "worker",
          args: [...dbArgs, "--config", config, "--concurrency", "8"],
          env,
        }),
      );
    }
    const r = receiver;
    await waitUntil(
      () => r.seen.size === WEBHOOKS,
      30_000,
      () => `${r.seen.size}/${WEBHOOKS} delivered`,
    );
    // The receiver answers before the worker records the outcome.
    let delivered = 0;
    await waitUntil(
      async () => {
        delivered = (await listAllDeliveries(base, "status=delivered&endpoint=ep_orders")).length;
        return delivered === WEBHOOKS;
      },
      10_000,
      () => `${delivered}/${WEBHOOKS} recorded as delivered`,
    );
    // Each webhook-id exactly once: the workers never shared a lease.
    expect(r.ids).toHaveLength(WEBHOOKS);
    // Graceful stop of every process.
    for (const p of processes) expect(await p.stop()).toBe(0);
  } finally {
    await dir.remove();
  }
}

/**
 * Starts serve (with or without its worker) and, when `separateWorker`, one `herald worker`,
 * polling every 60 s; waits past the worker's first claim, then sends webhooks one at a time,
 * each of which must be delivered long before the next poll.
 */
async function deliversWithoutPolling(dbArgs: string[], separateWorker: boolean): Promise<void> {
  const dir = await makeTempDir("wake");
  try {
    receiver = await startReceiver();
    const secret = newStripeSecret();
    const config = await configFile(dir.path, receiver.url, 60_000);
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
    for (let i = 0; i < WAKE_WEBHOOKS; i++) {
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

/** Runs `test` with `--db` pointing at a SQLite file in a temp directory removed after. */
async function onSqliteFile(test: (dbArgs: string[]) => Promise<void>): Promise<void> {
  const dir = await makeTempDir("workers-db");
  try {
    await test(["--db", join(dir.path, "herald.db")]);
  } finally {
    await dir.remove();
  }
}

describe("wake-ups: delivered at once with a 60 s poll interval", () => {
  it("SQLite, the worker embedded in serve (in-process signal)", async () => {
    await onSqliteFile((dbArgs) => deliversWithoutPolling(dbArgs, false));
  }, 60_000);

  it("SQLite, serve --no-worker and a separate herald worker (the wake file)", async () => {
    await onSqliteFile((dbArgs) => deliversWithoutPolling(dbArgs, true));
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

describe("herald worker processes", () => {
  it("one worker on SQLite delivers what serve --no-worker accepted", async () => {
    await onSqliteFile((dbArgs) => run(dbArgs, 1));
  }, 60_000);

  // Skipped only when postgres is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
  describe.skipIf(!pgAvailable)("PostgreSQL", () => {
    let schema: TestSchema | undefined;
    afterAll(async (suite) => schema?.dropIfPassed(suite));

    it("two workers share PostgreSQL, each delivery sent once", async () => {
      schema = await createTestSchema("e2e_workers", { migrate: false, max: 2 });
      await run(["--db", schema.url, "--schema", schema.schema], 2);
    }, 60_000);
  });
});
