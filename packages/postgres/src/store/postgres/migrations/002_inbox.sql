-- Inbox: per-consumer dedupe entries (DedupeStore over SQL).
-- One row per key (`inboxKey(consumer, eventId)` for bus consumers, the receiver's dedupe key
-- for webhooks): `processing` under a lease owned by `token`, or `done` for a ttl. A row whose
-- expires_at has passed counts as absent; prune() deletes it.
CREATE TABLE inbox (
  key text NOT NULL PRIMARY KEY,
  token text NOT NULL,
  state text NOT NULL CHECK (state IN ('processing', 'done')),
  expires_at timestamptz NOT NULL
);

CREATE INDEX inbox_expires_at ON inbox (expires_at);
