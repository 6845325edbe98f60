-- A service that calls tools for its own users (triage run on its own, with a token of its
-- own) names the end user in `X-Mcpfleet-On-Behalf-Of`. Only tokens issued as service tokens
-- (`mcpfleet token create --service`) may do so; the audit row keeps that user beside the
-- token's name (NULL when the caller acted for itself).
ALTER TABLE api_tokens ADD COLUMN service boolean NOT NULL DEFAULT false;
ALTER TABLE audit_log ADD COLUMN on_behalf_of text;
