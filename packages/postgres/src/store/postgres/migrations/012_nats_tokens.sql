-- NATS tokens (herald nats token …): what an agent, a browser or one of Herald's own processes
-- presents to nats-server, checked by Herald's auth callout. A token is kept by its SHA-256
-- only (hex): the token itself is shown once, at creation.
CREATE TABLE nats_tokens (
  id text COLLATE "C" PRIMARY KEY,
  -- agent.compute, agent.storage, agent.network, client or service.
  identity text COLLATE "C" NOT NULL,
  -- The agent's UUID, the client's user id or the service's name.
  subject_id text COLLATE "C" NOT NULL,
  tenant text COLLATE "C" NOT NULL,
  token_hash text COLLATE "C" NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  -- NULL: the token does not expire.
  expires_at timestamptz,
  revoked_at timestamptz
);

-- herald nats token list --tenant / --identity / --id, oldest (lowest id) first.
CREATE INDEX nats_tokens_tenant ON nats_tokens (tenant, id);
CREATE INDEX nats_tokens_identity ON nats_tokens (identity, id);
CREATE INDEX nats_tokens_subject ON nats_tokens (subject_id, id);
