// PostgreSQL DeliveryStore (pg, pooled): many worker processes on many machines share it.
// Claims use FOR UPDATE SKIP LOCKED; lease-guarded changes lock the delivery row; times come
// from the injected clock as parameters, never from now(), so tests can drive them.

import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type {
  DeliveryStore,
  DeliveryStoreOptions,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { claimDueDeliveries } from "./claimDueDeliveries.js";
import { postgresCreateMessages } from "./createMessages.js";
import type { PgPool } from "./database.js";
import { postgresCatalog } from "./deliveryCatalog.js";
import { postgresLease } from "./deliveryLease.js";
import { postgresQueries } from "./deliveryQueries.js";
import { pgCall } from "./deliverySql.js";
import { listenForDeliveries } from "./deliveryWakeUps.js";
import { postgresPruneInboundKeys } from "./inboundKeys.js";
import { createLeaseCache } from "./leaseCache.js";
import { postgresNamedSecrets } from "./namedSecrets.js";
import { postgresNatsTokens } from "./natsTokens.js";
import { postgresStreams } from "./streams.js";
import {
  POSTGRES_WRITE_PROBE_DEFAULTS,
  type PostgresWriteProbeSettings,
  postgresWriteProbe,
} from "./writeProbe.js";

export interface PostgresDeliveryStoreOptions extends DeliveryStoreOptions {
  /** probeWrite's settings (writeProbe.ts); defaults POSTGRES_WRITE_PROBE_DEFAULTS. */
  writeProbe?: Partial<PostgresWriteProbeSettings>;
}

/**
 * A DeliveryStore over a migrated schema (migratePostgres); the pool's search_path selects the
 * schema (createPgPool). The pool stays the caller's: `close()` leaves it open.
 */
export function createPostgresDeliveryStore(
  pool: PgPool,
  options: PostgresDeliveryStoreOptions = {},
): DeliveryStore {
  const clock: Clock = options.clock ?? systemClock;
  const nowIso = () => isoNow(clock);
  const createMessages = postgresCreateMessages(pool, clock);
  // The rows this store leased, as last seen: its guarded writes' fast path (deliveryLease.ts).
  const leases = createLeaseCache();
  return {
    ...postgresCatalog(pool, clock, nowIso),
    ...postgresNamedSecrets(pool, nowIso),
    ...postgresStreams(pool, clock),
    ...postgresNatsTokens(pool, clock),
    ...postgresQueries(pool, clock),
    ...postgresLease(pool, clock, leases),
    createMessages,
    createMessage: async (input) => (await createMessages([input]))[0]!,
    pruneInboundKeys: postgresPruneInboundKeys(pool, clock),
    claimDueDeliveries: (claim) => claimDueDeliveries(pool, clock, leases, claim),
    wakeUps: (listener) => pgCall(() => listenForDeliveries(pool, listener)),
    ping: () =>
      pgCall(async () => {
        await pool.query("SELECT 1");
      }),
    probeWrite: postgresWriteProbe(pool, clock, {
      ...POSTGRES_WRITE_PROBE_DEFAULTS,
      ...options.writeProbe,
    }),
    async close() {},
  };
}
