-- What discovery knows about each registry row beyond the shared columns: where it was
-- found (source, origin), the image behind it, the protocol version and server identity
-- it answered with, whether its last failure was permanent, and its catalog proposal.
ALTER TABLE mcp_servers
    ADD COLUMN discovery jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(discovery) = 'object');

-- The registry API pages by name and filters by update time.
CREATE INDEX mcp_servers_updated_at ON mcp_servers (updated_at);
