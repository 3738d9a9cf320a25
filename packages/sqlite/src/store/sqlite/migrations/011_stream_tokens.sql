-- Live streams (/v1/stream): stream tokens and the stream's order of messages.
-- A token is kept by its SHA-256 only (hex): the token itself is shown once, at creation.
CREATE TABLE stream_tokens (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  -- ["order.*", …]: the event-type patterns the token may read.
  event_types TEXT NOT NULL CHECK (json_valid(event_types)),
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;

-- The stream's positions: one row per message, numbered in commit order. SQLite has one writer
-- at a time, so a number taken inside a transaction is also its commit order; AUTOINCREMENT
-- never hands out a number twice, and VACUUM does not renumber an INTEGER PRIMARY KEY (it may
-- renumber the messages table's own rowid).
CREATE TABLE message_stream (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL
) STRICT;

-- The messages stored before this migration, oldest first.
INSERT INTO message_stream (message_id) SELECT id FROM messages ORDER BY created_at, id;

CREATE TRIGGER messages_stream AFTER INSERT ON messages
BEGIN
  INSERT INTO message_stream (message_id) VALUES (NEW.id);
END;
