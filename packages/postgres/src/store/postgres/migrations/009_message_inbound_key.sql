-- Messages: the inbound idempotency key as received (MessageRecord.inboundIdempotencyKey): the
-- id an inbound webhook's source deduplicated it by (the scheme's webhook id, else the source's
-- idempotency header), shown by GET /v1/messages/:id. Not unique and not indexed: two sources
-- may send the same key, and dedupe itself is inbound_keys' job (004); nothing looks it up.
-- A nullable column without a default: adding it rewrites no rows.
ALTER TABLE messages ADD COLUMN inbound_idempotency_key text;
