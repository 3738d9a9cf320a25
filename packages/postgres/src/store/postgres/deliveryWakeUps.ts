// LISTEN/NOTIFY wake-ups for workers: createMessages notifies `herald_deliveries` once per batch
// (inside its transaction, so the notice arrives only after the commit), as do a replay and a
// recovery that made deliveries due. Each listener holds one dedicated connection and filters on
// its own schema, so schemas sharing a database (tests, tenants) do not wake each other's
// workers; with several listeners each notice is one listener's turn (wakeUpTurns.ts).
import type { WakeUp } from "@heraldjs/core/internal/store/deliveryPorts.js";
import pg from "pg";
import type { PgPool } from "./database.js";
import {
  DELIVERIES_CHANNEL,
  LISTENERS_LOCK_CLASS,
  listenersLockKey,
  READ_LISTENERS,
  TAKE_LISTENERS_LOCK,
  wakeUpFor,
} from "./wakeUpTurns.js";

/** After a lost connection, wait this long before listening again (polling covers the gap). */
const RECONNECT_MS = 2_000;

/**
 * How often a listener reads which listeners its schema has. A worker that joined is given turns
 * from then on; one that left (its connection closed) loses them then, and until then the notices
 * of its turns reach the others as backups.
 */
export const LISTENERS_REFRESH_MS = 2_000;

/**
 * Listens on a connection of its own (not a pool one: LISTEN lasts for the session), opened with
 * the pool's settings so it sees the same schema. Resolves once listening; a later connection
 * loss is retried quietly, and `listener` is called on reconnecting for what may have been missed.
 */
export async function listenForDeliveries(
  pool: PgPool,
  listener: (wakeUp: WakeUp) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let refresh: NodeJS.Timeout | null = null;

  async function connect(): Promise<void> {
    const next = new pg.Client(pool.options);
    next.on("error", () => lost(next));
    next.on("end", () => lost(next));
    await next.connect();
    try {
      const { rows } = await next.query<{ schema: string; pid: number }>(
        "SELECT current_schema() AS schema, pg_backend_pid() AS pid",
      );
      const schema = rows[0]?.schema ?? "";
      const self = rows[0]?.pid ?? -1;
      const keys = [LISTENERS_LOCK_CLASS, listenersLockKey(schema)];
      let listeners: readonly number[] = [];
      const readListeners = async () => {
        const read = await next.query<{ pid: number }>(READ_LISTENERS, keys);
        listeners = read.rows.map((row) => row.pid);
      };
      next.on("notification", (notice) => {
        if (notice.channel !== DELIVERIES_CHANNEL) return;
        const wakeUp = wakeUpFor(notice.payload ?? "", schema, listeners, self);
        if (wakeUp !== null) listener(wakeUp);
      });
      await next.query(TAKE_LISTENERS_LOCK, keys);
      await next.query(`LISTEN ${DELIVERIES_CHANNEL}`);
      await readListeners();
      if (!stopped) {
        refresh = setInterval(() => {
          // A failed read keeps the last list; a lost connection is handled by `lost`.
          readListeners().catch(() => {});
        }, LISTENERS_REFRESH_MS);
        refresh.unref();
      }
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    if (stopped) await next.end().catch(() => {});
    else client = next;
  }

  function stopRefresh(): void {
    if (refresh !== null) clearInterval(refresh);
    refresh = null;
  }

  function lost(which: pg.Client): void {
    if (stopped || client !== which) return;
    client = null;
    stopRefresh();
    which.end().catch(() => {});
    retry = setTimeout(reconnect, RECONNECT_MS);
    retry.unref();
  }

  function reconnect(): void {
    retry = null;
    if (stopped) return;
    connect().then(
      () => listener("claim"),
      () => {
        if (stopped) return;
        retry = setTimeout(reconnect, RECONNECT_MS);
        retry.unref();
      },
    );
  }

  await connect();
  return async () => {
    stopped = true;
    if (retry !== null) clearTimeout(retry);
    stopRefresh();
    const current = client;
    client = null;
    await current?.end().catch(() => {});
  };
}
