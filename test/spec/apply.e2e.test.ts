// A webhooks spec applied to the service: `herald serve` with the spec as herald.yaml registers
// its in webhooks as sources and its event types in the catalogue, and `herald spec push` does
// the same to a running Herald through /v1. Both against the built CLI.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signWebhook } from "@heraldjs/webhooks";
import { afterAll, describe, expect, it } from "vitest";
import { startHerald } from "../helpers/heraldServer.js";
import { repoRoot, runHerald, runNode } from "../helpers/spawnNode.js";

const dir = mkdtempSync(join(tmpdir(), "herald-spec-apply-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
cpSync(join(repoRoot, "examples/spec/webhooks.yaml"), join(dir, "herald.yaml"));
cpSync(join(repoRoot, "examples/spec/schemas"), join(dir, "schemas"), { recursive: true });
const secret = "whsec_spec_apply";

async function listed(url: string) {
  const get = async (path: string) =>
    ((await (await fetch(`${url}${path}`)).json()) as { data: Array<Record<string, unknown>> })
      .data;
  return { sources: await get("/v1/sources"), eventTypes: await get("/v1/event-types") };
}

const EVENT_TYPES = [
  "order.cancelled",
  "order.placed",
  "order.shipped.v0",
  "stripe.charge.refunded",
  "stripe.invoice.paid",
];

describe("a spec in herald.yaml", () => {
  it("is applied by herald serve: sources, event types, and webhooks received", async () => {
    const herald = await startHerald({
      cwd: dir,
      args: ["--config", "herald.yaml", "--db", "serve.db"],
      env: { HERALD_STRIPE_SECRETS: secret },
    });
    try {
      const url = herald.url as string;
      const { sources, eventTypes } = await listed(url);
      expect(sources.map((s) => [s.name, s.scheme, s.tolerance_s, s.dedupe_ttl_s])).toEqual([
        ["stripe", "stripe", 300, 259200],
      ]);
      expect(eventTypes.map((e) => e.name).sort()).toEqual(EVENT_TYPES);
      expect(eventTypes.find((e) => e.name === "order.shipped.v0")?.deprecated).toBe(true);
      expect(eventTypes.find((e) => e.name === "stripe.invoice.paid")?.schema).toMatchObject({
        required: ["id", "type", "data"],
      });
      const body = JSON.stringify({
        id: "evt_spec",
        type: "invoice.paid",
        data: { object: { id: "in_1", amount_paid: 1, currency: "eur" } },
      });
      const response = await fetch(`${url}/webhooks/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...signWebhook({ scheme: "stripe", secret, body }),
        },
        body,
      });
      expect(response.status).toBe(202);
    } finally {
      expect(await herald.stop()).toBe(0);
    }
  });

  it("refuses to serve when an in webhook's secrets are not in the environment", async () => {
    const run = await runNode(
      [
        join(repoRoot, "packages/server/dist/cli/bin.js"),
        "serve",
        "--config",
        "herald.yaml",
        "--port",
        "0",
        "--db",
        "refused.db",
      ],
      { cwd: dir, env: { HERALD_STRIPE_SECRETS: undefined } },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("webhooks[0] (stripe): HERALD_STRIPE_SECRETS is not set");
  });
});

describe("herald spec push", () => {
  it("applies the spec to a running Herald through /v1, idempotently", async () => {
    // A folder of its own, with no herald.yaml in it.
    const own = mkdtempSync(join(tmpdir(), "herald-spec-push-"));
    const herald = await startHerald({ cwd: own });
    try {
      const url = herald.url as string;
      const push = () =>
        runHerald(["spec", "push", "--spec", "herald.yaml", "--url", url], {
          cwd: dir,
          env: { HERALD_STRIPE_SECRETS: secret },
        });
      for (const run of [await push(), await push()]) {
        expect(run.stderr).toBe("");
        expect(run.stdout).toBe(`pushed 1 source(s) and 5 event type(s) to ${url}\n`);
        expect(run.code).toBe(0);
      }
      const { sources, eventTypes } = await listed(url);
      expect(sources.map((s) => s.name)).toEqual(["stripe"]);
      expect(eventTypes.map((e) => e.name).sort()).toEqual(EVENT_TYPES);
    } finally {
      await herald.stop();
      rmSync(own, { recursive: true, force: true });
    }
  });
});
