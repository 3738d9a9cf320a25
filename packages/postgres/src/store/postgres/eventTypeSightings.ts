// The catalogue's sightings on PostgreSQL (migration 007): each stored message counts for its
// type in the same statement as the message write, in one of a few rows per type (shards), so
// concurrent batches of one hot type do not wait on each other's row lock; reads add them up.

/** Shards per type: the writing backend's pid modulo this picks the row it updates. */
const SHARDS = 32;

/**
 * Two CTEs of a write whose stored messages are the CTE `inserted` (returning `type`), at `now`
 * (a parameter): `t` records a type seen for the first time (auto, no schema; a known one is
 * left alone, without a lock), `ts` adds the batch's count per type to this backend's shard.
 * Grouped and sorted by name, so no row is touched twice and batches lock shared rows in one
 * order.
 */
export function countedTypes(inserted: string, now: string): string[] {
  const at = `${now}::timestamptz`;
  return [
    `t AS (INSERT INTO event_types (name, auto, created_at, updated_at)
SELECT DISTINCT type, true, ${at}, ${at} FROM ${inserted} ORDER BY 1
ON CONFLICT (name) DO NOTHING)`,
    `ts AS (INSERT INTO event_type_sightings (name, shard, first_seen_at, last_seen_at, seen_count)
SELECT type, pg_backend_pid() % ${SHARDS}, ${at}, ${at}, count(*)
FROM ${inserted} GROUP BY type ORDER BY type
ON CONFLICT (name, shard) DO UPDATE SET
  seen_count = event_type_sightings.seen_count + excluded.seen_count,
  first_seen_at = least(event_type_sightings.first_seen_at, excluded.first_seen_at),
  last_seen_at = greatest(event_type_sightings.last_seen_at, excluded.last_seen_at))`,
  ];
}

/**
 * Event types (`rows` names a row source with event_types' columns: the table, or a CTE) with
 * their sightings added up, under the column names the row mapper reads.
 */
export const withSightingsSql = (rows: string) => `SELECT e.*, s.first_seen_at, s.last_seen_at,
  coalesce(s.seen_count, 0) AS seen_count
FROM ${rows} AS e LEFT JOIN LATERAL (
  SELECT min(first_seen_at) AS first_seen_at, max(last_seen_at) AS last_seen_at,
    sum(seen_count) AS seen_count
  FROM event_type_sightings WHERE name = e.name) AS s ON true`;
