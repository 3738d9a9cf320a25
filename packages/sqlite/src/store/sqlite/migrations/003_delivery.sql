-- Delivery engine: event types, endpoints, sources, messages, deliveries, attempts.
-- Times are INTEGER Unix milliseconds, always written from the application's clock (never
-- SQLite's), so a manual clock drives leases and schedules exactly as it does in memory.
-- JSON columns are TEXT checked by json_valid; booleans are 0/1. docs/delivery-store.md says
-- which query uses which index.

CREATE TABLE event_types (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  schema TEXT CHECK (schema IS NULL OR json_valid(schema)),
  deprecated INTEGER NOT NULL DEFAULT 0 CHECK (deprecated IN (0, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE sources (
  name TEXT PRIMARY KEY,
  scheme TEXT NOT NULL,
  scheme_options TEXT CHECK (scheme_options IS NULL OR json_valid(scheme_options)),
  secrets TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(secrets)),
  tolerance_s REAL NOT NULL DEFAULT 300 CHECK (tolerance_s >= 0),
  idempotency_header TEXT,
  idempotency_required INTEGER NOT NULL DEFAULT 0 CHECK (idempotency_required IN (0, 1)),
  dedupe_ttl_s REAL NOT NULL DEFAULT 259200 CHECK (dedupe_ttl_s > 0),
  -- {"body": "type"} | {"header": "X-GitHub-Event"} | {"fixed": "received"}
  type_from TEXT NOT NULL CHECK (json_valid(type_from)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- `transport` has no CHECK on purpose: new transports (sse, websocket, grpc) must not need a
-- table rebuild, which is what changing a CHECK costs in SQLite. The application validates it.
CREATE TABLE endpoints (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL DEFAULT 'default',
  description TEXT NOT NULL DEFAULT '',
  transport TEXT NOT NULL DEFAULT 'http',
  target TEXT NOT NULL,
  event_types TEXT NOT NULL CHECK (json_valid(event_types)),
  scheme TEXT NOT NULL DEFAULT 'standard',
  scheme_options TEXT CHECK (scheme_options IS NULL OR json_valid(scheme_options)),
  -- [{"secret", "expiresAt", "createdAt"}], current first.
  secrets TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(secrets)),
  headers TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(headers)),
  timeout_ms INTEGER NOT NULL DEFAULT 15000 CHECK (timeout_ms > 0),
  retry TEXT CHECK (retry IS NULL OR json_valid(retry)),
  rate_limit_per_s REAL CHECK (rate_limit_per_s IS NULL OR rate_limit_per_s > 0),
  max_in_flight INTEGER CHECK (max_in_flight IS NULL OR max_in_flight > 0),
  ordered INTEGER NOT NULL DEFAULT 0 CHECK (ordered IN (0, 1)),
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  disabled_reason TEXT,
  -- The current run of failed attempts, for auto-disable (after N, or failing for a span).
  consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  failing_since INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- listEndpoints (by tenant, oldest first).
CREATE INDEX endpoints_tenant ON endpoints (tenant, created_at, id);

-- `type` and `source` are not foreign keys: messages outlive catalogue and source changes.
-- NULL idempotency keys never collide (SQLite treats NULLs in a UNIQUE as distinct).
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL DEFAULT 'default',
  type TEXT NOT NULL,
  source TEXT,
  payload TEXT NOT NULL CHECK (json_valid(payload)),
  idempotency_key TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (tenant, idempotency_key)
) STRICT;

-- While `delivering`, next_attempt_at equals lease_expires_at: the time the delivery is due
-- again if its worker never finishes. So one index finds both kinds of due deliveries.
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (
    status IN ('pending', 'delivering', 'delivered', 'retrying', 'dead_lettered', 'cancelled')
  ),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
  next_attempt_at INTEGER,
  lease_owner TEXT,
  lease_expires_at INTEGER,
  last_attempt_at INTEGER,
  last_error TEXT,
  last_status_code INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK ((status = 'delivering') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CHECK (status NOT IN ('pending', 'delivering', 'retrying') OR next_attempt_at IS NOT NULL)
) STRICT;

-- claimDueDeliveries and deliveryStats' oldest due delivery: open deliveries in due order, so
-- a claim reads the first due rows and stops at its LIMIT however long the backlog. Partial:
-- final deliveries (the bulk of the table) are not in it, which keeps it small and cached.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id)
  WHERE status IN ('pending', 'delivering', 'retrying');
-- deliveryStats' depth by status, and listDeliveries by status, newest first.
CREATE INDEX deliveries_status ON deliveries (status, created_at, id);
-- Ordered endpoints' FIFO check in the claim ("is an older delivery of this endpoint still
-- open?"): one probe, without walking the endpoint's finished history.
CREATE INDEX deliveries_fifo ON deliveries (endpoint_id, created_at, id)
  WHERE status IN ('pending', 'delivering', 'retrying');
-- listDeliveries by endpoint, recoverEndpoint (since a time), and the cascade when an endpoint
-- is deleted.
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at, id);
-- getMessage (a message with its deliveries) and the cascade when a message is deleted.
CREATE INDEX deliveries_message ON deliveries (message_id);
-- listDeliveries without filters (keyset on created_at, id).
CREATE INDEX deliveries_created ON deliveries (created_at, id);

-- `attempt_number` counts on across replays, so it stays unique per delivery.
CREATE TABLE attempts (
  id TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt_number INTEGER NOT NULL CHECK (attempt_number >= 1),
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
  succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
  status_code INTEGER,
  response_headers TEXT CHECK (response_headers IS NULL OR json_valid(response_headers)),
  -- At most 20 KB of UTF-8, cut by the application.
  response_body TEXT,
  error TEXT,
  UNIQUE (delivery_id, attempt_number)
) STRICT;
