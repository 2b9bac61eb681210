-- Migration: Consolidate Webhook Config
-- Description: Replaces the individual webhook settings columns on trigger
--              with one JSONB document, webhook_config. Only the switch
--              (webhook_enabled) and the lookup key (webhook_key) stay
--              columns. Existing settings are carried over.
-- Version: 20260127000001

-- ============================================================================
-- CARRY OVER EXISTING SETTINGS
-- ============================================================================

ALTER TABLE trigger ADD COLUMN webhook_config JSONB DEFAULT '{}'::jsonb;

UPDATE trigger
SET webhook_config = jsonb_strip_nulls(jsonb_build_object(
    'secret', webhook_secret,
    'hmac', jsonb_build_object(
        'enabled', webhook_hmac_enabled,
        'secret', webhook_hmac_secret,
        'algorithm', webhook_hmac_algorithm
    ),
    'rate_limit', jsonb_build_object(
        'enabled', webhook_rate_limit_enabled,
        'requests', webhook_rate_limit_requests,
        'window_seconds', webhook_rate_limit_window_seconds
    ),
    'ip_whitelist', jsonb_build_object(
        'enabled', webhook_ip_whitelist_enabled,
        'allowed', webhook_ip_whitelist
    ),
    'payload_size_limit_kb', webhook_payload_size_limit_kb
))
WHERE webhook_key IS NOT NULL;

COMMENT ON COLUMN trigger.webhook_config IS 'Webhook settings: secret, hmac, rate_limit, ip_whitelist, payload_size_limit_kb';

-- ============================================================================
-- DROP THE INDIVIDUAL COLUMNS
-- ============================================================================

-- Webhooks are looked up by key (unique), never by the flag alone.
DROP INDEX IF EXISTS idx_trigger_webhook_enabled;

ALTER TABLE trigger
    DROP COLUMN IF EXISTS webhook_secret,
    DROP COLUMN IF EXISTS webhook_hmac_enabled,
    DROP COLUMN IF EXISTS webhook_hmac_secret,
    DROP COLUMN IF EXISTS webhook_hmac_algorithm,
    DROP COLUMN IF EXISTS webhook_rate_limit_enabled,
    DROP COLUMN IF EXISTS webhook_rate_limit_requests,
    DROP COLUMN IF EXISTS webhook_rate_limit_window_seconds,
    DROP COLUMN IF EXISTS webhook_ip_whitelist_enabled,
    DROP COLUMN IF EXISTS webhook_ip_whitelist,
    DROP COLUMN IF EXISTS webhook_payload_size_limit_kb;

-- ============================================================================
-- WEBHOOK FUNCTIONS
-- ============================================================================

-- HMAC and rate limit settings are now keys of webhook_config
DROP FUNCTION IF EXISTS enable_trigger_webhook_hmac(BIGINT, VARCHAR);
DROP FUNCTION IF EXISTS configure_trigger_webhook_rate_limit(BIGINT, BOOLEAN, INTEGER, INTEGER);

-- Enables the webhook of a trigger, merging the given settings into its config
CREATE OR REPLACE FUNCTION enable_trigger_webhook(p_trigger_id BIGINT, p_config JSONB DEFAULT '{}'::jsonb)
RETURNS TABLE(webhook_enabled BOOLEAN, webhook_key VARCHAR, webhook_url TEXT) AS $$
DECLARE
    v_key VARCHAR(64);
BEGIN
    SELECT t.webhook_key INTO v_key FROM trigger t WHERE t.id = p_trigger_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Trigger % not found', p_trigger_id;
    END IF;

    IF v_key IS NULL THEN
        v_key := generate_webhook_key();
    END IF;

    UPDATE trigger t
    SET webhook_enabled = TRUE,
        webhook_key = v_key,
        webhook_config = COALESCE(t.webhook_config, '{}'::jsonb) || p_config
    WHERE t.id = p_trigger_id;

    RETURN QUERY SELECT TRUE, v_key, '/api/v1/webhooks/' || v_key;
END;
$$ LANGUAGE plpgsql;

-- Merges settings into the webhook config of a trigger; returns the result
CREATE OR REPLACE FUNCTION update_trigger_webhook_config(p_trigger_id BIGINT, p_config JSONB)
RETURNS JSONB AS $$
DECLARE
    v_config JSONB;
BEGIN
    IF jsonb_typeof(p_config) <> 'object' THEN
        RAISE EXCEPTION 'Webhook config must be a JSON object';
    END IF;

    UPDATE trigger t
    SET webhook_config = COALESCE(t.webhook_config, '{}'::jsonb) || p_config
    WHERE t.id = p_trigger_id
    RETURNING t.webhook_config INTO v_config;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'Trigger % not found', p_trigger_id;
    END IF;

    RETURN v_config;
END;
$$ LANGUAGE plpgsql;

COMMENT ON FUNCTION update_trigger_webhook_config(BIGINT, JSONB) IS 'Merges settings into trigger.webhook_config and returns the merged document';

-- Request statistics of a trigger's webhook over the last 24 hours.
-- Rate-limited requests are counted by their flag, not by status 429, since
-- a request refused by the IP whitelist can also be answered with 429.
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
        COUNT(*) FILTER (WHERE l.rate_limited),
        ROUND(AVG(l.processing_time_ms), 2),
        MAX(l.created)
    FROM webhook_event_log l
    WHERE l.trigger_id = p_trigger_id
      AND l.created > NOW() - INTERVAL '24 hours';
END;
$$ LANGUAGE plpgsql STABLE;

COMMENT ON FUNCTION get_webhook_stats(BIGINT) IS 'Webhook request statistics of a trigger over the last 24 hours';
