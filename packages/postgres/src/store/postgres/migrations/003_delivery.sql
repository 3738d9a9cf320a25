-- Delivery engine: event types, endpoints, sources, messages, deliveries, attempts.
-- Times are written from the application's clock (never now()), so a manual clock drives
-- leases and schedules exactly as it does in memory and SQLite. Ids are COLLATE "C": byte
-- order, as in SQLite and JavaScript, for keyset pagination and prefix ranges. Note that jsonb
-- does not keep the key order of a payload. docs/delivery-store.md says which query uses which
-- index.

CREATE TABLE event_types (
  name text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  schema jsonb,
  deprecated boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE sources (
  name text PRIMARY KEY,
  scheme text NOT NULL,
  scheme_options jsonb,
  secrets jsonb NOT NULL DEFAULT '[]',
  tolerance_s double precision NOT NULL DEFAULT 300 CHECK (tolerance_s >= 0),
  idempotency_header text,
  idempotency_required boolean NOT NULL DEFAULT false,
  dedupe_ttl_s double precision NOT NULL DEFAULT 259200 CHECK (dedupe_ttl_s > 0),
  -- {"body": "type"} | {"header": "X-GitHub-Event"} | {"fixed": "received"}
  type_from jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- `transport` has no CHECK, like SQLite (where changing one means rebuilding the table): new
-- transports (sse, websocket, grpc) come without a migration. The application validates it.
CREATE TABLE endpoints (
  id text COLLATE "C" PRIMARY KEY,
  tenant text NOT NULL DEFAULT 'default',
  description text NOT NULL DEFAULT '',
  transport text NOT NULL DEFAULT 'http',
  target text NOT NULL,
  event_types jsonb NOT NULL,
  scheme text NOT NULL DEFAULT 'standard',
  scheme_options jsonb,
  -- [{"secret", "expiresAt", "createdAt"}], current first.
  secrets jsonb NOT NULL DEFAULT '[]',
  headers jsonb NOT NULL DEFAULT '{}',
  timeout_ms integer NOT NULL DEFAULT 15000 CHECK (timeout_ms > 0),
  retry jsonb,
  rate_limit_per_s double precision CHECK (rate_limit_per_s > 0),
  max_in_flight integer CHECK (max_in_flight > 0),
  ordered boolean NOT NULL DEFAULT false,
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text,
  -- The current run of failed attempts, for auto-disable (after N, or failing for a span).
  consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  failing_since timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- listEndpoints (by tenant, oldest first).
CREATE INDEX endpoints_tenant ON endpoints (tenant, created_at, id);

-- `type` and `source` are not foreign keys: messages outlive catalogue and source changes.
-- NULL idempotency keys never collide (NULLs in a UNIQUE are distinct).
CREATE TABLE messages (
  id text COLLATE "C" PRIMARY KEY,
  tenant text NOT NULL DEFAULT 'default',
  type text NOT NULL,
  source text,
  payload jsonb NOT NULL,
  idempotency_key text,
  created_at timestamptz NOT NULL,
  CONSTRAINT messages_idempotency_key UNIQUE (tenant, idempotency_key)
);

-- While `delivering`, next_attempt_at equals lease_expires_at: the time the delivery is due
-- again if its worker never finishes. So one index finds both kinds of due deliveries.
CREATE TABLE deliveries (
  id text COLLATE "C" PRIMARY KEY,
  message_id text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id text COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'pending' CHECK (
    status IN ('pending', 'delivering', 'delivered', 'retrying', 'dead_lettered', 'cancelled')
  ),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts integer NOT NULL CHECK (max_attempts >= 1),
  next_attempt_at timestamptz,
  lease_owner text,
  lease_expires_at timestamptz,
  last_attempt_at timestamptz,
  last_error text,
  last_status_code integer,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CHECK ((status = 'delivering') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CHECK (status NOT IN ('pending', 'delivering', 'retrying') OR next_attempt_at IS NOT NULL)
);

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
  id text COLLATE "C" PRIMARY KEY,
  delivery_id text COLLATE "C" NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt_number integer NOT NULL CHECK (attempt_number >= 1),
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  succeeded boolean NOT NULL,
  status_code integer,
  response_headers jsonb,
  -- At most 20 KB of UTF-8, cut by the application.
  response_body text,
  error text,
  CONSTRAINT attempts_number UNIQUE (delivery_id, attempt_number)
);
