-- The readiness write probe (DeliveryStore.probeWrite, docs/delivery-store.md): one row, which
-- /ready rewrites when no real write vouched for the store lately, or while writes fail, to see
-- that a commit gets through. Every process sharing the schema rewrites the same row (a lock held
-- for one statement). It holds nothing else and nothing reads it.
CREATE TABLE write_probe (
  id integer PRIMARY KEY CHECK (id = 1),
  probed_at timestamptz NOT NULL
);
