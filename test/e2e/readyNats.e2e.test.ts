// /ready of a `herald serve` that delivers to NATS checks the NATS server beside the database:
// `checks.nats` is ok while the server answers, and /ready answers 503 once it stops (and
// 200 again once it is back). The NATS server is this test's own, on a free port, so stopping
// it touches nothing shared.
//
// What breaking it shows: a /ready without `checks.nats`, or one that stays 200 while the bus
// every NATS endpoint needs is gone (a load balancer would keep sending to a server that
// dead-letters nothing but cannot deliver either).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir, send, waitUntil } from "../helpers/e2eHttp.js";
import { freePort } from "../helpers/freePort.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";

const NATS_SERVER = "/usr/sbin/nats-server";
// The nats-server binary is installed on every machine this project runs on (CI included);
// without it this file cannot start its own server, and says so instead of passing.
const haveNats = existsSync(NATS_SERVER);
if (!haveNats) {
  if (process.env.CI === "true") throw new Error(`${NATS_SERVER} is required under CI=true`);
  console.warn(`SKIPPED: ${NATS_SERVER} not found; /ready's NATS check is not tested here`);
}

let herald: HeraldProcess | undefined;
let nats: ChildProcess | undefined;

afterEach(async () => {
  await herald?.kill9();
  herald = undefined;
  nats?.kill("SIGKILL");
  nats = undefined;
});

/** This test's own nats-server with JetStream on `port`; resolves once it accepts clients. */
async function startNats(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], {
    stdio: "pipe",
  });
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  await waitUntil(
    () => log.includes("Server is ready"),
    10_000,
    () => log,
  );
  return child;
}

async function ready(base: string) {
  const result = await send(`${base}/ready`);
  return result as { status: number; json: unknown; text: string };
}

// Skipped only where the nats-server binary is missing (a warning above); under CI=true its
// absence throws at load, so CI always runs it.
describe.skipIf(!haveNats)("/ready checks the NATS server", () => {
  it("ok while NATS answers, 503 once it stops, ok again when it is back", async () => {
    const dir = await makeTempDir("ready-nats");
    try {
      const port = await freePort();
      nats = await startNats(port, join(dir.path, "js"));
      const config = join(dir.path, "herald.yaml");
      await writeFile(
        config,
        [
          "nats:",
          `  servers: [nats://127.0.0.1:${port}]`,
          "  stream: READY_CHECK",
          "  subjects: ['ready.>']",
          "",
        ].join("\n"),
      );
      herald = await startHerald({
        cwd: dir.path,
        args: ["--db", join(dir.path, "herald.db"), "--config", config],
      });
      const base = herald.url as string;

      const up = await ready(base);
      expect(up.status).toBe(200);
      expect(up.json).toMatchObject({
        status: "ready",
        checks: { database: { status: "ok" }, nats: { status: "ok", required: true } },
      });

      const stopped = new Promise((resolve) => nats?.once("exit", resolve));
      nats.kill("SIGKILL");
      await stopped;
      let down = up;
      await waitUntil(
        async () => {
          down = await ready(base);
          return down.status === 503;
        },
        15_000,
        () => `/ready: ${down.status} ${down.text}`,
      );
      expect(down.json).toMatchObject({
        status: "not_ready",
        checks: { database: { status: "ok" }, nats: { status: "failed" } },
      });
      // The answer names the failed check, never the server's address.
      expect(down.text).not.toContain(String(port));

      nats = await startNats(port, join(dir.path, "js"));
      let back = down;
      await waitUntil(
        async () => {
          back = await ready(base);
          return back.status === 200;
        },
        20_000,
        () => `/ready after NATS came back: ${back.status} ${back.text}`,
      );
      expect(back.json).toMatchObject({ checks: { nats: { status: "ok" } } });
      expect(await herald.stop()).toBe(0);
      herald = undefined;
    } finally {
      await dir.remove();
    }
  }, 90_000);
});
