-- Inbound dedupe keys: one row per source and key (an idempotency header's value, a scheme's
-- message id or a hash of the body), written in the same transaction as the message it let in
-- (createMessage / createMessages with `dedupe`). While expires_at (from the application's
-- clock, never now()) is ahead, the key deduplicates: another message with it stores nothing
-- and gets this message back. Once it has passed, the next message with the key takes the row
-- over (INSERT … ON CONFLICT (source, key) DO UPDATE … WHERE expires_at <= now: the primary
-- key settles concurrent takers), and pruneInboundKeys deletes the rows nobody took. `source`
-- is not a foreign key: like messages.source, keys outlive catalogue changes.
-- docs/delivery-store.md says which query uses which index.
CREATE TABLE inbound_keys (
  source text NOT NULL,
  key text NOT NULL,
  message_id text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (source, key)
);

-- pruneInboundKeys: the expired keys, oldest first, without reading the live ones.
CREATE INDEX inbound_keys_expires ON inbound_keys (expires_at);
-- The cascade when a message is deleted (pruning old messages), one probe per message.
CREATE INDEX inbound_keys_message ON inbound_keys (message_id);
