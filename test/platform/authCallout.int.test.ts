// The auth callout against a real nats-server 2.10 (test/helpers/natsPlatform.ts): tokens from
// Herald's SQLite database decide who connects, and the user JWT's permissions follow the
// subject convention — with and without xkey encryption of requests and answers.
import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintNatsToken, revokeNatsToken } from "../../packages/core/src/delivery/natsTokens.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import {
  type NatsAuthCallout,
  type NatsAuthDecision,
  startNatsAuthCallout,
} from "../../packages/nats/src/platform/authCallout.js";
import {
  broadcastCommand,
  createCommandClient,
  sendCommand,
} from "../../packages/nats/src/platform/natsCommands.js";
import { agentInboxPrefix } from "../../packages/nats/src/platform/natsSubjects.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import {
  type NatsPlatformServer,
  natsServerBinary,
  startNatsPlatform,
} from "../helpers/natsPlatform.js";
import { createTestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";
import { migratedSqlite } from "../helpers/sqlite.js";

// Skips only when no nats-server ≥ 2.10 can be had (natsServerBinary warns loudly); under
// CI=true natsServerBinary throws instead, so the suite fails.
const available = natsServerBinary() !== undefined;

function connectWith(
  server: NatsPlatformServer,
  token: string,
  extra = {},
): Promise<NatsConnection> {
  return connect({
    servers: server.url,
    token,
    reconnect: false,
    timeout: 3000,
    ...extra,
  });
}

/** Resolves to the first async error the connection reports (a permissions violation). */
function nextError(nc: NatsConnection): Promise<string> {
  return (async () => {
    for await (const status of nc.status()) {
      if (status.type === "error") return String(status.error?.message ?? status.error);
    }
    return "closed";
  })();
}

// Skipped only when no nats-server ≥ 2.10 can be had (a loud notice); under CI=true
// natsServerBinary throws instead, so CI always runs this suite.
describe.skipIf(!available).each([
  { encrypt: true, backend: "sqlite", label: "with xkey encryption" },
  { encrypt: false, backend: "sqlite", label: "without encryption" },
  { encrypt: true, backend: "postgres", label: "with xkey encryption" },
])("auth callout on nats-server 2.10, tokens on $backend ($label)", ({ encrypt, backend }) => {
  let server: NatsPlatformServer;
  let callout: NatsAuthCallout;
  let store: DeliveryStore;
  let cleanup: () => void;
  const clock = new ManualClock(Date.now());
  const decisions: NatsAuthDecision[] = [];
  const opened: NatsConnection[] = [];
  const open = async (token: string, extra = {}) => {
    const nc = await connectWith(server, token, extra);
    opened.push(nc);
    return nc;
  };

  beforeAll(async () => {
    server = await startNatsPlatform({ encrypt });
    if (backend === "postgres") {
      // serviceAvailable throws under CI=true when PostgreSQL is down; elsewhere it warns.
      if (!(await serviceAvailable("postgres"))) return;
      const schema = await createTestSchema("nats_auth");
      cleanup = () => void schema.drop();
      store = createPostgresDeliveryStore(schema.pool, { clock });
    } else {
      const sqlite = migratedSqlite();
      cleanup = sqlite.cleanup;
      store = createSqliteDeliveryStore(sqlite.db, { clock });
    }
    callout = await startNatsAuthCallout({
      servers: server.url,
      issuerSeed: server.keys.issuer.seed,
      authUserSeed: server.keys.authUser.seed,
      ...(encrypt ? { xkeySeed: server.keys.xkey.seed } : {}),
      tokens: store,
      clock,
      onDecision: (decision) => decisions.push(decision),
    });
  }, 30_000);

  afterAll(async () => {
    await Promise.allSettled(opened.map((nc) => nc.close()));
    await callout?.stop();
    await server?.stop();
    cleanup?.();
  });

  it("lets an agent read its commands and publish its events, and nothing of another agent's", async () => {
    const id = randomUUID();
    const other = randomUUID();
    const { token, record } = await mintNatsToken(
      store,
      { identity: "agent.compute", id },
      { clock },
    );
    const agent = await open(token, { inboxPrefix: agentInboxPrefix("compute", id) });
    const service = await open(
      (await mintNatsToken(store, { identity: "service", id: "herald" }, { clock })).token,
    );

    // Its own command subject: a command goes round trip.
    const commands = agent.subscribe(`agent.compute.${id}.cmd`);
    void (async () => {
      for await (const msg of commands) msg.respond(JSON.stringify({ ok: true, got: msg.json() }));
    })();
    await agent.flush();
    await expect(
      sendCommand(service, "compute", id, { op: "ping" }, { timeout: 2000 }),
    ).resolves.toEqual({ ok: true, got: { op: "ping" } });

    // The same through a command client of its own connection (sendCommand(kind, id, …)).
    const client = await createCommandClient({
      servers: server.url,
      connectOptions: {
        token: (await mintNatsToken(store, { identity: "service", id: "backend" }, { clock }))
          .token,
      },
    });
    await expect(client.sendCommand("compute", id, ["x"], { timeout: 2000 })).resolves.toEqual({
      ok: true,
      got: ["x"],
    });
    await client.close();

    // Its own events reach a subscriber.
    const events = service.subscribe(`agent.compute.${id}.evt`, { max: 1 });
    await service.flush();
    agent.publish(`agent.compute.${id}.evt`, JSON.stringify({ type: "vm.started" }));
    for await (const msg of events) expect(msg.json()).toEqual({ type: "vm.started" });

    // Another agent's command subject: the server refuses the subscription.
    const violation = nextError(agent);
    const foreign = agent.subscribe(`agent.compute.${other}.cmd`);
    await expect(violation).resolves.toMatch(
      /Permissions Violation for Subscription to "agent\.compute\..*\.cmd"/,
    );
    await expect(foreign.closed).resolves.toBeInstanceOf(Error);

    // Publishing as another agent: refused too, and nothing arrives.
    const spy = service.subscribe(`agent.compute.${other}.evt`);
    await service.flush();
    const publishViolation = nextError(agent);
    agent.publish(`agent.compute.${other}.evt`, "forged");
    await expect(publishViolation).resolves.toMatch(
      /Permissions Violation for Publish to "agent\.compute\./,
    );
    await service.flush();
    expect(spy.getProcessed()).toBe(0);

    const allowed = decisions.find((d) => d.allowed && d.tokenId === record.id);
    expect(allowed).toMatchObject({ identity: "agent.compute", subjectId: id });
  });

  it("lets a browser client read its tenant's events and publish nothing", async () => {
    const { token } = await mintNatsToken(
      store,
      { identity: "client", id: "u1", tenant: "acme" },
      { clock },
    );
    const client = await open(token);
    const service = await open(
      (await mintNatsToken(store, { identity: "service", id: "herald" }, { clock })).token,
    );
    const tenantEvents = client.subscribe("client.acme.evt", { max: 1 });
    const userEvents = client.subscribe("client.acme.u1.evt", { max: 1 });
    await client.flush();
    service.publish("client.acme.evt", "for the tenant");
    service.publish("client.acme.u1.evt", "for the user");
    for await (const msg of tenantEvents) expect(msg.string()).toBe("for the tenant");
    for await (const msg of userEvents) expect(msg.string()).toBe("for the user");

    const other = nextError(client);
    client.subscribe("client.globex.evt");
    await expect(other).resolves.toMatch(
      /Permissions Violation for Subscription to "client\.globex\.evt"/,
    );
    const publish = nextError(client);
    client.publish("client.acme.evt", "forged");
    await expect(publish).resolves.toMatch(
      /Permissions Violation for Publish to "client\.acme\.evt"/,
    );
  });

  it("refuses a wrong, a malformed, an expired and a revoked token, and says why only in its log", async () => {
    const wrong = `hnt_${"A".repeat(43)}`;
    await expect(connectWith(server, wrong)).rejects.toThrow(/Authorization Violation/);
    await expect(connectWith(server, "not-a-token")).rejects.toThrow(/Authorization Violation/);
    await expect(connectWith(server, "")).rejects.toThrow();

    const expiring = await mintNatsToken(
      store,
      { identity: "agent.storage", id: randomUUID(), ttlS: 60 },
      { clock },
    );
    const nc = await connectWith(server, expiring.token);
    await nc.close();
    clock.advance(61_000);
    await expect(connectWith(server, expiring.token)).rejects.toThrow(/Authorization Violation/);

    const revoked = await mintNatsToken(
      store,
      { identity: "agent.network", id: randomUUID() },
      { clock },
    );
    const before = await connectWith(server, revoked.token);
    await before.close();
    await revokeNatsToken(store, revoked.record.id);
    await expect(connectWith(server, revoked.token)).rejects.toThrow(/Authorization Violation/);

    const reasons = decisions.filter((d) => !d.allowed).map((d) => (d.allowed ? "" : d.reason));
    expect(reasons).toEqual(expect.arrayContaining(["unknown", "malformed", "expired", "revoked"]));
    expect(JSON.stringify(decisions)).not.toContain(revoked.token);
    expect(callout.stats().refused.revoked).toBeGreaterThanOrEqual(1);
  });

  it("times a command out when no agent answers, and broadcasts to every agent of a kind", async () => {
    const service = await open(
      (await mintNatsToken(store, { identity: "service", id: "herald" }, { clock })).token,
    );
    const silent = randomUUID();
    const { token } = await mintNatsToken(
      store,
      { identity: "agent.compute", id: silent },
      { clock },
    );
    const agent = await open(token, { inboxPrefix: agentInboxPrefix("compute", silent) });
    agent.subscribe(`agent.compute.${silent}.cmd`); // listens, never answers
    await agent.flush();
    await expect(
      sendCommand(service, "compute", silent, { op: "x" }, { timeout: 300 }),
    ).rejects.toMatchObject({
      code: "nats.command_timeout",
    });
    await expect(
      sendCommand(service, "compute", randomUUID(), {}, { timeout: 300 }),
    ).rejects.toMatchObject({
      code: "nats.no_responders",
    });

    const ids = [randomUUID(), randomUUID()];
    for (const id of ids) {
      const nc = await open(
        (await mintNatsToken(store, { identity: "agent.compute", id }, { clock })).token,
        {
          inboxPrefix: agentInboxPrefix("compute", id),
        },
      );
      const sub = nc.subscribe("agent.compute.broadcast");
      void (async () => {
        for await (const msg of sub) msg.respond(JSON.stringify({ id }));
      })();
      await nc.flush();
    }
    const replies = await broadcastCommand(service, "compute", { op: "report" }, { timeout: 500 });
    expect(replies.map((r) => (r.reply as { id: string }).id).sort()).toEqual([...ids].sort());
  });
});

// Skipped only when no nats-server ≥ 2.10 can be had (a loud notice); under CI=true
// natsServerBinary throws instead, so CI always runs this suite.
describe.skipIf(!available)(
  "auth callout: requests not from the server, and user JWT lifetimes",
  () => {
    let server: NatsPlatformServer;
    let callout: NatsAuthCallout;
    let store: DeliveryStore;
    let cleanup: () => void;
    const decisions: NatsAuthDecision[] = [];

    beforeAll(async () => {
      server = await startNatsPlatform({ encrypt: false });
      const sqlite = migratedSqlite();
      cleanup = sqlite.cleanup;
      store = createSqliteDeliveryStore(sqlite.db, {});
      callout = await startNatsAuthCallout({
        servers: server.url,
        issuerSeed: server.keys.issuer.seed,
        authUserSeed: server.keys.authUser.seed,
        tokens: store,
        userJwtTtlS: 2,
        onDecision: (decision) => decisions.push(decision),
      });
    }, 30_000);

    afterAll(async () => {
      await callout?.stop();
      await server?.stop();
      cleanup?.();
    });

    it("ends a revoked token's live connection when its user JWT expires, and refuses the reconnect", async () => {
      const { token, record } = await mintNatsToken(store, {
        identity: "client",
        id: "u9",
        tenant: "acme",
      });
      const nc = await connect({
        servers: server.url,
        token,
        maxReconnectAttempts: 3,
        reconnectTimeWait: 100,
      });
      await revokeNatsToken(store, record.id);
      // nats-server closes the connection when the JWT expires (2 s); the reconnects are refused.
      const closed = await Promise.race([
        nc.closed(),
        new Promise((resolve) => setTimeout(() => resolve("still open"), 10_000)),
      ]);
      expect(closed).not.toBe("still open");
      await expect(connect({ servers: server.url, token, reconnect: false })).rejects.toThrow(
        /Authorization Violation/,
      );
      expect(
        decisions.some((d) => !d.allowed && d.reason === "revoked" && d.tokenId === record.id),
      ).toBe(true);
    }, 20_000);
  },
);
