// The exactly-once guarantee, run against every DedupeStore: 50 concurrent identical signed
// deliveries invoke the handler once; a failed handler's retry is processed.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createReceiver, type Receiver, signWebhook } from "@heraldjs/webhooks";
import { afterEach, describe, expect, it } from "vitest";
import type { DedupeStore } from "../../packages/core/src/store/ports.js";

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const body = '{"type":"invoice.paid","amount":4200}';

/**
 * `stores(n)` returns n stores over one backend — one per simulated process (a memory store
 * can only be shared, so it returns the same instance n times).
 */
export function testExactlyOnce(
  name: string,
  stores: (count: number) => DedupeStore[] | Promise<DedupeStore[]>,
): void {
  describe(`exactly once: ${name}`, () => {
    let opened: DedupeStore[] = [];
    afterEach(async () => {
      await Promise.all([...new Set(opened)].map((store) => store.close?.()));
      opened = [];
    });

    async function receivers(count: number, handler: () => Promise<void>): Promise<Receiver[]> {
      opened = await stores(count);
      return opened.map((dedupe) =>
        createReceiver({ scheme: "standard", secrets: [secret], dedupe, handler }),
      );
    }

    function delivery(id: string) {
      const headers = signWebhook({ scheme: "standard", secret, id, body });
      return { headers, body };
    }

    it("50 concurrent identical deliveries → 1 handler call and 49 duplicates", async () => {
      let calls = 0;
      const instances = await receivers(2, async () => {
        calls++;
        // Slow enough that every other request arrives while this one is processing.
        await sleep(50);
      });
      const id = `msg_${randomUUID()}`;
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) => instances[i % instances.length]!.handle(delivery(id))),
      );
      expect(calls).toBe(1);
      const bodies = responses.map((response) => JSON.parse(response.body));
      expect(responses.every((response) => response.status === 200)).toBe(true);
      expect(bodies.filter((b) => b.status === "processed")).toEqual([{ status: "processed", id }]);
      expect(bodies.filter((b) => b.status === "duplicate")).toHaveLength(49);
      expect(new Set(bodies.map((b) => b.id))).toEqual(new Set([id]));
      // And later retries of the same delivery stay duplicates.
      const later = await instances[0]!.handle(delivery(id));
      expect(JSON.parse(later.body)).toEqual({ status: "duplicate", id });
      expect(calls).toBe(1);
    });

    it("a handler failure → 500, then the sender's retry is processed, once", async () => {
      let calls = 0;
      const instances = await receivers(2, async () => {
        calls++;
        if (calls === 1) throw new Error("downstream unavailable");
      });
      const id = `msg_${randomUUID()}`;
      const failed = await instances[0]!.handle(delivery(id));
      expect(failed.status).toBe(500);
      expect(JSON.parse(failed.body)).toMatchObject({ error: { code: "handler.failed" } });

      const retries = await Promise.all(
        Array.from({ length: 10 }, (_, i) => instances[i % instances.length]!.handle(delivery(id))),
      );
      const statuses = retries.map((response) => JSON.parse(response.body).status);
      expect(statuses.filter((status) => status === "processed")).toHaveLength(1);
      expect(statuses.filter((status) => status === "duplicate")).toHaveLength(9);
      expect(calls).toBe(2);
    });
  });
}
