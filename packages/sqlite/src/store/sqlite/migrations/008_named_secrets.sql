-- Named secrets and ad-hoc deliveries.
-- A named secret signs the deliveries of the endpoints that name it (secret_name), resolved by
-- the worker at every attempt, so a rotation applies to pending retries. Values are stored as
-- given, like endpoints' secrets; the API never returns them.
CREATE TABLE named_secrets (
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  scheme TEXT NOT NULL DEFAULT 'standard',
  scheme_options TEXT CHECK (scheme_options IS NULL OR json_valid(scheme_options)),
  -- [{"secret", "expiresAt", "createdAt"}], current first.
  secrets TEXT NOT NULL CHECK (json_valid(secrets)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, name)
) STRICT;

-- Not a foreign key: deleting a named secret keeps the endpoints that name it (their attempts
-- fail with secret.not_found until a secret of that name exists again).
ALTER TABLE endpoints ADD COLUMN secret_name TEXT;
-- The target of dispatch({ url, secretName }): never routed to, never listed.
ALTER TABLE endpoints ADD COLUMN adhoc INTEGER NOT NULL DEFAULT 0 CHECK (adhoc IN (0, 1));
