-- Migration: Webhook System
-- Description: Lets a trigger be fired by an HTTP request. A trigger with
--              webhooks enabled has a unique key (trigger.webhook_key, see
--              00004); POST /api/v1/webhooks/<key> creates an event for it.
--              Its settings (HMAC, rate limit, IP whitelist, payload size)
--              live in trigger.webhook_config and are enforced by the API.
--              This migration adds the request log and the functions that
--              manage a trigger's webhook.
-- Version: 00007

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

-- Generates a webhook key: "wh_" and 60 random hex digits
CREATE OR REPLACE FUNCTION generate_webhook_key()
RETURNS VARCHAR(64) AS $$
BEGIN
    RETURN 'wh_' || encode(gen_random_bytes(30), 'hex');
END;
$$ LANGUAGE plpgsql VOLATILE;

COMMENT ON FUNCTION generate_webhook_key() IS 'Returns a new random webhook key (wh_ followed by 60 hex digits)';

-- Enables the webhook of a trigger, merging the given settings into its config
CREATE OR REPLACE FUNCTION enable_trigger_webhook(p_trigger_id BIGINT, p_config JSONB DEFAULT '{}'::jsonb)
RETURNS TABLE(webhook_enabled BOOLEAN, webhook_key VARCHAR, webhook_url TEXT)
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_key VARCHAR(64);
BEGIN
    IF jsonb_typeof(p_config) <> 'object' THEN
        RAISE EXCEPTION 'Webhook config must be a JSON object';
    END IF;

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

COMMENT ON FUNCTION enable_trigger_webhook(BIGINT, JSONB) IS 'Enables the webhook of a trigger and returns its key and URL';

-- Disables the webhook of a trigger; the key and config are kept for re-enabling
CREATE OR REPLACE FUNCTION disable_trigger_webhook(p_trigger_id BIGINT)
RETURNS BOOLEAN
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    UPDATE trigger t
    SET webhook_enabled = FALSE
    WHERE t.id = p_trigger_id;

    RETURN FOUND;
END;
$$ LANGUAGE plpgsql;

COMMENT ON FUNCTION disable_trigger_webhook(BIGINT) IS 'Disables the webhook of a trigger, keeping its key and config';

-- Replaces the key of a trigger's webhook; the old URL stops working at once
CREATE OR REPLACE FUNCTION regenerate_trigger_webhook_key(p_trigger_id BIGINT)
RETURNS TABLE(webhook_key VARCHAR, previous_key_revoked BOOLEAN)
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_old_key VARCHAR(64);
    v_new_key VARCHAR(64);
BEGIN
    SELECT t.webhook_key INTO v_old_key FROM trigger t WHERE t.id = p_trigger_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Trigger % not found', p_trigger_id;
    END IF;

    v_new_key := generate_webhook_key();

    UPDATE trigger t
    SET webhook_key = v_new_key
    WHERE t.id = p_trigger_id;

    RETURN QUERY SELECT v_new_key, v_old_key IS NOT NULL;
END;
$$ LANGUAGE plpgsql;

COMMENT ON FUNCTION regenerate_trigger_webhook_key(BIGINT) IS 'Replaces the webhook key of a trigger and returns the new key';

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
