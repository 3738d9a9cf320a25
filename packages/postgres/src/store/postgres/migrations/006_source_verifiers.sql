-- Sources: the sender addresses a source accepts (a JSON array of CIDRs or addresses; empty =
-- any). The verifiers beyond signatures (scheme token, basic, none) need no column: the scheme
-- is a name, the token header lives in scheme_options.
ALTER TABLE sources ADD COLUMN allow_from jsonb NOT NULL DEFAULT '[]'::jsonb;
