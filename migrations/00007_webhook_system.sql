-- 00007_webhook_system
--
-- Lets a trigger be fired by an HTTP request: the request log and the functions that
-- manage a trigger's webhook. Its settings live in trigger.webhook_config and are
-- enforced by the API.
--
-- Functions: generate_webhook_key(), get_webhook_stats(bigint),
--     enable_trigger_webhook(bigint, jsonb), update_trigger_webhook_config(bigint,
--     jsonb), disable_trigger_webhook(bigint), regenerate_trigger_webhook_key(bigint).
-- Tables: webhook_event_log.
--
-- From the history: 20260120000001_add_webhook_support.sql,
--     20260120000002_webhook_advanced_features.sql,
--     20260127000001_consolidate_webhook_config.sql,
--     20260204000001_restore_webhook_functions.sql.

CREATE OR REPLACE FUNCTION generate_webhook_key()
 RETURNS character varying
 LANGUAGE plpgsql
AS $function$
BEGIN
    RETURN 'wh_' || encode(gen_random_bytes(30), 'hex');
END;
$function$;
COMMENT ON FUNCTION generate_webhook_key() IS 'Returns a new random webhook key (wh_ followed by 60 hex digits)';

CREATE OR REPLACE FUNCTION get_webhook_stats(p_trigger_id bigint)
 RETURNS TABLE(total_requests bigint, successful_requests bigint, failed_requests bigint, rate_limited_requests bigint, avg_processing_time_ms numeric, last_request_at timestamp with time zone)
 LANGUAGE plpgsql
 STABLE
AS $function$
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
$function$;
COMMENT ON FUNCTION get_webhook_stats(bigint) IS 'Webhook request statistics of a trigger over the last 24 hours';

CREATE OR REPLACE FUNCTION enable_trigger_webhook(p_trigger_id bigint, p_config jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(webhook_enabled boolean, webhook_key character varying, webhook_url text)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION enable_trigger_webhook(bigint, jsonb) IS 'Enables the webhook of a trigger and returns its key and URL';

CREATE OR REPLACE FUNCTION update_trigger_webhook_config(p_trigger_id bigint, p_config jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
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
$function$;
COMMENT ON FUNCTION update_trigger_webhook_config(bigint, jsonb) IS 'Merges settings into trigger.webhook_config and returns the merged document';

CREATE OR REPLACE FUNCTION disable_trigger_webhook(p_trigger_id bigint)
 RETURNS boolean
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
BEGIN
    UPDATE trigger t
    SET webhook_enabled = FALSE
    WHERE t.id = p_trigger_id;

    RETURN FOUND;
END;
$function$;
COMMENT ON FUNCTION disable_trigger_webhook(bigint) IS 'Disables the webhook of a trigger, keeping its key and config';

CREATE OR REPLACE FUNCTION regenerate_trigger_webhook_key(p_trigger_id bigint)
 RETURNS TABLE(webhook_key character varying, previous_key_revoked boolean)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION regenerate_trigger_webhook_key(bigint) IS 'Replaces the webhook key of a trigger and returns the new key';

CREATE TABLE webhook_event_log (
    id BIGSERIAL PRIMARY KEY,
    trigger_id bigint NOT NULL REFERENCES trigger(id) ON DELETE CASCADE,
    trigger_ref text NOT NULL,
    webhook_key character varying(64) NOT NULL,
    event_id bigint REFERENCES event(id) ON DELETE SET NULL,
    source_ip inet,
    user_agent text,
    payload_size_bytes integer,
    headers jsonb,
    status_code integer NOT NULL,
    error_message text,
    processing_time_ms integer,
    hmac_verified boolean,
    rate_limited boolean DEFAULT false NOT NULL,
    ip_allowed boolean,
    created timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_event_log_status_code_range CHECK ((status_code >= 100) AND (status_code <= 599))
);

CREATE INDEX idx_webhook_event_log_failed ON webhook_event_log (created DESC) WHERE (status_code >= 400);
CREATE INDEX idx_webhook_event_log_key_created ON webhook_event_log (webhook_key, created DESC);
CREATE INDEX idx_webhook_event_log_trigger ON webhook_event_log (trigger_id, created DESC);

COMMENT ON TABLE webhook_event_log IS 'One row per webhook request received, accepted or not';
COMMENT ON COLUMN webhook_event_log.event_id IS 'Event created by the request, if it was accepted';
COMMENT ON COLUMN webhook_event_log.status_code IS 'HTTP status returned to the caller';
COMMENT ON COLUMN webhook_event_log.rate_limited IS 'Whether the request was refused by the rate limit';
