-- The self-filling event-type catalogue (auto, first/last seen, counts).
-- Every stored message counts in its type's row, written in the message's own statement or
-- transaction (one UPSERT per distinct type per batch): a type seen for the first time gets a
-- row with auto = true and no schema; a declaration (upsertEventType) sets auto = false and
-- leaves the sightings as they are. first_seen_at / last_seen_at are NULL while no message of the
-- type was stored.
ALTER TABLE event_types
  ADD COLUMN auto boolean NOT NULL DEFAULT false,
  ADD COLUMN first_seen_at timestamptz,
  ADD COLUMN last_seen_at timestamptz,
  ADD COLUMN seen_count bigint NOT NULL DEFAULT 0 CHECK (seen_count >= 0);

-- The messages stored before this migration count too: declared types get their sightings,
-- the others a row of their own.
INSERT INTO event_types (name, auto, first_seen_at, last_seen_at, seen_count, created_at, updated_at)
SELECT type, true, min(created_at), max(created_at), count(*), min(created_at), min(created_at)
FROM messages GROUP BY type
ON CONFLICT (name) DO UPDATE SET
  first_seen_at = excluded.first_seen_at,
  last_seen_at = excluded.last_seen_at,
  seen_count = excluded.seen_count;
