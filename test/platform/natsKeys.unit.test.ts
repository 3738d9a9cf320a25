// The platform's keys, the nats.conf block and the permissions of each identity.
import { describe, expect, it } from "vitest";
import {
  generateNatsKeys,
  natsConfSnippet,
  natsKeyFromSeed,
} from "../../packages/nats/src/platform/natsKeys.js";
import { natsPermissions } from "../../packages/nats/src/platform/natsSubjects.js";

describe("NATS platform keys", () => {
  it("generates keys of each kind, different every time", async () => {
    const a = await generateNatsKeys();
    const b = await generateNatsKeys();
    expect(a.issuer.publicKey).toMatch(/^A[A-Z2-7]{55}$/);
    expect(a.issuer.seed).toMatch(/^SA[A-Z2-7]{56}$/);
    expect(a.authUser.publicKey).toMatch(/^U[A-Z2-7]{55}$/);
    expect(a.authUser.seed).toMatch(/^SU/);
    expect(a.xkey.publicKey).toMatch(/^X[A-Z2-7]{55}$/);
    expect(a.xkey.seed).toMatch(/^SX/);
    expect(a.operator.publicKey).toMatch(/^O[A-Z2-7]{55}$/);
    expect(a.issuer.seed).not.toBe(b.issuer.seed);
    expect((await natsKeyFromSeed(a.issuer.seed, "account", "issuer")).getPublicKey()).toBe(
      a.issuer.publicKey,
    );
    expect((await natsKeyFromSeed(a.xkey.seed, "curve", "xkey")).getPublicKey()).toBe(
      a.xkey.publicKey,
    );
  });

  it("refuses a seed of the wrong kind or a broken one without echoing it", async () => {
    const keys = await generateNatsKeys();
    const error = await natsKeyFromSeed(keys.authUser.seed, "account", "issuerSeed").catch(
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error).toMatchObject({ code: "config.invalid" });
    expect((error as Error).message).not.toContain(keys.authUser.seed);
    const broken = `${keys.issuer.seed.slice(0, -3)}AAA`;
    await expect(natsKeyFromSeed(broken, "account", "issuerSeed")).rejects.toThrow(
      /issuerSeed is not a valid NKey seed/,
    );
  });

  it("writes the config-mode block with the public keys only", async () => {
    const keys = await generateNatsKeys();
    const block = natsConfSnippet(keys, { websocketPort: 8080, account: "AGENTS" });
    expect(block).toContain(`issuer: ${keys.issuer.publicKey}`);
    expect(block).toContain(`auth_users: [ ${keys.authUser.publicKey} ]`);
    expect(block).toContain(`xkey: ${keys.xkey.publicKey}`);
    expect(block).toContain("AGENTS: { jetstream: enabled }");
    expect(block).toContain("websocket { port: 8080, no_tls: true }");
    for (const key of Object.values(keys)) expect(block).not.toContain(key.seed);
    expect(natsConfSnippet(keys, { encrypt: false })).not.toContain("xkey:");
  });
});

describe("permissions by identity", () => {
  const id = "0b6f3f3e-5d7c-4a55-9c0e-3f1f5f0e2a11";
  it("gives an agent its own subjects, its broadcasts and its inbox", () => {
    expect(natsPermissions("agent.compute", id, "default")).toEqual({
      pub: { allow: [`agent.compute.${id}.evt`] },
      sub: {
        allow: [
          `agent.compute.${id}.cmd`,
          "agent.compute.broadcast",
          "agent.broadcast",
          `_INBOX_agent.compute.${id}.>`,
        ],
      },
      resp: { max: 1, ttl: 60_000_000_000 },
    });
  });

  it("lets a client read its tenant's and its own events, and publish nothing", () => {
    expect(natsPermissions("client", "u1", "acme")).toEqual({
      pub: { deny: [">"] },
      sub: { allow: ["client.acme.evt", "client.acme.u1.evt"] },
    });
  });

  it("leaves a service unrestricted inside the account", () => {
    expect(natsPermissions("service", "herald", "default")).toEqual({ pub: {}, sub: {} });
  });
});
