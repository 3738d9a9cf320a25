-- Event store: streams, events (with the outbox flag) and checkpoints.

-- One row per stream; `version` is the head, moved in the same transaction as the append.
CREATE TABLE streams (
  name TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 0)
) STRICT;

-- Writers are serialised by SQLite's write lock (BEGIN IMMEDIATE), so `position` order is
-- commit order. AUTOINCREMENT: a position is never handed out twice, not even after a rollback
-- of the last row.
CREATE TABLE events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  stream TEXT NOT NULL REFERENCES streams (name),
  version INTEGER NOT NULL CHECK (version >= 1),
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  -- Kept as the envelope's own ISO 8601 text (offset included), so it reads back unchanged.
  occurred_at TEXT NOT NULL,
  correlation_id TEXT,
  causation_id TEXT,
  payload TEXT NOT NULL CHECK (json_valid(payload)),
  metadata TEXT NOT NULL CHECK (json_valid(metadata)),
  -- 1 when stored through publish(): the transactional outbox.
  published INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
  committed_at TEXT NOT NULL,
  UNIQUE (stream, version)
) STRICT;

-- load() is served by the UNIQUE (stream, version) index, readAll() by the primary key.
CREATE INDEX events_outbox ON events (position) WHERE published = 1;

CREATE TABLE checkpoints (
  name TEXT PRIMARY KEY,
  checkpoint TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
