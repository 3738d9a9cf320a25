-- The readiness write probe (DeliveryStore.probeWrite, docs/delivery-store.md): one row, which
-- /ready rewrites when no real write vouched for the store lately, or while writes fail, to see
-- that a commit gets through. It holds nothing else and nothing reads it.
CREATE TABLE write_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  probed_at INTEGER NOT NULL
) STRICT;
