// `herald nats listen`'s usage errors (exit 2 with a cli.* code, before connecting anywhere) and
// its start-up failure when NATS is unreachable (exit 1, bus.unavailable): what a user sees
// before the listener ever runs. Its running behaviour is test/e2e/natsListen.e2e.test.ts.
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/freePort.js";
import { runCliCaptured } from "../helpers/runCliCaptured.js";
import { tempSqlitePath } from "../helpers/sqlite.js";

const env = { HERALD_CONFIG: undefined, HERALD_NATS_URL: undefined, HERALD_DB: undefined };

describe("herald nats listen usage", () => {
  it.each([
    [["--subject", "orders .x"], "NATS subject"],
    [["--subject", "orders.>.x"], "NATS subject"],
    [["--subject", "orders.>=not a type"], "Herald type"],
    [["--subject", "orders.>=order.*"], "Herald type"],
    [["--stream", "a.b"], "JetStream name"],
    [["--durable", "x y"], "JetStream name"],
    [["--ack-wait", "10"], "1000–3600000"],
    [["--servers", " , "], "names no NATS server"],
  ])("refuses %j", async (args, words) => {
    const db = tempSqlitePath();
    try {
      const run = await runCliCaptured(["nats", "listen", "--db", db.path, ...args], { env });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: cli\.invalid_argument: /);
      expect(run.stderr).toContain(words);
    } finally {
      db.cleanup();
    }
  });

  it("exits 1 with bus.unavailable when NATS does not answer", async () => {
    const db = tempSqlitePath();
    try {
      const port = await freePort();
      const run = await runCliCaptured(
        ["nats", "listen", "--db", db.path, "--servers", `nats://127.0.0.1:${port}`],
        { env },
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("error: bus.unavailable: ");
      expect(run.stderr).not.toContain("listener running");
    } finally {
      db.cleanup();
    }
  });

  it("lists listen under herald nats", async () => {
    const run = await runCliCaptured(["nats", "--help"], { env });
    expect(run.stdout).toMatch(
      /listen \[options\]\s+turn agent events and NATS subjects into\s+Herald messages/,
    );
  });
});
