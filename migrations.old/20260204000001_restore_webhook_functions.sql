-- Migration: Restore Webhook Functions
-- Description: 20260129000001 dropped disable_trigger_webhook(BIGINT) and
--              regenerate_trigger_webhook_key(BIGINT) along with the
--              ambiguous enable_trigger_webhook(BIGINT), but neither had a
--              replacement, so disabling a webhook and rotating its key
--              failed. Restore both, written for webhook_config, and drop the
--              remaining functions from 20260120000002 that still read the
--              columns removed by 20260127000001.
-- Version: 20260204000001

-- ============================================================================
-- STALE FUNCTIONS
-- ============================================================================

-- Settings now live in webhook_config; the API checks them.
DROP FUNCTION IF EXISTS disable_trigger_webhook_hmac(BIGINT);
DROP FUNCTION IF EXISTS configure_trigger_webhook_ip_whitelist(BIGINT, BOOLEAN, JSONB);
DROP FUNCTION IF EXISTS check_webhook_rate_limit(VARCHAR);
DROP FUNCTION IF EXISTS check_webhook_ip_whitelist(VARCHAR, INET);

-- ============================================================================
-- WEBHOOK FUNCTIONS
-- ============================================================================

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
