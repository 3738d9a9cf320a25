// DeliveryStore contract, NATS tokens (NatsTokenStore): every backend stores, finds by hash,
// lists, revokes and refuses them alike.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { NatsTokenInput } from "../../../packages/core/src/store/deliveryPorts.js";
import { type ContractContext, expectCode, iso, START } from "./fixtures.js";

/** A well-formed token id: `ntk_` and 26 ULID characters, ordered by `n`. */
const ntk = (n: number) => `ntk_${String(n).padStart(26, "0")}`;
/** A SHA-256 (lowercase hex) standing for the token `n`. */
const hash = (n: number | string) => createHash("sha256").update(`token-${n}`).digest("hex");
const AGENT = "0b6f2c9e-5d1a-4c3b-9f2e-7a8b9c0d1e2f";

const agent = (n: number, overrides: Partial<NatsTokenInput> = {}): NatsTokenInput => ({
  id: ntk(n),
  identity: "agent.compute",
  subjectId: AGENT,
  tokenHash: hash(n),
  ...overrides,
});

/** The `details.field` of the HeraldError `promise` rejects with, after checking its code. */
async function invalidField(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ name: "HeraldError", code: "nats_token.invalid" });
  return (error as { details?: { field?: unknown } }).details?.field;
}

export function natsTokenContract(t: ContractContext): void {
  describe("NATS tokens", () => {
    it("creates with defaults, round-trips every field, and answers undefined for an unknown id", async () => {
      const minimal = await t.store.createNatsToken(agent(1));
      expect(minimal).toEqual({
        id: ntk(1),
        identity: "agent.compute",
        subjectId: AGENT,
        tenant: "default",
        tokenHash: hash(1),
        createdAt: iso(START),
        expiresAt: null,
        revokedAt: null,
      });
      expect(await t.store.getNatsToken(ntk(1))).toEqual(minimal);

      t.clock.advance(5);
      const full = await t.store.createNatsToken({
        id: ntk(2),
        identity: "client",
        subjectId: "user_42",
        tenant: "acme",
        tokenHash: hash(2),
        expiresAt: new Date(START + 86_400_000),
      });
      expect(full).toEqual({
        id: ntk(2),
        identity: "client",
        subjectId: "user_42",
        tenant: "acme",
        tokenHash: hash(2),
        createdAt: iso(START + 5),
        expiresAt: iso(START + 86_400_000),
        revokedAt: null,
      });
      const other = await t.connect();
      expect(await other.getNatsToken(ntk(2))).toEqual(full);
      expect(await other.getNatsToken(ntk(1))).toEqual(minimal);
      expect(await t.store.getNatsToken(ntk(3))).toBeUndefined();
      expect(await t.store.getNatsToken("not-an-id")).toBeUndefined();
    });

    it("finds a token by its hash, revoked and expired ones included", async () => {
      const live = await t.store.createNatsToken(agent(1));
      const expiring = await t.store.createNatsToken(
        agent(2, { identity: "service", subjectId: "listener", expiresAt: START + 1_000 }),
      );
      const revoked = await t.store.createNatsToken(agent(3, { identity: "agent.storage" }));
      t.clock.advance(2_000);
      await t.store.revokeNatsToken(revoked.id);
      const other = await t.connect();
      expect(await other.findNatsToken(hash(1))).toEqual(live);
      expect(await other.findNatsToken(hash(2))).toEqual(expiring);
      expect(await other.findNatsToken(hash(3))).toEqual({
        ...revoked,
        revokedAt: iso(START + 2_000),
      });
      expect(await t.store.findNatsToken(hash(4))).toBeUndefined();
    });

    it("lists oldest first (by id), and only those matching every filter given", async () => {
      // Created out of id order: the list is still ordered by id.
      const rows: [number, Partial<NatsTokenInput>][] = [
        [4, { identity: "client", subjectId: "alice", tenant: "acme" }],
        [1, { identity: "agent.compute", subjectId: AGENT }],
        [3, { identity: "client", subjectId: "bob", tenant: "acme" }],
        [2, { identity: "service", subjectId: "listener" }],
        [5, { identity: "client", subjectId: "alice", tenant: "globex" }],
        [6, { identity: "agent.network", subjectId: AGENT, tenant: "acme" }],
      ];
      for (const [n, overrides] of rows) {
        await t.store.createNatsToken(agent(n, overrides));
        t.clock.advance(1);
      }
      const ids = async (options?: Parameters<typeof t.store.listNatsTokens>[0]) =>
        (await t.store.listNatsTokens(options)).map((r) => Number(r.id.slice(4)));

      expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await ids({})).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await ids({ tenant: "acme" })).toEqual([3, 4, 6]);
      expect(await ids({ tenant: "default" })).toEqual([1, 2]);
      expect(await ids({ identity: "client" })).toEqual([3, 4, 5]);
      expect(await ids({ identity: "agent.network" })).toEqual([6]);
      expect(await ids({ subjectId: "alice" })).toEqual([4, 5]);
      expect(await ids({ subjectId: AGENT })).toEqual([1, 6]);
      expect(await ids({ tenant: "acme", identity: "client" })).toEqual([3, 4]);
      expect(await ids({ tenant: "acme", subjectId: "alice" })).toEqual([4]);
      expect(await ids({ tenant: "acme", identity: "client", subjectId: "alice" })).toEqual([4]);
      expect(await ids({ identity: "agent.storage" })).toEqual([]);
      expect(await ids({ tenant: "nobody" })).toEqual([]);

      const [first] = await (await t.connect()).listNatsTokens({ subjectId: "listener" });
      expect(first).toEqual({
        id: ntk(2),
        identity: "service",
        subjectId: "listener",
        tenant: "default",
        tokenHash: hash(2),
        createdAt: iso(START + 3),
        expiresAt: null,
        revokedAt: null,
      });
    });

    it("revokes, keeping the first revocation time; undefined for an unknown id", async () => {
      const created = await t.store.createNatsToken(agent(1));
      const untouched = await t.store.createNatsToken(agent(2));
      t.clock.advance(1_000);
      const revoked = await t.store.revokeNatsToken(created.id);
      expect(revoked).toEqual({ ...created, revokedAt: iso(START + 1_000) });
      t.clock.advance(1_000);
      const other = await t.connect();
      expect(await other.revokeNatsToken(created.id)).toEqual(revoked);
      expect(await t.store.revokeNatsToken(created.id, { now: START + 5_000 })).toEqual(revoked);
      expect(await t.store.getNatsToken(created.id)).toEqual(revoked);
      expect(await t.store.getNatsToken(untouched.id)).toEqual(untouched);

      const explicit = await t.store.revokeNatsToken(untouched.id, { now: START + 60_000 });
      expect(explicit?.revokedAt).toBe(iso(START + 60_000));

      expect(await t.store.revokeNatsToken(ntk(9))).toBeUndefined();
      expect(await t.store.getNatsToken(ntk(9))).toBeUndefined();
    });

    it("refuses bad input with nats_token.invalid naming the field, and stores nothing", async () => {
      const create = (overrides: Record<string, unknown>) =>
        invalidField(t.store.createNatsToken(agent(1, overrides as Partial<NatsTokenInput>)));

      expect(await create({ identity: "agent.gpu" })).toBe("identity");
      expect(await create({ identity: "agent" })).toBe("identity");
      expect(await create({ identity: undefined })).toBe("identity");
      // An agent's id is a lowercase UUID.
      expect(await create({ subjectId: "not-a-uuid" })).toBe("id");
      expect(await create({ subjectId: AGENT.toUpperCase() })).toBe("id");
      expect(await create({ identity: "agent.storage", subjectId: "listener" })).toBe("id");
      // Other ids and tenants are one subject token: no dot, wildcard or space.
      for (const bad of ["a.b", "*", ">", "a b", "", "x".repeat(129), 42]) {
        expect(await create({ identity: "client", subjectId: bad, tenant: "acme" })).toBe("id");
        expect(await create({ identity: "service", subjectId: bad })).toBe("id");
        expect(await create({ identity: "client", subjectId: "alice", tenant: bad })).toBe(
          "tenant",
        );
      }
      expect(await create({ tenant: "acme.eu" })).toBe("tenant");
      // Expiry: in the future, a time.
      expect(await create({ expiresAt: START - 1 })).toBe("expiresAt");
      expect(await create({ expiresAt: START })).toBe("expiresAt");
      expect(await create({ expiresAt: "tomorrow" })).toBe("expiresAt");
      // The hash: a SHA-256 in lowercase hex, never the token itself.
      expect(await create({ tokenHash: hash(1).toUpperCase() })).toBe("tokenHash");
      expect(await create({ tokenHash: hash(1).slice(1) })).toBe("tokenHash");
      expect(await create({ tokenHash: "hnt_secret" })).toBe("tokenHash");
      // The record's own id.
      expect(await create({ id: "stk_00000000000000000000000001" })).toBe("id");
      expect(await create({ id: "ntk_short" })).toBe("id");

      expect(await t.store.listNatsTokens()).toEqual([]);
      expect(await t.store.findNatsToken(hash(1))).toBeUndefined();
    });

    it("accepts every identity and the edge of each id rule", async () => {
      const made = [
        await t.store.createNatsToken(agent(1, { identity: "agent.compute" })),
        await t.store.createNatsToken(agent(2, { identity: "agent.storage" })),
        await t.store.createNatsToken(agent(3, { identity: "agent.network" })),
        await t.store.createNatsToken(
          agent(4, { identity: "client", subjectId: "A_z-9", tenant: "t".repeat(128) }),
        ),
        await t.store.createNatsToken(
          agent(5, { identity: "service", subjectId: "s".repeat(128), expiresAt: START + 1 }),
        ),
      ];
      expect(made.map((r) => r.identity)).toEqual([
        "agent.compute",
        "agent.storage",
        "agent.network",
        "client",
        "service",
      ]);
      expect(await t.store.listNatsTokens()).toEqual(made);
      await expectCode(t.store.createNatsToken(agent(6, { tenant: "a>" })), "nats_token.invalid");
    });
  });
}
