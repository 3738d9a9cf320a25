-- A counter per tenant that changes with every write that can change where its messages go:
-- an endpoint created or deleted, enabled or disabled, or its event types, filter or retry
-- policy changed (ad-hoc endpoints are never routed to, so they do not count). Routing keeps
-- each tenant's compiled endpoints in memory and reads only this row per message; a different
-- value makes it list the endpoints again. Triggers keep it, so every writer counts: this or
-- another process, the CLI, or SQL typed by hand. The failure run an attempt records
-- (consecutive_failures, failing_since) leaves it alone.
CREATE TABLE endpoint_versions (
  tenant TEXT PRIMARY KEY,
  version INTEGER NOT NULL
) STRICT;

CREATE TRIGGER endpoints_version_insert AFTER INSERT ON endpoints WHEN NEW.adhoc = 0
BEGIN
  INSERT INTO endpoint_versions (tenant, version) VALUES (NEW.tenant, 1)
  ON CONFLICT (tenant) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER endpoints_version_delete AFTER DELETE ON endpoints WHEN OLD.adhoc = 0
BEGIN
  INSERT INTO endpoint_versions (tenant, version) VALUES (OLD.tenant, 1)
  ON CONFLICT (tenant) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER endpoints_version_update AFTER UPDATE ON endpoints
WHEN NOT (OLD.adhoc = 1 AND NEW.adhoc = 1) AND (
  OLD.tenant IS NOT NEW.tenant OR OLD.adhoc IS NOT NEW.adhoc OR OLD.enabled IS NOT NEW.enabled
  OR OLD.event_types IS NOT NEW.event_types OR OLD.filter IS NOT NEW.filter
  OR OLD.retry IS NOT NEW.retry)
BEGIN
  INSERT INTO endpoint_versions (tenant, version) VALUES (OLD.tenant, 1)
  ON CONFLICT (tenant) DO UPDATE SET version = version + 1;
  INSERT INTO endpoint_versions (tenant, version) SELECT NEW.tenant, 1 WHERE NEW.tenant IS NOT OLD.tenant
  ON CONFLICT (tenant) DO UPDATE SET version = version + 1;
END;
