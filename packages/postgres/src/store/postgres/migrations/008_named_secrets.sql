-- Named secrets and ad-hoc deliveries.
-- A named secret signs the deliveries of the endpoints that name it (secret_name), resolved by
-- the worker at every attempt, so a rotation applies to pending retries. Values are stored as
-- given, like endpoints' secrets; the API never returns them.
CREATE TABLE named_secrets (
  tenant text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  scheme text NOT NULL DEFAULT 'standard',
  scheme_options jsonb,
  -- [{"secret", "expiresAt", "createdAt"}], current first.
  secrets jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant, name)
);

-- Not a foreign key: deleting a named secret keeps the endpoints that name it (their attempts
-- fail with secret.not_found until a secret of that name exists again).
ALTER TABLE endpoints ADD COLUMN secret_name text;
-- The target of dispatch({ url, secretName }): never routed to, never listed.
ALTER TABLE endpoints ADD COLUMN adhoc boolean NOT NULL DEFAULT false;
