// DeliveryStore contract, named secrets (NamedSecretStore) and the endpoints that name one
// (ad-hoc targets): every backend stores, lists, rotates and deletes them alike.
import { describe, expect, it } from "vitest";
import { type ContractContext, claimAll, dispatch, expectCode, iso, START } from "./fixtures.js";

export function namedSecretContract(t: ContractContext): void {
  describe("named secrets", () => {
    it("creates with defaults, round-trips every field, and answers undefined for an unknown name", async () => {
      const minimal = await t.store.createNamedSecret({
        name: "partner",
        secrets: [{ secret: "whsec_one" }],
      });
      expect(minimal).toEqual({
        tenant: "default",
        name: "partner",
        scheme: "standard",
        schemeOptions: null,
        secrets: [{ secret: "whsec_one", expiresAt: null, createdAt: iso(START) }],
        createdAt: iso(START),
        updatedAt: iso(START),
      });
      expect(await t.store.getNamedSecret("default", "partner")).toEqual(minimal);

      const full = await t.store.createNamedSecret({
        tenant: "acme",
        name: "billing.v2",
        scheme: "hmac",
        schemeOptions: { idHeader: "X-Delivery-Id", signaturePrefix: "sha256=" },
        secrets: [
          { secret: "new-value" },
          { secret: "old-value", expiresAt: START + 60_000, createdAt: new Date(START - 5) },
        ],
      });
      expect(full.secrets).toEqual([
        { secret: "new-value", expiresAt: null, createdAt: iso(START) },
        { secret: "old-value", expiresAt: iso(START + 60_000), createdAt: iso(START - 5) },
      ]);
      const other = await t.connect();
      expect(await other.getNamedSecret("acme", "billing.v2")).toEqual(full);
      expect(await t.store.getNamedSecret("acme", "partner")).toBeUndefined();
      expect(await t.store.getNamedSecret("default", "billing.v2")).toBeUndefined();
    });

    it("refuses a taken name in the tenant with secret.already_exists; another tenant may reuse it", async () => {
      await t.store.createNamedSecret({ name: "same", secrets: [{ secret: "a" }] });
      await expectCode(
        t.store.createNamedSecret({ name: "same", secrets: [{ secret: "b" }] }),
        "secret.already_exists",
      );
      expect((await t.store.getNamedSecret("default", "same"))?.secrets[0]?.secret).toBe("a");
      const elsewhere = await t.store.createNamedSecret({
        tenant: "globex",
        name: "same",
        secrets: [{ secret: "b" }],
      });
      expect(elsewhere).toMatchObject({ tenant: "globex", name: "same" });
    });

    it("refuses bad input with secret.invalid, naming the field and never the value, and stores nothing", async () => {
      await expectCode(
        t.store.createNamedSecret({ name: "a/b", secrets: [{ secret: "x" }] }),
        "secret.invalid",
      );
      await expectCode(t.store.createNamedSecret({ name: "empty", secrets: [] }), "secret.invalid");
      await expectCode(
        t.store.createNamedSecret({ name: "n", tenant: "", secrets: [{ secret: "x" }] }),
        "secret.invalid",
      );
      const tooLong = "s".repeat(1025);
      const error = await t.store
        .createNamedSecret({ name: "long", secrets: [{ secret: tooLong }] })
        .catch((e: unknown) => e as Error);
      expect(error).toMatchObject({
        code: "secret.invalid",
        details: { field: "secrets[0].secret" },
      });
      expect((error as Error).message).not.toContain(tooLong);
      expect(await t.store.listNamedSecrets()).toEqual([]);
    });

    it("lists by tenant, then name, or one tenant's", async () => {
      for (const [tenant, name] of [
        ["globex", "b"],
        ["acme", "z"],
        ["acme", "a"],
        ["globex", "a"],
      ] as const) {
        await t.store.createNamedSecret({
          tenant,
          name,
          secrets: [{ secret: `${tenant}-${name}` }],
        });
      }
      const all = await t.store.listNamedSecrets();
      expect(all.map((s) => `${s.tenant}/${s.name}`)).toEqual([
        "acme/a",
        "acme/z",
        "globex/a",
        "globex/b",
      ]);
      const globex = await t.store.listNamedSecrets({ tenant: "globex" });
      expect(globex.map((s) => s.name)).toEqual(["a", "b"]);
      expect(await t.store.listNamedSecrets({ tenant: "nobody" })).toEqual([]);
    });

    it("replaces the versions (rotation), keeping name, scheme and createdAt", async () => {
      const created = await t.store.createNamedSecret({
        name: "rotating",
        scheme: "github",
        secrets: [{ secret: "first" }],
      });
      t.clock.advance(2_000);
      const rotated = await t.store.updateNamedSecretVersions("default", "rotating", [
        { secret: "second" },
        { secret: "first", expiresAt: START + 3_600_000, createdAt: START },
      ]);
      expect(rotated).toEqual({
        ...created,
        secrets: [
          { secret: "second", expiresAt: null, createdAt: iso(START + 2_000) },
          { secret: "first", expiresAt: iso(START + 3_600_000), createdAt: iso(START) },
        ],
        updatedAt: iso(START + 2_000),
      });
      expect(await t.store.getNamedSecret("default", "rotating")).toEqual(rotated);
      await expectCode(
        t.store.updateNamedSecretVersions("default", "rotating", []),
        "secret.invalid",
      );
      await expectCode(
        t.store.updateNamedSecretVersions("default", "missing", [{ secret: "x" }]),
        "secret.not_found",
      );
      expect(await t.store.getNamedSecret("default", "rotating")).toEqual(rotated);
    });

    it("deletes, answering false for one that does not exist", async () => {
      await t.store.createNamedSecret({ name: "gone", secrets: [{ secret: "x" }] });
      await t.store.createNamedSecret({ tenant: "acme", name: "gone", secrets: [{ secret: "y" }] });
      expect(await t.store.deleteNamedSecret("default", "gone")).toBe(true);
      expect(await t.store.deleteNamedSecret("default", "gone")).toBe(false);
      expect(await t.store.getNamedSecret("default", "gone")).toBeUndefined();
      expect(await t.store.getNamedSecret("acme", "gone")).toBeDefined();
    });
  });

  describe("ad-hoc endpoints", () => {
    it("store secretName and adhoc, are never listed, and are claimed like any endpoint", async () => {
      const listed = await t.store.createEndpoint({
        target: "https://receiver.example/listed",
        eventTypes: ["*"],
      });
      const adhoc = await t.store.createEndpoint({
        id: "adhoc_0123",
        target: "https://receiver.example/adhoc",
        eventTypes: ["*"],
        secretName: "partner",
        adhoc: true,
      });
      expect(adhoc).toMatchObject({ secretName: "partner", adhoc: true, secrets: [] });
      expect(listed).toMatchObject({ secretName: null, adhoc: false });
      const other = await t.connect();
      expect(await other.getEndpoint("adhoc_0123")).toEqual(adhoc);
      expect((await t.store.listEndpoints()).data.map((e) => e.id)).toEqual([listed.id]);
      expect((await t.store.listEndpoints({ enabled: true })).data).toHaveLength(1);

      await dispatch(t.store, [adhoc.id]);
      const [claimed] = await claimAll(t.store, "w");
      expect(claimed?.endpoint).toEqual(adhoc);
    });

    it("keep adhoc and what identifies them through updates; other settings may change", async () => {
      const adhoc = await t.store.createEndpoint({
        id: "adhoc_upd",
        target: "https://receiver.example/adhoc",
        eventTypes: ["*"],
        secretName: "one",
        adhoc: true,
      });
      t.clock.advance(1_000);
      const updated = await t.store.updateEndpoint(adhoc.id, {
        timeoutMs: 500,
        headers: { "X-Team": "billing" },
        target: adhoc.target, // unchanged: allowed
      });
      expect(updated).toEqual({
        ...adhoc,
        timeoutMs: 500,
        headers: { "X-Team": "billing" },
        updatedAt: iso(START + 1_000),
      });
      expect(await t.store.getEndpoint(adhoc.id)).toEqual(updated);
      for (const patch of [
        { adhoc: false },
        { secretName: "two" },
        { target: "https://receiver.example/other" },
        { tenant: "acme" },
        { transport: "nats", target: "orders.out" },
      ]) {
        await expectCode(t.store.updateEndpoint(adhoc.id, patch as never), "endpoint.invalid");
      }
      expect(await t.store.getEndpoint(adhoc.id)).toEqual(updated);
      // A named secret may be changed on an endpoint that is not ad hoc.
      const plain = await t.store.createEndpoint({
        target: "https://x.example",
        eventTypes: ["*"],
        secretName: "one",
      });
      expect(await t.store.updateEndpoint(plain.id, { secretName: "two" })).toMatchObject({
        secretName: "two",
        adhoc: false,
      });
      await expectCode(
        t.store.createEndpoint({
          target: "https://x.example",
          eventTypes: ["*"],
          secretName: "not a key",
        }),
        "endpoint.invalid",
      );
    });
  });
}
