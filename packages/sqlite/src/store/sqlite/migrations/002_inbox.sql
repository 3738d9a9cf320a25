-- Inbox: per-consumer dedupe entries (DedupeStore over SQL).
-- One row per key (`inboxKey(consumer, eventId)` for bus consumers, the receiver's dedupe key
-- for webhooks): `processing` under a lease owned by `token`, or `done` for a ttl. A row whose
-- expires_at (Unix milliseconds) has passed counts as absent; prune() deletes it.
CREATE TABLE inbox (
  key TEXT NOT NULL PRIMARY KEY,
  token TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('processing', 'done')),
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX inbox_expires_at ON inbox (expires_at);
