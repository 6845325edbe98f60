-- Who a tool call was made for when the caller brought an access token from an identity
-- provider (gateway.auth.issuers): the token's subject and the OAuth client that obtained
-- it. NULL for mcpfleet's own tokens, whose name is already in `client`.
ALTER TABLE audit_log ADD COLUMN subject text, ADD COLUMN client_id text;

CREATE INDEX audit_log_subject_at ON audit_log (subject, at) WHERE subject IS NOT NULL;
