// The PostgreSQL write probe behind readiness (DeliveryStore.probeWrite): one row of write_probe
// (migration 005) rewritten and committed, under a statement timeout so that a probe stuck on a
// lock or a stalled server fails instead of waiting. It catches what a ping does not: a server
// that answers but refuses writes (a read-only standby, a full disk, a lock held too long).
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { type PgPool, withTransaction } from "./database.js";
import { pgCall } from "./deliverySql.js";

export interface PostgresWriteProbeSettings {
  /** The probe statement's timeout. */
  statementTimeoutMs: number;
}

export const POSTGRES_WRITE_PROBE_DEFAULTS: PostgresWriteProbeSettings = {
  statementTimeoutMs: 1000,
};

const UPSERT =
  "INSERT INTO write_probe (id, probed_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET probed_at = EXCLUDED.probed_at";

export function postgresWriteProbe(
  pool: PgPool,
  clock: Clock,
  settings: PostgresWriteProbeSettings,
): () => Promise<void> {
  const timeoutMs = Math.max(1, Math.floor(settings.statementTimeoutMs));
  return () =>
    pgCall(() =>
      withTransaction(pool, async (client) => {
        await client.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
        await client.query(UPSERT, [new Date(clock.now()).toISOString()]);
      }),
    );
}
