-- 00004_event_system
--
-- Triggers (kinds of event), sensors (which watch for them), rules (what to do about
-- them) and events (what happened). Triggers carry their webhook settings; the webhook
-- functions are in 00007.
--
-- Tables: trigger, rule, sensor, event.
-- Triggers: event.update_event_updated, rule.update_rule_updated,
--     sensor.update_sensor_updated, trigger.update_trigger_updated.
--
-- From the history: 20250101000003_event_system.sql,
--     20260120000001_add_webhook_support.sql,
--     20260127000001_consolidate_webhook_config.sql,
--     20260129140130_add_is_adhoc_flag.sql, 20260130000001_add_rule_to_event.sql.

CREATE TABLE trigger (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL UNIQUE,
    pack bigint REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref text,
    label text NOT NULL,
    description text,
    enabled boolean DEFAULT true NOT NULL,
    param_schema jsonb,
    out_schema jsonb,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    webhook_enabled boolean DEFAULT false NOT NULL,
    webhook_key character varying(64) UNIQUE,
    webhook_config jsonb DEFAULT '{}'::jsonb,
    CONSTRAINT trigger_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$'::text),
    CONSTRAINT trigger_ref_lowercase CHECK (ref = lower(ref))
);

CREATE INDEX idx_trigger_created ON trigger (created DESC);
CREATE INDEX idx_trigger_enabled ON trigger (enabled) WHERE (enabled = true);
CREATE INDEX idx_trigger_pack ON trigger (pack);

COMMENT ON TABLE trigger IS 'Triggers are the kinds of event that sensors emit and rules react to';
COMMENT ON COLUMN trigger.ref IS 'Unique trigger reference (format: pack.name)';
COMMENT ON COLUMN trigger.param_schema IS 'JSON Schema of the trigger parameters';
COMMENT ON COLUMN trigger.out_schema IS 'JSON Schema of the event payload';
COMMENT ON COLUMN trigger.webhook_enabled IS 'Whether the trigger can be fired through its webhook URL';
COMMENT ON COLUMN trigger.webhook_key IS 'Unique key in the webhook URL (/api/v1/webhooks/<key>)';
COMMENT ON COLUMN trigger.webhook_config IS 'Webhook settings: secret, hmac, rate_limit, ip_whitelist, payload_size_limit_kb';

CREATE TABLE rule (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL UNIQUE,
    pack bigint NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref text NOT NULL,
    label text NOT NULL,
    description text NOT NULL,
    action bigint NOT NULL REFERENCES action(id) ON DELETE CASCADE,
    action_ref text NOT NULL,
    trigger bigint NOT NULL REFERENCES trigger(id) ON DELETE CASCADE,
    trigger_ref text NOT NULL,
    conditions jsonb DEFAULT '[]'::jsonb NOT NULL,
    action_params jsonb DEFAULT '{}'::jsonb NOT NULL,
    trigger_params jsonb DEFAULT '{}'::jsonb NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    is_adhoc boolean DEFAULT false NOT NULL,
    CONSTRAINT rule_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$'::text),
    CONSTRAINT rule_ref_lowercase CHECK (ref = lower(ref))
);

CREATE INDEX idx_rule_action ON rule (action);
CREATE INDEX idx_rule_is_adhoc ON rule (is_adhoc) WHERE (is_adhoc = true);
CREATE INDEX idx_rule_pack ON rule (pack);
CREATE INDEX idx_rule_trigger ON rule (trigger);
CREATE INDEX idx_rule_trigger_enabled ON rule (trigger, enabled) WHERE (enabled = true);

COMMENT ON TABLE rule IS 'Rules connect a trigger to an action, under conditions';
COMMENT ON COLUMN rule.ref IS 'Unique rule reference (format: pack.name)';
COMMENT ON COLUMN rule.conditions IS 'Conditions evaluated against the event payload';
COMMENT ON COLUMN rule.action_params IS 'Parameters passed to the action; may template event fields';
COMMENT ON COLUMN rule.trigger_params IS 'Parameters that select which events of the trigger match';
COMMENT ON COLUMN rule.is_adhoc IS 'True if created through the API rather than installed from a pack';

CREATE TABLE sensor (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL UNIQUE,
    pack bigint REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref text,
    label text NOT NULL,
    description text NOT NULL,
    entrypoint text NOT NULL,
    runtime bigint NOT NULL REFERENCES runtime(id) ON DELETE RESTRICT,
    runtime_ref text NOT NULL,
    trigger bigint NOT NULL REFERENCES trigger(id) ON DELETE CASCADE,
    trigger_ref text NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    param_schema jsonb,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    poll_interval_seconds integer,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    is_adhoc boolean DEFAULT false NOT NULL,
    CONSTRAINT sensor_poll_interval_seconds_check CHECK ((poll_interval_seconds IS NULL) OR (poll_interval_seconds > 0)),
    CONSTRAINT sensor_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$'::text),
    CONSTRAINT sensor_ref_lowercase CHECK (ref = lower(ref))
);

CREATE INDEX idx_sensor_enabled ON sensor (enabled) WHERE (enabled = true);
CREATE INDEX idx_sensor_is_adhoc ON sensor (is_adhoc) WHERE (is_adhoc = true);
CREATE INDEX idx_sensor_pack ON sensor (pack);
CREATE INDEX idx_sensor_runtime ON sensor (runtime);
CREATE INDEX idx_sensor_trigger ON sensor (trigger);

COMMENT ON TABLE sensor IS 'Sensors watch external systems and emit events for a trigger';
COMMENT ON COLUMN sensor.ref IS 'Unique sensor reference (format: pack.name)';
COMMENT ON COLUMN sensor.entrypoint IS 'Script or binary to run, relative to the pack directory';
COMMENT ON COLUMN sensor.runtime IS 'Runtime the sensor executes in';
COMMENT ON COLUMN sensor.trigger IS 'Trigger whose events the sensor emits';
COMMENT ON COLUMN sensor.poll_interval_seconds IS 'Polling interval for polling sensors; NULL for long-running ones';
COMMENT ON COLUMN sensor.is_adhoc IS 'True if created through the API rather than installed from a pack';

CREATE TABLE event (
    id BIGSERIAL PRIMARY KEY,
    trigger bigint REFERENCES trigger(id) ON DELETE SET NULL,
    trigger_ref text NOT NULL,
    config jsonb,
    payload jsonb,
    source bigint REFERENCES sensor(id) ON DELETE SET NULL,
    source_ref text,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    rule bigint REFERENCES rule(id) ON DELETE SET NULL,
    rule_ref text
);

CREATE INDEX idx_event_created ON event (created DESC);
CREATE INDEX idx_event_payload_gin ON event USING gin (payload jsonb_path_ops);
CREATE INDEX idx_event_rule ON event (rule);
CREATE INDEX idx_event_source ON event (source);
CREATE INDEX idx_event_trigger ON event (trigger);
CREATE INDEX idx_event_trigger_ref ON event (trigger_ref);

COMMENT ON TABLE event IS 'Events are occurrences of a trigger, emitted by a sensor or a webhook';
COMMENT ON COLUMN event.trigger_ref IS 'Trigger reference, kept when the trigger is deleted';
COMMENT ON COLUMN event.payload IS 'Event data, validated against the trigger out_schema';
COMMENT ON COLUMN event.source IS 'Sensor that emitted the event, if any';
COMMENT ON COLUMN event.rule IS 'Rule the event was emitted for, if the sensor ran for one rule';
COMMENT ON COLUMN event.rule_ref IS 'Rule reference, kept when the rule is deleted';

CREATE TRIGGER update_event_updated
    BEFORE UPDATE ON event
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_rule_updated
    BEFORE UPDATE ON rule
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_sensor_updated
    BEFORE UPDATE ON sensor
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_trigger_updated
    BEFORE UPDATE ON trigger
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();
