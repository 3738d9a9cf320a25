// The published surface of each package as a consumer sees it, from the built dist/ through
// the workspace's node_modules/@heraldjs links: the exports maps resolve, the files behind them
// stay private, the types compile under NodeNext with strict settings, and the bin runs through
// an npm-style symlink.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
let consumer: string;

beforeAll(() => {
  consumer = mkdtempSync(join(tmpdir(), "herald-consumer-"));
  mkdirSync(join(consumer, "node_modules", ".bin"), { recursive: true });
  symlinkSync(join(root, "node_modules", "@heraldjs"), join(consumer, "node_modules", "@heraldjs"));
  symlinkSync(
    join("..", "@heraldjs", "server", "dist", "cli", "bin.js"),
    join(consumer, "node_modules", ".bin", "herald"),
  );
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ type: "module" }));
});

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

const node = (script: string) =>
  run(process.execPath, ["--input-type=module", "-e", script], { cwd: consumer });

describe("package exports", () => {
  it("resolves every package entry from its dist/", async () => {
    const script = `
      const webhooks = await import("@heraldjs/webhooks");
      const core = await import("@heraldjs/core");
      const events = await import("@heraldjs/core/events");
      const delivery = await import("@heraldjs/core/delivery");
      const bus = await import("@heraldjs/core/bus");
      const store = await import("@heraldjs/core/store");
      const sqlite = await import("@heraldjs/sqlite");
      const postgres = await import("@heraldjs/postgres");
      const redis = await import("@heraldjs/redis");
      const nats = await import("@heraldjs/nats");
      const spec = await import("@heraldjs/spec");
      const server = await import("@heraldjs/server");
      console.log(JSON.stringify({
        webhooks: [typeof webhooks.signWebhook, typeof webhooks.verifyWebhook, typeof webhooks.createReceiver, typeof webhooks.HeraldError],
        core: [typeof core.HeraldError, typeof core.systemClock, typeof core.createEnvelope],
        events: [typeof events.createMemoryEventStore, typeof events.createForwarder],
        delivery: [typeof delivery.createDispatcher, typeof delivery.createHttpTransport, typeof delivery.createSsrfGuard],
        bus: [typeof bus.createMemoryBus, typeof bus.inboxHandler],
        store: [typeof store.createMemoryDeliveryStore, typeof store.createMemoryDedupeStore, typeof store.createInbox],
        sqlite: [typeof sqlite.openSqlite, typeof sqlite.createSqliteEventStore, typeof sqlite.createSqliteDeliveryStore, typeof sqlite.createSqliteDedupeStore],
        postgres: [typeof postgres.createPgPool, typeof postgres.createPostgresEventStore, typeof postgres.appendInTransaction],
        redis: [typeof redis.createRedisDedupeStore],
        nats: [typeof nats.createNatsPublisher, typeof nats.createNatsConsumer, typeof nats.createNatsTransport],
        spec: [typeof spec.loadSpec, typeof spec.renderOpenApi, typeof spec.fromOpenApi, typeof spec.checkOpenApi],
        server: [typeof server.startService, typeof server.loadConfig, typeof server.openDatabase],
        sameError: core.HeraldError === webhooks.HeraldError,
        url: import.meta.resolve("@heraldjs/webhooks"),
      }));`;
    const out = JSON.parse((await node(script)).stdout) as Record<string, unknown>;
    for (const [entry, kinds] of Object.entries(out)) {
      if (!Array.isArray(kinds)) continue;
      const missing = kinds.filter((kind) => kind !== "function" && kind !== "object");
      expect({ entry, missing }).toEqual({ entry, missing: [] });
    }
    expect(out.sameError).toBe(true);
    expect(String(out.url)).toMatch(/\/packages\/webhooks\/dist\/index\.js$/);
  });

  it("keeps the files behind the entries private", async () => {
    const script = `import("@heraldjs/webhooks/dist/signing/sign.js").then(() => console.log("open"), (e) => console.log(e.code));`;
    expect((await node(script)).stdout.trim()).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });

  it("type-checks a consumer of every package under NodeNext with strict settings", async () => {
    writeFileSync(
      join(consumer, "consumer.ts"),
      `import { signWebhook, verifyWebhook, type VerifyResult, HeraldError } from "@heraldjs/webhooks";
import { createEnvelope } from "@heraldjs/core";
import { createMemoryEventStore, type EventStore } from "@heraldjs/core/events";
import { createDispatcher } from "@heraldjs/core/delivery";
import { createSqliteEventStore, openSqlite } from "@heraldjs/sqlite";
import { createPgPool } from "@heraldjs/postgres";
import { createRedisDedupeStore } from "@heraldjs/redis";
import { createNatsPublisher } from "@heraldjs/nats";
import { startService } from "@heraldjs/server";
const headers: Record<string, string> = signWebhook({ scheme: "standard", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_1", body: "{}" });
const result: VerifyResult = verifyWebhook({ scheme: "standard", secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], headers, body: "{}" });
if (!result.ok) { const code: string = result.code; throw new HeraldError(code, result.message); }
const stores: EventStore[] = [createMemoryEventStore(), createSqliteEventStore(openSqlite(":memory:"))];
export const used = [createEnvelope, createDispatcher, createPgPool, createRedisDedupeStore, createNatsPublisher, startService, stores];
`,
    );
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [join(root, "node_modules", "@types")],
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    await expect(run(process.execPath, [tsc, "-p", consumer])).resolves.toBeDefined();
  });

  it("runs the herald bin through an npm-style symlink", async () => {
    const bin = join(consumer, "node_modules", ".bin", "herald");
    const { stdout } = await run(process.execPath, [bin, "--version"]);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(stdout.trim()).toBe(pkg.version);
    const help = await run(process.execPath, [bin, "--help"]);
    expect(help.stdout).toContain("Usage: herald");
  });
});
