-- Who may call the gateway, how often, and what they did.

-- Bearer tokens: only the SHA-256 of a 256-bit random token is stored, never the token.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (name <> ''),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix       text NOT NULL,           -- first characters, to recognise a token in lists
    scopes       text[],                  -- server names; NULL means every server
    expires_at   timestamptz,             -- NULL means no expiry
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- One live token per name, so `mcpfleet token revoke NAME` is unambiguous.
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- One row per tool call. The id is made by the writer so a replayed spill file never
-- inserts a record twice.
CREATE TABLE audit_log (
    id         uuid PRIMARY KEY,
    at         timestamptz NOT NULL,
    client     text NOT NULL,
    server     text NOT NULL,
    tool       text NOT NULL,
    status     text NOT NULL,
    latency_ms double precision NOT NULL,
    arguments  jsonb NOT NULL DEFAULT '{}',
    error      text
);

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_client_at ON audit_log (client, at);
CREATE INDEX audit_log_server_tool_at ON audit_log (server, tool, at);

-- Request counts per client and fixed window, shared by every gateway replica. UNLOGGED:
-- counters are worth no WAL; after a crash they restart from zero, which only forgives.
CREATE UNLOGGED TABLE rate_limit_windows (
    client       text NOT NULL,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL CHECK (count >= 0),
    PRIMARY KEY (client, window_start)
);

-- Sliding-window counter (the previous window's count weighted by how much of it still
-- overlaps the sliding window, plus the current one) in one round trip. The row lock
-- taken by the upsert serialises concurrent hits of one client across replicas, and the
-- database's clock is the only clock, so replicas with skewed clocks still agree.
-- A denied hit is not counted; retry_after says when the same hit would be allowed.
CREATE FUNCTION mcpfleet_rate_limit_hit(
    p_client text, p_limit integer, p_window_seconds double precision
) RETURNS TABLE (allowed boolean, retry_after double precision, remaining integer)
LANGUAGE plpgsql AS $$
DECLARE
    t_epoch  double precision := extract(epoch FROM clock_timestamp());
    w_epoch  double precision := floor(t_epoch / p_window_seconds) * p_window_seconds;
    w_start  timestamptz := to_timestamp(w_epoch);
    elapsed  double precision := (t_epoch - w_epoch) / p_window_seconds;
    cur      integer;
    prev     integer;
    weighted double precision;
BEGIN
    IF p_limit < 1 OR p_window_seconds <= 0 THEN
        RAISE EXCEPTION 'rate limit needs limit >= 1 and a positive window (got %, %)',
            p_limit, p_window_seconds;
    END IF;
    INSERT INTO rate_limit_windows AS w (client, window_start, count)
    VALUES (p_client, w_start, 0)
    ON CONFLICT (client, window_start) DO UPDATE SET count = w.count
    RETURNING w.count INTO cur;
    SELECT w.count INTO prev FROM rate_limit_windows AS w
     WHERE w.client = p_client AND w.window_start = to_timestamp(w_epoch - p_window_seconds);
    prev := coalesce(prev, 0);
    weighted := prev * (1 - elapsed) + cur;
    IF weighted + 1 <= p_limit THEN
        UPDATE rate_limit_windows AS w SET count = cur + 1
         WHERE w.client = p_client AND w.window_start = w_start;
        RETURN QUERY SELECT true, 0.0::double precision,
            greatest(floor(p_limit - weighted - 1), 0)::integer;
    ELSIF cur + 1 <= p_limit THEN
        -- the previous window's share has to shrink: prev * (1 - e) + cur + 1 <= limit
        RETURN QUERY SELECT false,
            ((1 - (p_limit - cur - 1)::double precision / prev) - elapsed) * p_window_seconds, 0;
    ELSE
        -- this window is full: wait for the next one, where it becomes the weighted share
        RETURN QUERY SELECT false,
            ((1 - elapsed) + greatest(0, 1 - (p_limit - 1)::double precision / cur))
                * p_window_seconds, 0;
    END IF;
END
$$;
