// The DeliveryStore contract: memory, SQLite and PostgreSQL run this suite unchanged, each test
// on an empty store driven by a ManualClock (no sleeps; SQL backends never read database time).
import { afterEach, beforeEach, describe } from "vitest";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { batchContract } from "./deliveryStore/batches.js";
import { catalogContract } from "./deliveryStore/catalog.js";
import { catalogAutoContract } from "./deliveryStore/catalogAuto.js";
import { claimContract } from "./deliveryStore/claims.js";
import { filterContract } from "./deliveryStore/filters.js";
import {
  type ContractContext,
  type DeliveryStoreFactory,
  type DeliveryStoreHarness,
  START,
} from "./deliveryStore/fixtures.js";
import { inboundKeyContract } from "./deliveryStore/inboundKeys.js";
import { leaseContract } from "./deliveryStore/leases.js";
import { messageContract } from "./deliveryStore/messages.js";
import { namedSecretContract } from "./deliveryStore/namedSecrets.js";
import { natsTokenContract } from "./deliveryStore/natsTokens.js";
import { operationsContract } from "./deliveryStore/operations.js";
import { wakeUpContract } from "./deliveryStore/wakeUps.js";

export type { DeliveryStoreFactory, DeliveryStoreHarness } from "./deliveryStore/fixtures.js";

/** `factory` must return an empty store using the given clock, and a way to open more handles. */
export function testDeliveryStore(name: string, factory: DeliveryStoreFactory): void {
  describe(`DeliveryStore contract: ${name}`, () => {
    let harness: DeliveryStoreHarness;
    const t = {} as ContractContext;

    beforeEach(async () => {
      t.clock = new ManualClock(START);
      harness = await factory(t.clock);
      t.store = harness.store;
      t.connect = () => harness.connect();
    });

    afterEach(async () => {
      await harness.close();
    });

    catalogContract(t);
    catalogAutoContract(t);
    messageContract(t);
    batchContract(t);
    inboundKeyContract(t);
    claimContract(t);
    leaseContract(t);
    operationsContract(t);
    namedSecretContract(t);
    natsTokenContract(t);
    filterContract(t);
    wakeUpContract(t);
  });
}
