-- The admin scope: a token that may manage other tokens (the console's Tokens page).
-- Kept apart from `scopes`, which name servers: a server may be called anything, and
-- "all servers" (scopes NULL) must not quietly mean "may mint tokens" for tokens issued
-- before this column existed. Existing tokens stay non-admin.
ALTER TABLE api_tokens ADD COLUMN admin boolean NOT NULL DEFAULT false;
