-- A counter per tenant that changes with every write that can change where its messages go:
-- an endpoint created or deleted, enabled or disabled, or its event types, filter or retry
-- policy changed (ad-hoc endpoints are never routed to, so they do not count). Routing keeps
-- each tenant's compiled endpoints in memory and reads only this row per message; a different
-- value makes it list the endpoints again. Triggers keep it, so every writer counts: this or
-- another process, the CLI, or SQL typed by hand. The failure run an attempt records
-- (consecutive_failures, failing_since) leaves it alone; TRUNCATE changes every tenant's.
CREATE TABLE endpoint_versions (
  tenant text COLLATE "C" PRIMARY KEY,
  version bigint NOT NULL
);

-- The function names endpoint_versions in the schema of the endpoints table that fired it,
-- whatever the writer's search_path is.
CREATE FUNCTION endpoint_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bump constant text := format(
    'INSERT INTO %I.endpoint_versions AS v (tenant, version) VALUES ($1, 1) '
    'ON CONFLICT (tenant) DO UPDATE SET version = v.version + 1', TG_TABLE_SCHEMA);
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    EXECUTE format('UPDATE %I.endpoint_versions SET version = version + 1', TG_TABLE_SCHEMA);
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' AND NOT OLD.adhoc THEN
    EXECUTE bump USING OLD.tenant;
  END IF;
  IF TG_OP <> 'DELETE' AND NOT NEW.adhoc
    AND (TG_OP = 'INSERT' OR OLD.adhoc OR NEW.tenant IS DISTINCT FROM OLD.tenant) THEN
    EXECUTE bump USING NEW.tenant;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER endpoints_version_write AFTER INSERT OR DELETE ON endpoints
FOR EACH ROW EXECUTE FUNCTION endpoint_versions_bump();

CREATE TRIGGER endpoints_version_update AFTER UPDATE ON endpoints
FOR EACH ROW WHEN (
  NOT (OLD.adhoc AND NEW.adhoc) AND (
    OLD.tenant IS DISTINCT FROM NEW.tenant OR OLD.adhoc IS DISTINCT FROM NEW.adhoc
    OR OLD.enabled IS DISTINCT FROM NEW.enabled OR OLD.event_types IS DISTINCT FROM NEW.event_types
    OR OLD.filter IS DISTINCT FROM NEW.filter OR OLD.retry IS DISTINCT FROM NEW.retry))
EXECUTE FUNCTION endpoint_versions_bump();

CREATE TRIGGER endpoints_version_truncate AFTER TRUNCATE ON endpoints
FOR EACH STATEMENT EXECUTE FUNCTION endpoint_versions_bump();
