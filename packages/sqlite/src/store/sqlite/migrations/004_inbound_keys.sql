-- Inbound dedupe keys: one row per source and key (an idempotency header's value, a scheme's
-- message id or a hash of the body), written in the same transaction as the message it let in
-- (createMessage / createMessages with `dedupe`). While expires_at (Unix ms, from the
-- application's clock) is ahead, the key deduplicates: another message with it stores nothing
-- and gets this message back. Once it has passed, the next message with the key takes the row
-- over, and pruneInboundKeys deletes the rows nobody took. `source` is not a foreign key:
-- like messages.source, keys outlive catalogue changes. docs/delivery-store.md says which
-- query uses which index.
CREATE TABLE inbound_keys (
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (source, key)
) STRICT, WITHOUT ROWID;

-- pruneInboundKeys: the expired keys, oldest first, without reading the live ones.
CREATE INDEX inbound_keys_expires ON inbound_keys (expires_at);
-- The cascade when a message is deleted (pruning old messages), one probe per message.
CREATE INDEX inbound_keys_message ON inbound_keys (message_id);
