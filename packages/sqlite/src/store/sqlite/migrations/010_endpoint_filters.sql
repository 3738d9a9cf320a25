-- Endpoint filters (docs/filters.md). `filter` is the filter's canonical JSON text (what
-- JSON.stringify gives for the validated filter), NULL = every message; the application
-- validates it (parseEndpointFilter) before writing and compiles it on read.
ALTER TABLE endpoints ADD COLUMN filter TEXT CHECK (filter IS NULL OR json_valid(filter));

-- The endpoints whose event types matched a message but whose filter refused it: no delivery
-- was created for them. Written with the message, in its transaction; read by getMessage.
-- endpoint_id is not a foreign key: the record outlives the endpoint (deleting an endpoint
-- deletes its deliveries, not the history of what it filtered out).
CREATE TABLE message_filtered (
  message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id TEXT NOT NULL,
  filtered_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, endpoint_id)
) STRICT;
