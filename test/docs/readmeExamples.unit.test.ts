// The README's code blocks are the examples/ files verbatim, and the verify example works.
import { readFileSync } from "node:fs";
import { signWebhook } from "@heraldjs/webhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { placeAndPay } from "../../examples/event-store-sqlite.js";
import { isAuthentic } from "../../examples/verify-webhook.js";
import { tempSqlitePath } from "../helpers/sqlite.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("README examples", () => {
  const blocks = [...read("README.md").matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```/g)];

  it("shows the verify and express examples", () => {
    expect(blocks.map((block) => block[1])).toEqual([
      "examples/verify-webhook.ts",
      "examples/inbound-express.ts",
      "examples/event-store-sqlite.ts",
    ]);
  });

  it.each(blocks.map((block) => [block[1]!, block[2]!]))("%s matches its file", (file, code) => {
    expect(code).toBe(read(file));
  });
});

describe("examples/verify-webhook.ts", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("accepts a body signed with the previous secret during a rotation, and refuses a tampered one", () => {
    vi.stubEnv("STRIPE_WEBHOOK_SECRET", "whsec_current");
    vi.stubEnv("STRIPE_PREVIOUS_SECRET", "whsec_previous");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const body = Buffer.from('{"id":"evt_1","type":"invoice.paid"}');
    const headers = signWebhook({ scheme: "stripe", secret: "whsec_previous", body });
    expect(isAuthentic(headers, body)).toBe(true);
    expect(isAuthentic(headers, Buffer.from('{"id":"evt_1","type":"invoice.void"}'))).toBe(false);
    expect(warn).toHaveBeenCalledWith("webhook refused: signature.invalid");
  });
});

describe("examples/event-store-sqlite.ts", () => {
  it("appends, publishes, and refuses to create the stream a second time", async () => {
    const file = tempSqlitePath();
    try {
      const result = await placeAndPay(file.path);
      expect(result).toMatchObject({ stream: "order/123", fromVersion: 2, toVersion: 2 });
      await expect(placeAndPay(file.path)).rejects.toMatchObject({
        code: "stream.version_conflict",
        details: { expected: 0, actual: 2 },
      });
    } finally {
      file.cleanup();
    }
  });
});
