// herald.yaml's `streams:` section (the live streams' settings): loaded into the config, each
// HERALD_STREAM_* variable overriding its key, and bad values refused at file:line:column.
import { afterAll, describe, expect, it } from "vitest";
import { CONFIG_ENV_VARS, loadConfig } from "../../packages/server/src/config/index.js";
import {
  STREAM_DEFAULTS,
  STREAM_SETTINGS,
} from "../../packages/server/src/config/streamSettings.js";
import { configDir, rejection, removeConfigDirs } from "./helpers.js";

afterAll(removeConfigDirs);

const STREAMS = `log:
  level: warn
streams:
  poll_ms: 50
  heartbeat_ms: 2000
  max_buffer_bytes: 262144
  retry_ms: 0
`;

describe("streams: in herald.yaml", () => {
  it("loads every setting", async () => {
    const config = await loadConfig({ cwd: configDir(STREAMS), env: {} });
    expect(config.streams).toEqual({
      pollMs: 50,
      heartbeatMs: 2000,
      maxBufferedBytes: 262_144,
      retryMs: 0,
    });
  });

  it("keeps the defaults for what it leaves out, and for an empty or absent section", async () => {
    const partial = await loadConfig({ cwd: configDir("streams:\n  retry_ms: 5000\n"), env: {} });
    expect(partial.streams).toEqual({
      pollMs: 200,
      heartbeatMs: 15_000,
      maxBufferedBytes: 1_048_576,
      retryMs: 5000,
    });
    const empty = await loadConfig({ cwd: configDir("streams:\n"), env: {} });
    expect(empty.streams).toEqual(STREAM_DEFAULTS);
    const none = await loadConfig({ cwd: configDir(), env: {} });
    expect(none.streams).toEqual(STREAM_DEFAULTS);
  });

  it("is overridden key by key by HERALD_STREAM_* (an empty variable counts as unset)", async () => {
    const config = await loadConfig({
      cwd: configDir(STREAMS),
      env: {
        HERALD_STREAM_POLL_MS: "75",
        HERALD_STREAM_MAX_BUFFER_BYTES: "4096",
        HERALD_STREAM_RETRY_MS: "",
      },
    });
    expect(config.streams).toEqual({
      pollMs: 75,
      heartbeatMs: 2000,
      maxBufferedBytes: 4096,
      retryMs: 0,
    });
    const withoutFile = await loadConfig({
      cwd: configDir(),
      env: { HERALD_STREAM_HEARTBEAT_MS: "100" },
    });
    expect(withoutFile.streams).toEqual({ ...STREAM_DEFAULTS, heartbeatMs: 100 });
  });

  it("refuses a bad value at file:line:column, naming the key", async () => {
    const cases: [string, string][] = [
      ["streams:\n  poll_ms: 9\n", "herald.yaml:2:3: streams.poll_ms: must be ≥ 10"],
      [
        "streams:\n  retry_ms: 0\n  heartbeat_ms: 3600001\n",
        "herald.yaml:3:3: streams.heartbeat_ms: must be ≤ 3600000",
      ],
      [
        "streams:\n  max_buffer_bytes: 1023\n",
        "herald.yaml:2:3: streams.max_buffer_bytes: must be ≥ 1024",
      ],
      ["streams:\n  retry_ms: -1\n", "herald.yaml:2:3: streams.retry_ms: must be ≥ 0"],
      [
        "streams:\n  poll_ms: 12.5\n",
        "herald.yaml:2:3: streams.poll_ms: must be an integer (got a number)",
      ],
      [
        "streams:\n  poll_ms: fast\n",
        "herald.yaml:2:3: streams.poll_ms: must be a number (got a string)",
      ],
      ["streams:\n  pol_ms: 50\n", "herald.yaml:2:3: streams.pol_ms: is not a known key"],
    ];
    for (const [yaml, message] of cases) {
      const error = await rejection(loadConfig({ cwd: configDir(yaml), env: {} }));
      expect(error.code, yaml).toBe("config.invalid");
      expect(error.message, yaml).toBe(message);
    }
  });

  it("accepts each setting's bounds and refuses one past them, in the file and the environment", async () => {
    for (const { file, env, min, max } of Object.values(STREAM_SETTINGS)) {
      for (const ok of [min, max]) {
        const fromFile = await loadConfig({
          cwd: configDir(`streams:\n  ${file}: ${ok}\n`),
          env: {},
        });
        const fromEnv = await loadConfig({ cwd: configDir(), env: { [env]: String(ok) } });
        expect(fromFile.streams).toEqual(fromEnv.streams);
      }
      const below = await rejection(
        loadConfig({ cwd: configDir(`streams:\n  ${file}: ${min - 1}\n`), env: {} }),
      );
      expect(below.message).toBe(`herald.yaml:2:3: streams.${file}: must be ≥ ${min}`);
      const above = await rejection(
        loadConfig({ cwd: configDir(), env: { [env]: String(max + 1) } }),
      );
      expect(above.message).toBe(
        `Environment variable ${env}: must be a whole number from ${min} to ${max}`,
      );
    }
  });

  it("refuses a bad variable even when the file is good, naming the variable", async () => {
    const error = await rejection(
      loadConfig({ cwd: configDir(STREAMS), env: { HERALD_STREAM_POLL_MS: "50ms" } }),
    );
    expect(error.code).toBe("config.invalid");
    expect(error.message).toBe(
      "Environment variable HERALD_STREAM_POLL_MS: must be a whole number from 10 to 60000",
    );
    expect(error.details).toEqual({ variable: "HERALD_STREAM_POLL_MS" });
  });

  it("lists the variables with the keys they override", () => {
    expect(CONFIG_ENV_VARS).toMatchObject({
      HERALD_STREAM_POLL_MS: "streams.poll_ms",
      HERALD_STREAM_HEARTBEAT_MS: "streams.heartbeat_ms",
      HERALD_STREAM_MAX_BUFFER_BYTES: "streams.max_buffer_bytes",
      HERALD_STREAM_RETRY_MS: "streams.retry_ms",
    });
  });
});
