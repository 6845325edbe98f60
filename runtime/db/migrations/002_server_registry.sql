-- The registry of MCP servers the gateway federates: what the catalog declares and what
-- discovery found, with live health and the tools each server last listed.
CREATE TABLE mcp_servers (
    name        text PRIMARY KEY,
    kind        text NOT NULL,
    transport   text NOT NULL,
    description text NOT NULL DEFAULT '',
    endpoints   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(endpoints) = 'array'),
    health      text NOT NULL DEFAULT 'unknown'
                CHECK (health IN ('unknown', 'healthy', 'degraded', 'unhealthy')),
    last_error  text,
    last_seen   timestamptz,
    -- MCP Tool objects as tools/list returned them: name, description, inputSchema, ...
    tools       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tools) = 'array'),
    source      text NOT NULL CHECK (source IN ('catalog', 'discovery')),
    in_catalog  boolean NOT NULL DEFAULT false,
    -- what differs between the catalog entry and the live server (see runtime.store.registry)
    drift       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(drift) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX mcp_servers_health ON mcp_servers (health);
