// The Transport contract: every delivery transport (http, nats, function, …) runs this suite
// against a real peer on loopback. What a transport cannot do (sign, fail permanently, be made
// to hang) is stated by its capabilities, never faked.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResponseClassification } from "../../packages/core/src/delivery/responseRules.js";
import type {
  Transport,
  TransportResult,
} from "../../packages/core/src/delivery/transports/types.js";
import type {
  DeliveryRecord,
  EndpointRecord,
  EndpointTransport,
  MessageRecord,
} from "../../packages/core/src/model/deliveryRecords.js";
import { generateSecret, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { testDelivery, testEndpoint, testMessage } from "../helpers/deliveryRecords.js";

/** How the peer answers a send to the target the harness gives for it. */
export type PeerBehaviour = "succeed" | "transient" | "permanent" | "hang";

/** One send as the peer saw it. */
export interface PeerSeen {
  /** The message id as the peer reads it (webhook-id, Nats-Msg-Id, message.id). */
  id: string;
  /** Request headers, lowercase names ({} where the transport has none). */
  headers: Record<string, string>;
  /** The bytes the peer got, as UTF-8. */
  body: string;
}

export interface TransportHarness {
  transport: Transport;
  /** The endpoint target at which the peer behaves as asked. */
  target(behaviour: PeerBehaviour): string;
  /** Everything the peer has received so far (including sends it failed or holds). */
  received(): Promise<PeerSeen[]>;
  /** Lets every held ("hang") send complete successfully. */
  release(): void;
  /** Stops the peer; the suite closes the transport itself. */
  dispose(): Promise<void>;
  capabilities: {
    /** The peer can verify the message with verifyWebhook and the endpoint's secret. */
    signs: boolean;
    /** The classification of a transient failure. */
    transient: ResponseClassification;
    /** The classification of a permanent failure; null when the transport has none. */
    permanent: ResponseClassification | null;
    /** The peer can be made to hang (no answer until released). */
    hangs: boolean;
    /** The id the peer sees for a delivery: stable across its retries. */
    idOf(input: { message: MessageRecord; delivery: DeliveryRecord }): string;
  };
}

/** Room past `timeoutMs` for a timed-out attempt to be reported. */
const TIMEOUT_SLACK_MS = 1000;
const TIMEOUT_MS = 300;

/**
 * What a transport cannot do, stated where the suite is called so that the cases which do not
 * apply are not registered at all (rather than skipped at run time); the harness's
 * `capabilities` must say the same (checked by the first case).
 */
export interface NotApplicable {
  /** No permanent failure class (the case for `capabilities.permanent === null`). */
  permanent?: true;
  /** The peer cannot be made to hang. */
  hangs?: true;
  /** The transport signs nothing. */
  signs?: true;
}

export function transportContract(
  name: EndpointTransport,
  factory: () => Promise<TransportHarness>,
  notApplicable: NotApplicable = {},
): void {
  const when = (applies: boolean) => (applies ? it : () => {});
  describe(`Transport contract: ${name}`, () => {
    let h: TransportHarness;
    const secret = generateSecret("standard");

    beforeAll(async () => {
      h = await factory();
    });

    afterAll(async () => {
      h.release();
      await h.transport.close();
      await h.dispose();
    });

    function message(): MessageRecord {
      const id = `msg_${randomUUID().replaceAll("-", "")}`;
      return { ...testMessage({ orderId: 42, note: "grüße" }), id, tenant: "acme" };
    }

    function endpoint(behaviour: PeerBehaviour): EndpointRecord {
      return testEndpoint(
        h.target(behaviour),
        [{ secret, expiresAt: null, createdAt: new Date(0).toISOString() }],
        { transport: name, timeoutMs: TIMEOUT_MS * 10 },
      );
    }

    async function send(
      behaviour: PeerBehaviour,
      msg = message(),
      delivery = testDelivery(`dlv_${randomUUID().replaceAll("-", "")}`),
      ep = endpoint(behaviour),
    ): Promise<TransportResult> {
      return h.transport.send({
        delivery: { ...delivery, messageId: msg.id },
        message: msg,
        endpoint: ep,
        attemptNumber: delivery.attempts + 1,
      });
    }

    async function seenFor(id: string): Promise<PeerSeen[]> {
      return (await h.received()).filter((s) => s.id === id);
    }

    it("declares the same capabilities as the suite was told", () => {
      expect({
        permanent: h.capabilities.permanent !== null,
        hangs: h.capabilities.hangs,
        signs: h.capabilities.signs,
      }).toEqual({
        permanent: notApplicable.permanent !== true,
        hangs: notApplicable.hangs !== true,
        signs: notApplicable.signs !== true,
      });
    });

    it("a send the peer accepts is a succeeded attempt, and the peer has the payload", async () => {
      const msg = message();
      const delivery = testDelivery(`dlv_${randomUUID().replaceAll("-", "")}`);
      const result = await send("succeed", msg, delivery);
      expect(result.classification).toEqual({ outcome: "success" });
      expect(result.attempt.succeeded).toBe(true);
      expect(result.attempt.error).toBeNull();
      expect(result.attempt.durationMs).toBeGreaterThanOrEqual(0);
      const seen = await seenFor(h.capabilities.idOf({ message: msg, delivery }));
      expect(seen).toHaveLength(1);
      expect(JSON.parse(seen[0]?.body ?? "null")).toEqual(msg.payload);
    });

    it("a transient failure is a failed attempt the worker retries", async () => {
      const result = await send("transient");
      expect(result.attempt.succeeded).toBe(false);
      expect(result.classification).toEqual(h.capabilities.transient);
      expect(result.classification.outcome).toBe("retry");
    });

    when(notApplicable.permanent !== true)(
      "a permanent failure is classified as the worker expects",
      async () => {
        const permanent = h.capabilities.permanent;
        const result = await send("permanent");
        expect(result.attempt.succeeded).toBe(false);
        expect(result.classification).toEqual(permanent);
      },
    );

    when(notApplicable.hangs !== true)(
      "a peer that does not answer is a `timeout:` failure within timeoutMs + slack",
      async () => {
        const ep = { ...endpoint("hang"), timeoutMs: TIMEOUT_MS };
        const started = performance.now();
        const result = await send("hang", message(), undefined, ep);
        const took = performance.now() - started;
        expect(result.attempt.succeeded).toBe(false);
        expect(result.attempt.error).toMatch(/^timeout: /);
        expect(result.classification).toEqual({ outcome: "retry", reason: "timeout" });
        expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
        expect(took).toBeLessThan(TIMEOUT_MS + TIMEOUT_SLACK_MS);
        h.release();
      },
    );

    it("every retry of a delivery carries the same message id; another delivery's is its own where the id is per delivery", async () => {
      const msg = message();
      const delivery = testDelivery(`dlv_${randomUUID().replaceAll("-", "")}`);
      const id = h.capabilities.idOf({ message: msg, delivery });
      const before = new Set((await h.received()).map((s) => s.id));
      expect(before.has(id)).toBe(false);
      await send("transient", msg, delivery);
      await send("transient", msg, { ...delivery, attempts: 1 });
      const last = await send("succeed", msg, { ...delivery, attempts: 2 });
      expect(last.attempt.succeeded).toBe(true);
      const fresh = (await h.received()).filter((s) => !before.has(s.id));
      expect(fresh.length).toBeGreaterThanOrEqual(1);
      expect(new Set(fresh.map((s) => s.id))).toEqual(new Set([id]));
    });

    when(notApplicable.signs !== true)(
      "the signature is present and verifies with the endpoint's secret",
      async () => {
        const msg = message();
        const delivery = testDelivery(`dlv_${randomUUID().replaceAll("-", "")}`);
        await send("succeed", msg, delivery);
        const [seen] = await seenFor(h.capabilities.idOf({ message: msg, delivery }));
        expect(seen).toBeDefined();
        const verdict = verifyWebhook({
          scheme: "standard",
          secrets: secret,
          headers: seen?.headers ?? {},
          body: Buffer.from(seen?.body ?? "", "utf8"),
        });
        expect(verdict).toMatchObject({ ok: true, id: msg.id });
        const forged = verifyWebhook({
          scheme: "standard",
          secrets: generateSecret("standard"),
          headers: seen?.headers ?? {},
          body: Buffer.from(seen?.body ?? "", "utf8"),
        });
        expect(forged.ok).toBe(false);
      },
    );

    it("no attempt record holds the endpoint's secret", async () => {
      const behaviours: PeerBehaviour[] = ["succeed", "transient"];
      if (h.capabilities.permanent !== null) behaviours.push("permanent");
      const bare = secret.replace(/^whsec_/, "");
      for (const behaviour of behaviours) {
        const result = await send(behaviour);
        const text = JSON.stringify(result.attempt);
        expect(text).not.toContain(secret);
        expect(text).not.toContain(bare);
      }
    });

    it("close() resolves; a send in flight at close() completes or fails cleanly, never delivered unseen", async () => {
      const own = await factory();
      try {
        const msg = message();
        const delivery = testDelivery(`dlv_${randomUUID().replaceAll("-", "")}`);
        const behaviour: PeerBehaviour = own.capabilities.hangs ? "hang" : "succeed";
        const ep = endpoint(behaviour);
        const sending = own.transport.send({
          delivery: { ...delivery, messageId: msg.id },
          message: msg,
          endpoint: { ...ep, target: own.target(behaviour) },
          attemptNumber: 1,
        });
        // Let the send reach the peer before closing.
        await new Promise((resolve) => setTimeout(resolve, 50));
        const closing = own.transport.close();
        own.release();
        const [result] = await Promise.all([sending, closing]);
        const seen = (await own.received()).filter(
          (s) => s.id === own.capabilities.idOf({ message: msg, delivery }),
        );
        if (result.attempt.succeeded) expect(seen.length).toBeGreaterThanOrEqual(1);
        else expect(result.classification.outcome).toBe("retry");
        // A second close() resolves too (the service may close on several shutdown paths).
        await own.transport.close();
      } finally {
        own.release();
        await own.dispose();
      }
    });
  });
}
