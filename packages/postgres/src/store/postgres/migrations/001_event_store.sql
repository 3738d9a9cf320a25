-- Event store: streams, events (with the outbox flag) and checkpoints.

-- One row per stream; `version` is the head. Appends lock this row (INSERT … ON CONFLICT DO
-- UPDATE), which serialises writers of one stream while other streams proceed in parallel.
CREATE TABLE streams (
  name text PRIMARY KEY,
  type text NOT NULL,
  id text NOT NULL,
  version integer NOT NULL CHECK (version >= 0)
);

CREATE TABLE events (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The writing transaction. Positions are taken before commit, so position order is not
  -- commit order; readers page by (transaction_id, position) and only read transactions older
  -- than every running one (pg_snapshot_xmin), so a late commit is never skipped.
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream text NOT NULL REFERENCES streams (name),
  version integer NOT NULL CHECK (version >= 1),
  event_id uuid NOT NULL UNIQUE,
  type text NOT NULL,
  source text NOT NULL,
  -- Kept as the envelope's own ISO 8601 text (offset and precision included): lossless.
  occurred_at text NOT NULL,
  correlation_id text,
  causation_id text,
  payload jsonb NOT NULL,
  metadata jsonb NOT NULL,
  -- true when stored through publish(): the transactional outbox.
  published boolean NOT NULL DEFAULT false,
  -- The INSERT statement's time: one value per batch, closer to the commit than now().
  committed_at timestamptz NOT NULL DEFAULT statement_timestamp(),
  UNIQUE (stream, version)
);

-- load() is served by the UNIQUE (stream, version) index.
CREATE INDEX events_commit_order ON events (transaction_id, position);
CREATE INDEX events_outbox ON events (transaction_id, position) WHERE published;

CREATE TABLE checkpoints (
  name text PRIMARY KEY,
  checkpoint text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
