-- Live streams (/v1/stream): stream tokens and the stream's order of messages.
-- A token is kept by its SHA-256 only (hex): the token itself is shown once, at creation.
CREATE TABLE stream_tokens (
  id text COLLATE "C" PRIMARY KEY,
  tenant text COLLATE "C" NOT NULL,
  -- ["order.*", …]: the event-type patterns the token may read.
  event_types jsonb NOT NULL,
  token_hash text COLLATE "C" NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);

-- The stream's positions. Transactions take sequence numbers in one order and commit in
-- another, so a reader that went by the number alone could pass a number whose transaction has
-- not committed yet, and never see it. Each message also records the transaction that wrote it;
-- readers take only messages of transactions older than every one still running
-- (pg_snapshot_xmin of the current snapshot), in (transaction, sequence) order: every message
-- that commits later sorts after all of those. The messages stored before this migration share
-- its transaction, numbered in table order.
ALTER TABLE messages ADD COLUMN stream_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE messages ADD COLUMN stream_seq bigserial NOT NULL;
CREATE INDEX messages_stream ON messages (stream_xid, stream_seq);
