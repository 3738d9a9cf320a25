// The published surface as a consumer sees it: the exports map resolves from the built
// dist/, types compile under NodeNext, and the bin runs through an npm-style symlink.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
  symlinkSync(root, join(consumer, "node_modules", "herald"), "dir");
  symlinkSync(
    join("..", "herald", "dist", "cli", "bin.js"),
    join(consumer, "node_modules", ".bin", "herald"),
  );
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ type: "module" }));
});

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

describe("package exports", () => {
  it("resolves herald, herald/webhooks, herald/core, herald/events and herald/store from dist", async () => {
    const script = `
      const root = await import("herald");
      const webhooks = await import("herald/webhooks");
      const core = await import("herald/core");
      const events = await import("herald/events");
      const store = await import("herald/store");
      const delivery = await import("herald/delivery");
      console.log(JSON.stringify({
        root: [typeof root.signWebhook, typeof root.verifyWebhook, typeof root.HeraldError],
        webhooks: [typeof webhooks.signWebhook, typeof webhooks.verifyWebhook, typeof webhooks.generateSecret],
        core: [typeof core.HeraldError, typeof core.systemClock],
        events: [typeof events.createSqliteEventStore, typeof events.createPostgresEventStore, typeof events.createForwarder],
        delivery: [typeof delivery.createDispatcher, typeof delivery.createHttpTransport, typeof delivery.createSsrfGuard],
        store: [typeof store.openDatabase, typeof store.createSqliteDedupeStore, typeof store.createPostgresDeliveryStore],
        url: import.meta.resolve("herald/webhooks"),
      }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: consumer,
    });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out.root).toEqual(["function", "function", "function"]);
    expect(out.webhooks).toEqual(["function", "function", "function"]);
    expect(out.core).toEqual(["function", "object"]);
    expect(out.events).toEqual(["function", "function", "function"]);
    expect(out.store).toEqual(["function", "function", "function"]);
    expect(out.delivery).toEqual(["function", "function", "function"]);
    expect(String(out.url)).toMatch(/\/dist\/webhooks\.js$/);
  });

  it("keeps internal files private", async () => {
    const script = `import("herald/dist/signing/sign.js").then(() => console.log("open"), (e) => console.log(e.code));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: consumer,
    });
    expect(stdout.trim()).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });

  it("type-checks a consumer under NodeNext with strict settings", async () => {
    writeFileSync(
      join(consumer, "consumer.ts"),
      `import { signWebhook, verifyWebhook, type VerifyResult } from "herald/webhooks";
import { HeraldError } from "herald";
const headers: Record<string, string> = signWebhook({ scheme: "standard", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_1", body: "{}" });
const result: VerifyResult = verifyWebhook({ scheme: "standard", secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], headers, body: "{}" });
if (!result.ok) { const code: string = result.code; throw new HeraldError(code, result.message); }
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
          skipLibCheck: false,
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
    const pkg = (await import("../../package.json", { with: { type: "json" } })).default;
    expect(stdout.trim()).toBe(pkg.version);
    const help = await run(process.execPath, [bin, "--help"]);
    expect(help.stdout).toContain("Usage: herald");
  });
});
