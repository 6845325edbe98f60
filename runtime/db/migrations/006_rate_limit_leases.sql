-- Rate-limit leases: a replica may take up to p_want permits in one round trip and hand
-- them out locally, so a busy client costs the database one call per lease rather than
-- one per request. Same sliding-window counter as mcpfleet_rate_limit_hit (003); the
-- grant never takes the weighted count past the limit, and window_left says how long the
-- permits stay valid (they belong to the current window).
CREATE FUNCTION mcpfleet_rate_limit_take(
    p_client text, p_limit integer, p_window_seconds double precision, p_want integer
) RETURNS TABLE (
    granted integer, retry_after double precision, remaining integer,
    window_left double precision
)
LANGUAGE plpgsql AS $$
DECLARE
    t_epoch  double precision := extract(epoch FROM clock_timestamp());
    w_epoch  double precision := floor(t_epoch / p_window_seconds) * p_window_seconds;
    w_start  timestamptz := to_timestamp(w_epoch);
    elapsed  double precision := (t_epoch - w_epoch) / p_window_seconds;
    cur      integer;
    prev     integer;
    room     integer;
    give     integer;
BEGIN
    IF p_limit < 1 OR p_window_seconds <= 0 OR p_want < 1 THEN
        RAISE EXCEPTION 'rate limit needs limit >= 1, a positive window and want >= 1 '
            '(got %, %, %)', p_limit, p_window_seconds, p_want;
    END IF;
    INSERT INTO rate_limit_windows AS w (client, window_start, count)
    VALUES (p_client, w_start, 0)
    ON CONFLICT (client, window_start) DO UPDATE SET count = w.count
    RETURNING w.count INTO cur;
    SELECT w.count INTO prev FROM rate_limit_windows AS w
     WHERE w.client = p_client AND w.window_start = to_timestamp(w_epoch - p_window_seconds);
    prev := coalesce(prev, 0);
    room := floor(p_limit - prev * (1 - elapsed) - cur)::integer;
    window_left := (1 - elapsed) * p_window_seconds;
    IF room >= 1 THEN
        give := least(p_want, room);
        UPDATE rate_limit_windows AS w SET count = cur + give
         WHERE w.client = p_client AND w.window_start = w_start;
        RETURN QUERY SELECT give, 0.0::double precision, room - give, window_left;
    ELSIF cur + 1 <= p_limit THEN
        RETURN QUERY SELECT 0,
            ((1 - (p_limit - cur - 1)::double precision / prev) - elapsed) * p_window_seconds,
            0, window_left;
    ELSE
        RETURN QUERY SELECT 0,
            ((1 - elapsed) + greatest(0, 1 - (p_limit - 1)::double precision / cur))
                * p_window_seconds,
            0, window_left;
    END IF;
END
$$;
