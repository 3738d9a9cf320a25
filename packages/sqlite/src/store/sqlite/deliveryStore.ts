// SQLite DeliveryStore (better-sqlite3): one file, any number of connections and processes.
// Every write is one IMMEDIATE transaction, so SQLite's single write lock makes claims and
// lease-guarded updates atomic; times come from the injected clock, never from SQLite.

import { isoNow } from "@heraldjs/core/internal/model/time.js";
import type {
  DeliveryStore,
  DeliveryStoreOptions,
} from "@heraldjs/core/internal/store/deliveryPorts.js";
import { type Clock, systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { sqliteCreateMessages } from "./createMessages.js";
import type { SqliteDatabase } from "./database.js";
import { sqliteCatalog } from "./deliveryCatalog.js";
import { messageWithDeliveries, sqliteQueries } from "./deliveryQueries.js";
import { sqliteQueue } from "./deliveryQueue.js";
import { createDeliverySignal } from "./deliverySignal.js";
import { call, sqliteContext } from "./deliverySql.js";
import { sqlitePruneInboundKeys } from "./inboundKeys.js";
import { sqliteNamedSecrets } from "./namedSecrets.js";
import { sqliteNatsTokens } from "./natsTokens.js";
import { sqliteStreams } from "./streams.js";
import {
  SQLITE_WRITE_PROBE_DEFAULTS,
  type SqliteWriteProbeSettings,
  sqliteWriteProbe,
} from "./writeProbe.js";

interface SqliteDeliveryStoreOptions extends DeliveryStoreOptions {
  /** probeWrite's settings (writeProbe.ts); defaults SQLITE_WRITE_PROBE_DEFAULTS. */
  writeProbe?: Partial<SqliteWriteProbeSettings>;
}

/**
 * A DeliveryStore over a migrated database (migrateSqlite). The database stays the caller's:
 * `close()` leaves it open.
 */
export function createSqliteDeliveryStore(
  db: SqliteDatabase,
  options: SqliteDeliveryStoreOptions = {},
): DeliveryStore {
  const clock: Clock = options.clock ?? systemClock;
  const ctx = sqliteContext(db);
  const nowIso = () => isoNow(clock);
  const wake = createDeliverySignal(db);
  const create = sqliteCreateMessages(ctx, clock, (id) => messageWithDeliveries(ctx, id));
  // Writes that make deliveries due now wake the workers once committed (deliverySignal.ts).
  const createMessages: DeliveryStore["createMessages"] = async (inputs, options) => {
    const results = await create(inputs, options);
    if (results.some((result) => result.created && result.deliveries.length > 0)) wake.signal();
    return results;
  };
  const queue = sqliteQueue(ctx, clock);
  return {
    ...sqliteCatalog(ctx, clock, nowIso),
    ...sqliteNamedSecrets(ctx, nowIso),
    ...sqliteStreams(ctx, clock),
    ...sqliteNatsTokens(ctx, clock),
    ...queue,
    ...sqliteQueries(ctx, clock),
    replayDelivery: async (id, options) => {
      const replayed = await queue.replayDelivery(id, options);
      wake.signal();
      return replayed;
    },
    recoverEndpoint: async (options) => {
      const recovered = await queue.recoverEndpoint(options);
      if (recovered.replayed > 0) wake.signal();
      return recovered;
    },
    wakeUps: (listener) => wake.listen(() => listener("claim")),
    createMessages,
    createMessage: async (input) => (await createMessages([input]))[0]!,
    pruneInboundKeys: sqlitePruneInboundKeys(ctx, clock),
    ping: () =>
      call(() => {
        ctx.sql("SELECT 1").get();
      }),
    probeWrite: sqliteWriteProbe(ctx, clock, {
      ...SQLITE_WRITE_PROBE_DEFAULTS,
      ...options.writeProbe,
    }),
    async close() {},
  };
}
