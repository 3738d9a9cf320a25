// NATS tokens in the delivery layer: minting (the token shown once, only its SHA-256 stored),
// checking a presented token with the reason for each refusal, and revoking by id.
import { createHash } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import {
  checkNatsToken,
  mintNatsToken,
  NATS_TOKEN_PREFIX,
  natsTokenHash,
  revokeNatsToken,
} from "../../packages/core/src/delivery/natsTokens.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";

const START = Date.UTC(2025, 0, 1);
const AGENT = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";

describe("NATS tokens", () => {
  let clock: ManualClock;
  let store: DeliveryStore;

  beforeEach(() => {
    clock = new ManualClock(START);
    store = createMemoryDeliveryStore({ clock });
  });

  describe("mintNatsToken", () => {
    it("returns hnt_ and 43 base64url characters, and stores only its SHA-256", async () => {
      const { token, record } = await mintNatsToken(
        store,
        { identity: "agent.compute", id: AGENT },
        { clock },
      );
      expect(token).toMatch(/^hnt_[A-Za-z0-9_-]{43}$/);
      expect(token.startsWith(NATS_TOKEN_PREFIX)).toBe(true);
      expect(record).toEqual({
        id: expect.stringMatching(/^ntk_[0-9A-Z]{26}$/),
        identity: "agent.compute",
        subjectId: AGENT,
        tenant: "default",
        tokenHash: createHash("sha256").update(token).digest("hex"),
        createdAt: new Date(START).toISOString(),
        expiresAt: null,
        revokedAt: null,
      });
      expect(natsTokenHash(token)).toBe(record.tokenHash);
      const stored = await store.listNatsTokens();
      expect(stored).toEqual([record]);
      // Nothing stored holds the token itself.
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(JSON.stringify(stored)).not.toContain(token.slice(NATS_TOKEN_PREFIX.length));
    });

    it("mints a different token each time, with the tenant and lifetime given", async () => {
      const a = await mintNatsToken(
        store,
        { identity: "client", id: "alice", tenant: "acme", ttlS: 3_600 },
        { clock },
      );
      const b = await mintNatsToken(store, { identity: "client", id: "alice", tenant: "acme" });
      expect(a.token).not.toBe(b.token);
      expect(a.record.id).not.toBe(b.record.id);
      expect(a.record).toMatchObject({
        tenant: "acme",
        expiresAt: new Date(START + 3_600_000).toISOString(),
      });
    });

    it("refuses a lifetime that is not a positive whole number of seconds, storing nothing", async () => {
      for (const ttlS of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 3_650 * 86_400 + 1]) {
        await expect(
          mintNatsToken(store, { identity: "service", id: "listener", ttlS }, { clock }),
        ).rejects.toMatchObject({ code: "nats_token.invalid", details: { field: "expires" } });
      }
      await expect(
        mintNatsToken(store, { identity: "agent.storage", id: "not-a-uuid" }, { clock }),
      ).rejects.toMatchObject({ code: "nats_token.invalid", details: { field: "id" } });
      expect(await store.listNatsTokens()).toEqual([]);
    });
  });

  // Refusals of a token that exists (expired, revoked) name it by id, never by the token.
  describe("checkNatsToken", () => {
    it("answers ok with the record for a live token", async () => {
      const { token, record } = await mintNatsToken(
        store,
        { identity: "service", id: "listener", ttlS: 60 },
        { clock },
      );
      clock.advance(59_999);
      expect(await checkNatsToken(store, token, { clock })).toEqual({ ok: true, record });
    });

    it("refuses a missing token", async () => {
      expect(await checkNatsToken(store, undefined, { clock })).toEqual({
        ok: false,
        reason: "missing",
      });
      expect(await checkNatsToken(store, "", { clock })).toEqual({ ok: false, reason: "missing" });
    });

    it("refuses a malformed token without looking it up", async () => {
      const { token } = await mintNatsToken(store, { identity: "service", id: "s" }, { clock });
      let lookups = 0;
      const counting = {
        findNatsToken: (hash: string) => {
          lookups++;
          return store.findNatsToken(hash);
        },
      };
      for (const bad of [
        token.slice(0, -1),
        `${token}A`,
        `hst_${token.slice(4)}`,
        `${token.slice(0, -1)}!`,
        ` ${token.slice(1)}`,
      ]) {
        expect(await checkNatsToken(counting, bad, { clock })).toEqual({
          ok: false,
          reason: "malformed",
        });
      }
      expect(lookups).toBe(0);
    });

    it("refuses a well-formed token nobody minted", async () => {
      await mintNatsToken(store, { identity: "service", id: "s" }, { clock });
      const unknown = `hnt_${"A".repeat(43)}`;
      expect(await checkNatsToken(store, unknown, { clock })).toEqual({
        ok: false,
        reason: "unknown",
      });
    });

    it("refuses an expired token from its expiry on", async () => {
      const { token, record } = await mintNatsToken(
        store,
        { identity: "agent.network", id: AGENT, ttlS: 30 },
        { clock },
      );
      clock.advance(30_000);
      expect(await checkNatsToken(store, token, { clock })).toEqual({
        ok: false,
        reason: "expired",
        tokenId: record.id,
      });
    });

    it("refuses a revoked token, also once it has expired", async () => {
      const { token, record } = await mintNatsToken(
        store,
        { identity: "client", id: "bob", tenant: "acme", ttlS: 30 },
        { clock },
      );
      clock.advance(1_000);
      const revoked = await revokeNatsToken(store, record.id);
      expect(revoked.revokedAt).toBe(new Date(START + 1_000).toISOString());
      expect(await checkNatsToken(store, token, { clock })).toEqual({
        ok: false,
        reason: "revoked",
        tokenId: record.id,
      });
      clock.advance(60_000);
      expect(await checkNatsToken(store, token, { clock })).toEqual({
        ok: false,
        reason: "revoked",
        tokenId: record.id,
      });
    });
  });

  describe("revokeNatsToken", () => {
    it("throws nats_token.not_found for an unknown id", async () => {
      await expect(revokeNatsToken(store, "ntk_00000000000000000000000000")).rejects.toMatchObject({
        name: "HeraldError",
        code: "nats_token.not_found",
        details: { id: "ntk_00000000000000000000000000" },
      });
    });
  });
});
