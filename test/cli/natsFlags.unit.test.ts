// Where the `herald nats` commands connect: --servers over herald.yaml's nats: section and its
// HERALD_NATS_* variables, the section's credentials unless the command brings its own.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createIo } from "../../packages/server/src/cli/io.js";
import { DEFAULT_NATS_URL, loadNatsConnection } from "../../packages/server/src/cli/natsFlags.js";

const dir = mkdtempSync(join(tmpdir(), "herald-nats-flags-"));
const file = join(dir, "herald.yaml");
writeFileSync(file, "nats:\n  servers: nats://from-file:4222\n  token: hnt_from_file\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const io = (env: Record<string, string> = {}) =>
  createIo({ env, stdout: { write() {} }, stderr: { write() {} } });

describe("loadNatsConnection", () => {
  it("defaults to the local server with no credentials", async () => {
    const empty = join(dir, "empty.yaml");
    writeFileSync(empty, "server:\n  port: 8080\n");
    const { connection } = await loadNatsConnection({ config: empty }, io(), { name: "t" });
    expect(connection.servers).toEqual([DEFAULT_NATS_URL]);
    expect(connection.connectOptions).toEqual({ name: "t" });
  });

  it("takes herald.yaml's nats: section, and --servers over it", async () => {
    const fromFile = await loadNatsConnection({ config: file }, io(), { name: "t" });
    expect(fromFile.connection).toMatchObject({
      servers: ["nats://from-file:4222"],
      connectOptions: { name: "t", token: "hnt_from_file" },
    });
    const flagged = await loadNatsConnection(
      { config: file, servers: ["nats://a:1", "nats://b:2"] },
      io(),
      { name: "t" },
    );
    expect(flagged.connection.servers).toEqual(["nats://a:1", "nats://b:2"]);
    expect(flagged.connection.connectOptions).toMatchObject({ token: "hnt_from_file" });
  });

  it("lets HERALD_NATS_TOKEN go with --servers alone, and leaves credentials out when asked", async () => {
    const env = { HERALD_NATS_TOKEN: "hnt_from_env" };
    const { connection } = await loadNatsConnection({ servers: ["nats://x:4222"] }, io(env), {
      name: "t",
    });
    expect(connection).toMatchObject({
      servers: ["nats://x:4222"],
      connectOptions: { token: "hnt_from_env" },
    });
    const bare = await loadNatsConnection({ config: file }, io(env), {
      name: "t",
      credentials: false,
    });
    expect(bare.connection.connectOptions).toEqual({ name: "t" });
  });
});
