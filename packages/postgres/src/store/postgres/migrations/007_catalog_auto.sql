-- The self-filling event-type catalogue (auto, first/last seen, counts).
-- Every stored message counts for its type, written in the message's own statement or
-- transaction: a type seen for the first time gets an event_types row with auto = true and no
-- schema; a declaration (upsertEventType) sets auto = false and leaves the sightings as they are.
ALTER TABLE event_types ADD COLUMN auto boolean NOT NULL DEFAULT false;

-- The sightings of each type, in a few rows (shards) rather than one: concurrent writers of
-- the same type update different rows (shard = the writing backend's pid modulo 32), so a hot
-- type does not serialise their commits on one row lock. A type's first/last seen and count
-- are the min, max and sum over its rows (eventTypeSightings.ts). The foreign key's check takes
-- a KEY SHARE lock on the type's row, which neither another writer's nor a declaration's
-- (an UPDATE of other columns) waits for; deleting the type deletes its sightings.
CREATE TABLE event_type_sightings (
  name text NOT NULL REFERENCES event_types (name) ON DELETE CASCADE,
  shard smallint NOT NULL,
  first_seen_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  seen_count bigint NOT NULL CHECK (seen_count > 0),
  PRIMARY KEY (name, shard)
);

-- The messages stored before this migration count too: declared types get their sightings,
-- the others a row of their own.
INSERT INTO event_types (name, auto, created_at, updated_at)
SELECT type, true, min(created_at), min(created_at) FROM messages GROUP BY type
ON CONFLICT (name) DO NOTHING;
INSERT INTO event_type_sightings (name, shard, first_seen_at, last_seen_at, seen_count)
SELECT type, 0, min(created_at), max(created_at), count(*) FROM messages GROUP BY type;
