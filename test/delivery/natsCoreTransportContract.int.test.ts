// The transport contract on core NATS (`nats-core`): the machine's NATS, a subscriber of this
// file's own as the peer (subjects under a unique prefix). Core NATS refuses nothing per subject
// on a server without permissions, so the harness reaches the other behaviours with transports
// of the same kind on other connections: `transient` on a server that is down (the connection
// is refused), `hang` through a TCP proxy that holds every byte (the server never answers).
// `permanent` is a template the transport cannot render: rejected without connecting.
import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import type {
  Transport,
  TransportSendInput,
} from "../../packages/core/src/delivery/transports/types.js";
import { createNatsCoreTransport } from "../../packages/nats/src/delivery/transports/natsCore.js";
import { type PeerSeen, type TransportHarness, transportContract } from "../contracts/transport.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";
import { freePort } from "../helpers/freePort.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";
import { startTcpProxy } from "./queueTcpProxy.js";

const available = await serviceAvailable("nats");

/** A subscriber to `${prefix}.>` that keeps every message it got. */
async function subscriber(prefix: string): Promise<{ nc: NatsConnection; seen: PeerSeen[] }> {
  const nc = await connect({ servers: serviceUrl("nats") });
  const seen: PeerSeen[] = [];
  nc.subscribe(`${prefix}.>`, {
    callback: (_error, msg) => {
      const headers: Record<string, string> = {};
      for (const [name, values] of msg.headers ?? []) headers[name.toLowerCase()] = values.join();
      seen.push({ id: headers["nats-msg-id"] ?? "", headers, body: msg.string() });
    },
  });
  await nc.flush();
  return { nc, seen };
}

async function harness(): Promise<TransportHarness> {
  const prefix = `herald.corecontract.${randomUUID().slice(0, 8)}`;
  const peer = await subscriber(prefix);
  const natsPort = Number(new URL(serviceUrl("nats")).port || 4222);
  const held = await startTcpProxy(natsPort, {
    upstreamHost: new URL(serviceUrl("nats")).hostname,
    holding: true,
  });
  const shared = createNatsCoreTransport({ nats: { servers: serviceUrl("nats") } });
  const down = createNatsCoreTransport({
    nats: {
      servers: `nats://127.0.0.1:${await freePort()}`,
      connectOptions: { reconnect: false, timeout: 1000 },
    },
  });
  const hanging = createNatsCoreTransport({ nats: { servers: `nats://127.0.0.1:${held.port}` } });
  const targets = {
    succeed: `${prefix}.succeed.{tenant}`,
    transient: `${prefix}.transient`,
    hang: `${prefix}.hang`,
    // Not a placeholder the transport knows: no subject can be made, the attempt is rejected.
    permanent: `${prefix}.{nope}`,
  };
  const byTarget = (target: string): Transport =>
    target === targets.transient ? down : target === targets.hang ? hanging : shared;
  return {
    transport: {
      send: (input: TransportSendInput) => byTarget(input.endpoint.target).send(input),
      close: async () => {
        await Promise.all([shared.close(), down.close(), hanging.close()]);
      },
    },
    target: (behaviour) => targets[behaviour],
    received: async () => {
      await peer.nc.flush();
      return [...peer.seen];
    },
    release: () => held.release(),
    dispose: async () => {
      held.release();
      await peer.nc.close();
      await held.close();
    },
    capabilities: {
      // Herald's x-herald-* and the scheme's webhook-* headers travel as NATS headers.
      signs: true,
      transient: { outcome: "retry", reason: "network_error" },
      permanent: { outcome: "reject", reason: "rejected" },
      hangs: true,
      // Nats-Msg-Id is the delivery id, as on the JetStream transport.
      idOf: ({ delivery }) => delivery.id,
    },
  };
}

// Skipped only when NATS is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
describe.skipIf(!available)("core NATS transport contract", () => {
  transportContract("nats-core", harness);
});

// Skipped only when NATS is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
describe.skipIf(!available)("nats-core: what the subject template does", () => {
  const secrets = [
    {
      secret: "whsec_MfKQ9r8GKYqrTFQf1cQhiNG2Y6sRp6TZb3iHvK3nU/Y=",
      expiresAt: null,
      createdAt: new Date(0).toISOString(),
    },
  ];

  function input(target: string, message: { tenant: string; type: string }): TransportSendInput {
    const msg = {
      ...testMessage({ n: 1 }),
      id: `msg_${randomUUID().replaceAll("-", "")}`,
      ...message,
    };
    const delivery = testDelivery(`dlv_${randomUUID().replaceAll("-", "")}`);
    return {
      delivery: { ...delivery, messageId: msg.id },
      message: msg,
      endpoint: testEndpoint(target, secrets, { transport: "nats-core" }),
      attemptNumber: 1,
    };
  }

  it("puts the tenant, the type (its dots making tokens) and the message id in the subject", async () => {
    const prefix = `herald.coretemplate.${randomUUID().slice(0, 8)}`;
    const peer = await subscriber(prefix);
    const transport = createNatsCoreTransport({ nats: { servers: serviceUrl("nats") } });
    try {
      const sent = input(`${prefix}.{tenant}.{type}.{message_id}`, {
        tenant: "acme",
        type: "order.created.v1",
      });
      const result = await transport.send(sent);
      expect(result.classification).toEqual({ outcome: "success" });
      const subject = `${prefix}.acme.order.created.v1.${sent.message.id}`;
      expect(JSON.parse(result.attempt.responseBody ?? "{}")).toEqual({ subject });
      await peer.nc.flush();
      expect(peer.seen.map((s) => s.headers["x-herald-tenant"])).toEqual(["acme"]);
    } finally {
      await transport.close();
      await peer.nc.close();
    }
  });

  it("rejects (dead letter now) a message whose tenant or type cannot be a subject token, before connecting", async () => {
    // A server nobody listens on: a reject must not depend on the connection.
    const transport = createNatsCoreTransport({
      nats: {
        servers: `nats://127.0.0.1:${await freePort()}`,
        connectOptions: { reconnect: false },
      },
    });
    try {
      const dotted = await transport.send(
        input("client.{tenant}.evt", { tenant: "acme.eu", type: "x" }),
      );
      expect(dotted.classification).toEqual({ outcome: "reject", reason: "rejected" });
      expect(dotted.attempt.error).toMatch(
        /^request\.invalid: the tenant "acme\.eu" cannot be put in the subject template "client\.\{tenant\}\.evt": it contains '\.'/,
      );
      const wild = await transport.send(
        input("events.{type}", { tenant: "acme", type: "order.>" }),
      );
      expect(wild.classification).toEqual({ outcome: "reject", reason: "rejected" });
      expect(wild.attempt.error).toMatch(/the type "order\.>"/);
      // The same endpoint with a value that fits: a real (failed) connection attempt, retried.
      const fine = await transport.send(
        input("client.{tenant}.evt", { tenant: "acme", type: "x" }),
      );
      expect(fine.classification).toEqual({ outcome: "retry", reason: "network_error" });
      expect(fine.attempt.error).toMatch(/^nats: /);
    } finally {
      await transport.close();
    }
  });
});
