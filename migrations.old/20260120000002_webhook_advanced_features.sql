-- Migration: Webhook Advanced Features
-- Description: HMAC signatures, rate limiting, IP whitelists and payload size
--              limits for trigger webhooks, and a log of webhook requests.
-- Version: 20260120000002

-- ============================================================================
-- WEBHOOK SETTINGS ON TRIGGER
-- ============================================================================

ALTER TABLE trigger
    ADD COLUMN webhook_hmac_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN webhook_hmac_secret VARCHAR(128),
    ADD COLUMN webhook_hmac_algorithm VARCHAR(32) DEFAULT 'sha256',
    ADD COLUMN webhook_rate_limit_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN webhook_rate_limit_requests INTEGER DEFAULT 100,
    ADD COLUMN webhook_rate_limit_window_seconds INTEGER DEFAULT 60,
    ADD COLUMN webhook_ip_whitelist_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN webhook_ip_whitelist JSONB DEFAULT '[]'::jsonb,
    ADD COLUMN webhook_payload_size_limit_kb INTEGER DEFAULT 1024;

ALTER TABLE trigger
    ADD CONSTRAINT trigger_webhook_hmac_algorithm_check
        CHECK (webhook_hmac_algorithm IN ('sha1', 'sha256', 'sha512'));

COMMENT ON COLUMN trigger.webhook_hmac_enabled IS 'Whether requests must carry an HMAC signature';
COMMENT ON COLUMN trigger.webhook_hmac_secret IS 'Secret the HMAC signature is computed with';
COMMENT ON COLUMN trigger.webhook_hmac_algorithm IS 'HMAC algorithm: sha1, sha256 or sha512';
COMMENT ON COLUMN trigger.webhook_rate_limit_enabled IS 'Whether requests are rate limited';
COMMENT ON COLUMN trigger.webhook_rate_limit_requests IS 'Requests allowed per window';
COMMENT ON COLUMN trigger.webhook_rate_limit_window_seconds IS 'Length of the rate limit window';
COMMENT ON COLUMN trigger.webhook_ip_whitelist_enabled IS 'Whether only whitelisted addresses may call';
COMMENT ON COLUMN trigger.webhook_ip_whitelist IS 'Allowed addresses and CIDR ranges';
COMMENT ON COLUMN trigger.webhook_payload_size_limit_kb IS 'Largest accepted payload in KiB';

-- ============================================================================
-- WEBHOOK EVENT LOG TABLE
-- ============================================================================

CREATE TABLE webhook_event_log (
    id BIGSERIAL PRIMARY KEY,
    trigger_id BIGINT NOT NULL REFERENCES trigger(id) ON DELETE CASCADE,
    trigger_ref TEXT NOT NULL,
    webhook_key VARCHAR(64) NOT NULL,
    event_id BIGINT REFERENCES event(id) ON DELETE SET NULL,
    source_ip INET,
    user_agent TEXT,
    payload_size_bytes INTEGER,
    headers JSONB,
    status_code INTEGER NOT NULL,
    error_message TEXT,
    processing_time_ms INTEGER,
    hmac_verified BOOLEAN,
    rate_limited BOOLEAN NOT NULL DEFAULT FALSE,
    ip_allowed BOOLEAN,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT webhook_event_log_status_code_range CHECK (status_code BETWEEN 100 AND 599)
);

-- Indexes
CREATE INDEX idx_webhook_event_log_trigger ON webhook_event_log(trigger_id, created DESC);
CREATE INDEX idx_webhook_event_log_key_created ON webhook_event_log(webhook_key, created DESC);
CREATE INDEX idx_webhook_event_log_failed ON webhook_event_log(created DESC) WHERE status_code >= 400;

-- Comments
COMMENT ON TABLE webhook_event_log IS 'One row per webhook request received, accepted or not';
COMMENT ON COLUMN webhook_event_log.event_id IS 'Event created by the request, if it was accepted';
COMMENT ON COLUMN webhook_event_log.status_code IS 'HTTP status returned to the caller';
COMMENT ON COLUMN webhook_event_log.rate_limited IS 'Whether the request was refused by the rate limit';

-- ============================================================================
-- WEBHOOK FUNCTIONS
-- ============================================================================

-- Turns on HMAC verification and generates the HMAC secret
CREATE OR REPLACE FUNCTION enable_trigger_webhook_hmac(p_trigger_id BIGINT, p_algorithm VARCHAR DEFAULT 'sha256')
RETURNS VARCHAR AS $$
DECLARE
    v_secret VARCHAR(128);
BEGIN
    v_secret := encode(gen_random_bytes(48), 'hex');

    UPDATE trigger t
    SET webhook_hmac_enabled = TRUE,
        webhook_hmac_secret = v_secret,
        webhook_hmac_algorithm = p_algorithm
    WHERE t.id = p_trigger_id;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'Trigger % not found', p_trigger_id;
    END IF;

    RETURN v_secret;
END;
$$ LANGUAGE plpgsql;

-- Turns off HMAC verification and forgets the secret
CREATE OR REPLACE FUNCTION disable_trigger_webhook_hmac(p_trigger_id BIGINT)
RETURNS BOOLEAN AS $$
BEGIN
    UPDATE trigger t
    SET webhook_hmac_enabled = FALSE,
        webhook_hmac_secret = NULL
    WHERE t.id = p_trigger_id;

    RETURN FOUND;
END;
$$ LANGUAGE plpgsql;

-- Sets the rate limit of a trigger's webhook
CREATE OR REPLACE FUNCTION configure_trigger_webhook_rate_limit(
    p_trigger_id BIGINT,
    p_enabled BOOLEAN,
    p_requests INTEGER,
    p_window_seconds INTEGER
)
RETURNS BOOLEAN AS $$
BEGIN
    IF p_requests <= 0 OR p_window_seconds <= 0 THEN
        RAISE EXCEPTION 'Rate limit requests and window must be positive';
    END IF;

    UPDATE trigger t
    SET webhook_rate_limit_enabled = p_enabled,
        webhook_rate_limit_requests = p_requests,
        webhook_rate_limit_window_seconds = p_window_seconds
    WHERE t.id = p_trigger_id;

    RETURN FOUND;
END;
$$ LANGUAGE plpgsql;

-- Sets the IP whitelist of a trigger's webhook
CREATE OR REPLACE FUNCTION configure_trigger_webhook_ip_whitelist(
    p_trigger_id BIGINT,
    p_enabled BOOLEAN,
    p_whitelist JSONB
)
RETURNS BOOLEAN AS $$
BEGIN
    IF jsonb_typeof(p_whitelist) <> 'array' THEN
        RAISE EXCEPTION 'IP whitelist must be a JSON array';
    END IF;

    UPDATE trigger t
    SET webhook_ip_whitelist_enabled = p_enabled,
        webhook_ip_whitelist = p_whitelist
    WHERE t.id = p_trigger_id;

    RETURN FOUND;
END;
$$ LANGUAGE plpgsql;

-- Whether a request to this webhook key is within the rate limit
CREATE OR REPLACE FUNCTION check_webhook_rate_limit(p_webhook_key VARCHAR)
RETURNS BOOLEAN AS $$
DECLARE
    v_enabled BOOLEAN;
    v_requests INTEGER;
    v_window INTEGER;
    v_count BIGINT;
BEGIN
    SELECT t.webhook_rate_limit_enabled, t.webhook_rate_limit_requests, t.webhook_rate_limit_window_seconds
    INTO v_enabled, v_requests, v_window
    FROM trigger t
    WHERE t.webhook_key = p_webhook_key;

    IF NOT FOUND OR NOT v_enabled THEN
        RETURN TRUE;
    END IF;

    SELECT COUNT(*) INTO v_count
    FROM webhook_event_log l
    WHERE l.webhook_key = p_webhook_key
      AND l.created > NOW() - make_interval(secs => v_window);

    RETURN v_count < v_requests;
END;
$$ LANGUAGE plpgsql STABLE;

-- Whether an address may call this webhook key
CREATE OR REPLACE FUNCTION check_webhook_ip_whitelist(p_webhook_key VARCHAR, p_source_ip INET)
RETURNS BOOLEAN AS $$
DECLARE
    v_enabled BOOLEAN;
    v_whitelist JSONB;
    v_entry TEXT;
BEGIN
    SELECT t.webhook_ip_whitelist_enabled, t.webhook_ip_whitelist
    INTO v_enabled, v_whitelist
    FROM trigger t
    WHERE t.webhook_key = p_webhook_key;

    IF NOT FOUND OR NOT v_enabled THEN
        RETURN TRUE;
    END IF;

    FOR v_entry IN SELECT jsonb_array_elements_text(v_whitelist) LOOP
        IF p_source_ip <<= v_entry::inet THEN
            RETURN TRUE;
        END IF;
    END LOOP;

    RETURN FALSE;
END;
$$ LANGUAGE plpgsql STABLE;

-- Request statistics of a trigger's webhook over the last 24 hours
CREATE OR REPLACE FUNCTION get_webhook_stats(p_trigger_id BIGINT)
RETURNS TABLE(
    total_requests BIGINT,
    successful_requests BIGINT,
    failed_requests BIGINT,
    rate_limited_requests BIGINT,
    avg_processing_time_ms NUMERIC,
    last_request_at TIMESTAMPTZ
) AS $$
BEGIN
    RETURN QUERY
    SELECT
        COUNT(*),
        COUNT(*) FILTER (WHERE l.status_code < 400),
        COUNT(*) FILTER (WHERE l.status_code >= 400),
        COUNT(*) FILTER (WHERE l.status_code = 429),
        ROUND(AVG(l.processing_time_ms), 2),
        MAX(l.created)
    FROM webhook_event_log l
    WHERE l.trigger_id = p_trigger_id
      AND l.created > NOW() - INTERVAL '24 hours';
END;
$$ LANGUAGE plpgsql STABLE;
