// The transport contract on NATS: a real JetStream, a stream of this file's own (deleted after).
import { describe } from "vitest";
import { createNatsTransport } from "../../packages/nats/src/delivery/transports/nats.js";
import { createTestStream } from "../bus/natsTestStream.js";
import { type PeerSeen, type TransportHarness, transportContract } from "../contracts/transport.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("nats");

// Skipped only when NATS is missing; under CI=true (or HERALD_REQUIRE_SERVICES=1) serviceAvailable fails instead.
describe.skipIf(!available)("NATS transport contract (JetStream)", () => {
  transportContract(
    "nats",
    async (): Promise<TransportHarness> => {
      const t = await createTestStream("transportcontract");
      return {
        transport: createNatsTransport({
          nats: { servers: serviceUrl("nats"), stream: t.stream, subjects: t.subjects },
        }),
        // A subject no stream captures: JetStream answers "no responders", a transient failure.
        target: (behaviour) =>
          behaviour === "succeed" ? `${t.prefix}.succeed` : `uncaptured.${t.prefix}.${behaviour}`,
        received: async () => {
          if ((await t.count()) === 0) return [];
          const info = await t.jsm.streams.info(t.stream);
          const seen: PeerSeen[] = [];
          for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
            const stored = await t.jsm.streams.getMessage(t.stream, { seq });
            if (stored === null) continue;
            const headers: Record<string, string> = {};
            for (const [name, values] of stored.header)
              headers[name.toLowerCase()] = values.join(", ");
            seen.push({ id: stored.header.get("Nats-Msg-Id"), headers, body: stored.string() });
          }
          return seen;
        },
        release: () => {},
        dispose: () => t.delete(),
        capabilities: {
          // Herald's x-herald-* headers and the scheme's webhook-id/-timestamp/-signature.
          signs: true,
          transient: { outcome: "retry", reason: "network_error" },
          permanent: null,
          // JetStream cannot be told to withhold one PubAck without faking the server.
          hangs: false,
          // Nats-Msg-Id is the delivery id: JetStream drops a retry it already stored.
          idOf: ({ delivery }) => delivery.id,
        },
      };
      // No permanent failure, no way to hold back a PubAck (see capabilities).
    },
    { permanent: true, hangs: true },
  );
});
