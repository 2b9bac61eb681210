-- Migration: Add Webhook Support
-- Description: Lets a trigger be fired by an HTTP request. A trigger with
--              webhooks enabled gets a unique key; POST /api/v1/webhooks/<key>
--              creates an event for it.
-- Version: 20260120000001

-- ============================================================================
-- WEBHOOK COLUMNS ON TRIGGER
-- ============================================================================

ALTER TABLE trigger
    ADD COLUMN webhook_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN webhook_key VARCHAR(64) UNIQUE,
    ADD COLUMN webhook_secret VARCHAR(128);

CREATE INDEX idx_trigger_webhook_enabled ON trigger(webhook_enabled) WHERE webhook_enabled = TRUE;

COMMENT ON COLUMN trigger.webhook_enabled IS 'Whether the trigger can be fired through its webhook URL';
COMMENT ON COLUMN trigger.webhook_key IS 'Unique key in the webhook URL (/api/v1/webhooks/<key>)';
COMMENT ON COLUMN trigger.webhook_secret IS 'Shared secret the sender must present';

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

-- Enables the webhook of a trigger, generating its key on first use
CREATE OR REPLACE FUNCTION enable_trigger_webhook(p_trigger_id BIGINT)
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
        webhook_secret = COALESCE(t.webhook_secret, encode(gen_random_bytes(32), 'hex'))
    WHERE t.id = p_trigger_id;

    RETURN QUERY SELECT TRUE, v_key, '/api/v1/webhooks/' || v_key;
END;
$$ LANGUAGE plpgsql;

-- Disables the webhook of a trigger; the key is kept for re-enabling
CREATE OR REPLACE FUNCTION disable_trigger_webhook(p_trigger_id BIGINT)
RETURNS BOOLEAN AS $$
BEGIN
    UPDATE trigger t
    SET webhook_enabled = FALSE
    WHERE t.id = p_trigger_id;

    RETURN FOUND;
END;
$$ LANGUAGE plpgsql;

-- Replaces the key and the secret of a trigger's webhook
CREATE OR REPLACE FUNCTION regenerate_trigger_webhook_key(p_trigger_id BIGINT)
RETURNS TABLE(webhook_key VARCHAR, previous_key_revoked BOOLEAN) AS $$
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
    SET webhook_key = v_new_key,
        webhook_secret = encode(gen_random_bytes(32), 'hex')
    WHERE t.id = p_trigger_id;

    RETURN QUERY SELECT v_new_key, v_old_key IS NOT NULL;
END;
$$ LANGUAGE plpgsql;
