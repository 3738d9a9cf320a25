-- Endpoint filters (docs/filters.md). `filter` is the filter's canonical JSON text (what
-- JSON.stringify gives for the validated filter), NULL = every message: text, not jsonb, so
-- the filter reads back exactly as every backend stores it (jsonb would rewrite numbers such
-- as -0 or 1.0). The application validates it (parseEndpointFilter) before writing and
-- compiles it on read. A nullable column without a default: adding it rewrites no rows.
ALTER TABLE endpoints ADD COLUMN filter text;

-- The endpoints whose event types matched a message but whose filter refused it: no delivery
-- was created for them. Written with the message, in its statement or transaction; read by
-- getMessage. endpoint_id is not a foreign key: the record outlives the endpoint (deleting an
-- endpoint deletes its deliveries, not the history of what it filtered out), and a batch
-- never fails because an endpoint it filtered out was deleted meanwhile.
CREATE TABLE message_filtered (
  message_id text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id text COLLATE "C" NOT NULL,
  filtered_at timestamptz NOT NULL,
  PRIMARY KEY (message_id, endpoint_id)
);
