// applyConfig writes what differs between herald.yaml and the store, and nothing on a re-run.
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import {
  applyConfig,
  type HeraldConfig,
  loadConfig,
} from "../../packages/server/src/config/index.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { configDir, removeConfigDirs, STANDARD_SECRET } from "./helpers.js";

afterAll(removeConfigDirs);

const OTHER_SECRET = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXkh";

const base = (endpointExtra = "", sourceExtra = "") => `
event_types:
  - name: order.created.v1
    description: Placed
sources:
  - name: stripe
    scheme: stripe
    secrets: [whsec_a]
${sourceExtra}endpoints:
  - id: acme
    url: https://hooks.acme.example/in
    event_types: [order.*]
${endpointExtra}  - id: generated
    url: https://other.example/in
    event_types: ["*"]
`;

const load = (yaml: string): Promise<HeraldConfig> => loadConfig({ cwd: configDir(yaml), env: {} });

describe("applyConfig", () => {
  it("creates everything once, then changes nothing", async () => {
    const clock = new ManualClock(Date.parse("2025-01-01T00:00:00Z"));
    const store = createMemoryDeliveryStore({ clock });
    const config = await load(base(`    secret: ${STANDARD_SECRET}\n`));
    expect(await applyConfig(store, config)).toEqual({
      eventTypes: 1,
      sources: 1,
      endpoints: { created: 2, updated: 0 },
    });
    const before = await store.getEndpoint("acme");
    expect(before?.secrets.map((s) => s.secret)).toEqual([STANDARD_SECRET]);
    const generated = await store.getEndpoint("generated");
    expect(generated?.secrets[0]?.secret).toMatch(/^whsec_/);

    clock.advance(60_000);
    // Loading again generates another secret for "generated": it must not replace the stored one.
    const again = await load(base(`    secret: ${STANDARD_SECRET}\n`));
    expect(await applyConfig(store, again)).toEqual({
      eventTypes: 0,
      sources: 0,
      endpoints: { created: 0, updated: 0 },
    });
    expect(await store.getEndpoint("acme")).toEqual(before);
    expect(await store.getEndpoint("generated")).toEqual(generated);
  });

  it("updates changed settings and returns removed keys to their defaults", async () => {
    const store = createMemoryDeliveryStore();
    await applyConfig(store, await load(base("    timeout_ms: 5000\n    ordered: true\n")));
    const changed = await load(
      base("    description: v2\n    headers: {X-A: b}\n    retry: {schedule_s: [1]}\n").replace(
        "https://hooks.acme.example/in",
        "https://hooks.acme.example/v2",
      ),
    );
    const result = await applyConfig(store, changed);
    expect(result).toEqual({ eventTypes: 0, sources: 0, endpoints: { created: 0, updated: 1 } });
    const acme = await store.getEndpoint("acme");
    expect(acme).toMatchObject({
      target: "https://hooks.acme.example/v2",
      description: "v2",
      headers: { "X-A": "b" },
      retry: { schedule_s: [1] },
      timeoutMs: 15_000, // removed from the file: back to the default
      ordered: false,
    });
    expect(await applyConfig(store, changed)).toEqual({
      eventTypes: 0,
      sources: 0,
      endpoints: { created: 0, updated: 0 },
    });
  });

  it("updates event types and sources that differ", async () => {
    const store = createMemoryDeliveryStore();
    await applyConfig(store, await load(base()));
    const yaml = base("", "    tolerance_s: 60\n").replace(
      "description: Placed",
      "description: Now placed",
    );
    expect(await applyConfig(store, await load(yaml))).toMatchObject({ eventTypes: 1, sources: 1 });
    expect((await store.getEventType("order.created.v1"))?.description).toBe("Now placed");
    expect((await store.getSource("stripe"))?.toleranceS).toBe(60);
  });

  it("keeps secrets unless the config gives a different one, which becomes current", async () => {
    const clock = new ManualClock(Date.parse("2025-01-01T00:00:00Z"));
    const store = createMemoryDeliveryStore({ clock });
    await applyConfig(store, await load(base()), { clock });
    const first = (await store.getEndpoint("acme"))!.secrets[0]!.secret;

    clock.advance(1000);
    const withSecret = await load(base(`    secret: ${OTHER_SECRET}\n`));
    expect((await applyConfig(store, withSecret, { clock })).endpoints).toEqual({
      created: 0,
      updated: 1,
    });
    const rotated = (await store.getEndpoint("acme"))!.secrets;
    expect(rotated.map((s) => s.secret)).toEqual([OTHER_SECRET, first]);
    expect(rotated[0]!.expiresAt).toBeNull();
    expect(rotated[1]!.expiresAt).toBe("2025-01-02T00:00:01.000Z"); // 24 h overlap

    expect((await applyConfig(store, withSecret, { clock })).endpoints.updated).toBe(0);
    // Dropping the secret from the file keeps the stored one.
    expect((await applyConfig(store, await load(base()), { clock })).endpoints.updated).toBe(0);
    expect((await store.getEndpoint("acme"))!.secrets[0]!.secret).toBe(OTHER_SECRET);
  });

  it("enables or disables only when the config says so", async () => {
    const store = createMemoryDeliveryStore();
    await applyConfig(store, await load(base()));
    await store.setEndpointEnabled("acme", false, "410 Gone");
    expect((await applyConfig(store, await load(base()))).endpoints.updated).toBe(0);
    expect((await store.getEndpoint("acme"))?.enabled).toBe(false);

    expect(
      (await applyConfig(store, await load(base("    enabled: true\n")))).endpoints.updated,
    ).toBe(1);
    expect((await store.getEndpoint("acme"))?.enabled).toBe(true);

    expect(
      (await applyConfig(store, await load(base("    enabled: false\n")))).endpoints.updated,
    ).toBe(1);
    expect(await store.getEndpoint("acme")).toMatchObject({
      enabled: false,
      disabledReason: "disabled in config",
    });
  });

  it("leaves records the config does not mention alone", async () => {
    const store = createMemoryDeliveryStore();
    const api = await store.createEndpoint({ target: "https://api.example/", eventTypes: ["*"] });
    await applyConfig(store, await load(base()));
    expect(await store.getEndpoint(api.id)).toEqual(api);
  });
});
