-- Messages: the inbound idempotency key as received.
SELECT 1;
