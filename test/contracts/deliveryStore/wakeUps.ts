// DeliveryStore contract, wake-ups: a listener on another handle (as another process would hold)
// is called after each write that makes deliveries due now — new messages with deliveries, a
// replay, a recovered endpoint — and no longer once stopped. Calls may come more than once per
// write (SQLite: in-process and through the wake file), so only their arrival is checked.
import { describe, expect, it } from "vitest";
import type { DeliveryStore } from "../../../packages/core/src/store/ports.js";
import {
  type ContractContext,
  claimAll,
  dispatch,
  failedAttempt,
  makeEndpoint,
} from "./fixtures.js";

/** Waits (real time: PostgreSQL's notices arrive on their own connection) for `check`. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no wake-up within 5 s after ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function wakeUpContract(t: ContractContext): void {
  describe("wake-ups", () => {
    it("wakes a listener on another handle when deliveries become due", async () => {
      const other: DeliveryStore = await t.connect();
      let woken = 0;
      const stop = await other.wakeUps!(() => woken++);
      try {
        const endpoint = await makeEndpoint(t.store);
        const { deliveries } = await dispatch(t.store, [endpoint.id]);
        await until(() => woken > 0, "a new message");

        const [delivery] = deliveries;
        const [claimed] = await claimAll(t.store, "w");
        expect(claimed?.delivery.id).toBe(delivery!.id);
        await t.store.deadLetter({
          deliveryId: delivery!.id,
          owner: "w",
          attempt: failedAttempt(),
        });
        woken = 0;
        await t.store.replayDelivery(delivery!.id);
        await until(() => woken > 0, "a replay");

        const [again] = await claimAll(t.store, "w");
        await t.store.deadLetter({
          deliveryId: again!.delivery.id,
          owner: "w",
          attempt: failedAttempt(),
        });
        woken = 0;
        const { replayed } = await t.store.recoverEndpoint({
          endpointId: endpoint.id,
          since: new Date(0).toISOString(),
        });
        expect(replayed).toBe(1);
        await until(() => woken > 0, "a recovery");
      } finally {
        await stop();
      }
    });

    it("stops calling a listener once it is stopped", async () => {
      const other: DeliveryStore = await t.connect();
      let stopped = 0;
      let live = 0;
      const stopFirst = await other.wakeUps!(() => stopped++);
      await stopFirst();
      const stopSecond = await other.wakeUps!(() => live++);
      try {
        const endpoint = await makeEndpoint(t.store);
        await dispatch(t.store, [endpoint.id]);
        // The live listener's call shows the signal went out; the stopped one got none of it.
        await until(() => live > 0, "a new message");
        expect(stopped).toBe(0);
      } finally {
        await stopSecond();
      }
    });
  });
}
