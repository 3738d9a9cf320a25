// LISTEN/NOTIFY wake-ups for workers: createMessages notifies `herald_deliveries` once per batch
// with its schema name as payload (inside its transaction, so the notice arrives only after the
// commit), as do a replay and a recovery that made deliveries due, and each listener holds one dedicated connection, filtering on its own schema so schemas sharing a
// database (tests, tenants) do not wake each other's workers.
import pg from "pg";
import type { PgPool } from "./database.js";

export const DELIVERIES_CHANNEL = "herald_deliveries";

/** Wakes this schema's workers (sent at commit when run inside a transaction). */
export const NOTIFY_DELIVERIES = `SELECT pg_notify('${DELIVERIES_CHANNEL}', current_schema())`;

/** After a lost connection, wait this long before listening again (polling covers the gap). */
const RECONNECT_MS = 2_000;

/**
 * Listens on a connection of its own (not a pool one: LISTEN lasts for the session), opened with
 * the pool's settings so it sees the same schema. Resolves once listening; a later connection
 * loss is retried quietly, and `listener` is called on reconnecting for what may have been missed.
 */
export async function listenForDeliveries(
  pool: PgPool,
  listener: () => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;

  async function connect(): Promise<void> {
    const next = new pg.Client(pool.options);
    next.on("error", () => lost(next));
    next.on("end", () => lost(next));
    await next.connect();
    try {
      const { rows } = await next.query<{ schema: string }>("SELECT current_schema() AS schema");
      const schema = rows[0]?.schema;
      next.on("notification", (notice) => {
        if (notice.channel === DELIVERIES_CHANNEL && notice.payload === schema) listener();
      });
      await next.query(`LISTEN ${DELIVERIES_CHANNEL}`);
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    if (stopped) await next.end().catch(() => {});
    else client = next;
  }

  function lost(which: pg.Client): void {
    if (stopped || client !== which) return;
    client = null;
    which.end().catch(() => {});
    retry = setTimeout(reconnect, RECONNECT_MS);
    retry.unref();
  }

  function reconnect(): void {
    retry = null;
    if (stopped) return;
    connect().then(listener, () => {
      if (stopped) return;
      retry = setTimeout(reconnect, RECONNECT_MS);
      retry.unref();
    });
  }

  await connect();
  return async () => {
    stopped = true;
    if (retry !== null) clearTimeout(retry);
    const current = client;
    client = null;
    await current?.end().catch(() => {});
  };
}
