// The catalogue's count of stored messages (migration 007): a CTE of both createMessages writes,
// so the count commits with the messages, in the same statement.

/**
 * One UPSERT per distinct type of the messages `inserted` (a CTE returning `type`) at `now` (a
 * parameter): a type seen for the first time gets an `auto` row without a schema; a known one
 * only counts (its declaration and updated_at stay). Grouped and sorted by name, so no row is
 * touched twice and two batches lock shared types in one order.
 */
export const countEventTypesSql = (inserted: string, now: string) =>
  `INSERT INTO event_types
  (name, auto, first_seen_at, last_seen_at, seen_count, created_at, updated_at)
SELECT type, true, ${now}::timestamptz, ${now}::timestamptz, count(*), ${now}::timestamptz, ${now}::timestamptz
FROM ${inserted} GROUP BY type ORDER BY type
ON CONFLICT (name) DO UPDATE SET
  seen_count = event_types.seen_count + excluded.seen_count,
  first_seen_at = least(event_types.first_seen_at, excluded.first_seen_at),
  last_seen_at = greatest(event_types.last_seen_at, excluded.last_seen_at)`;
