-- Migration: Event System
-- Description: Triggers (kinds of event), sensors (which watch for them),
--              rules (what to do about them) and events (what happened).
--              Triggers carry their webhook settings; the webhook functions
--              are in 00007.
-- Version: 00004

-- ============================================================================
-- TRIGGER TABLE
-- ============================================================================

CREATE TABLE trigger (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    pack BIGINT REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref TEXT,
    label TEXT NOT NULL,
    description TEXT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    param_schema JSONB,
    out_schema JSONB,
    webhook_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    webhook_key VARCHAR(64) UNIQUE,
    webhook_config JSONB DEFAULT '{}'::jsonb,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT trigger_ref_lowercase CHECK (ref = LOWER(ref)),
    CONSTRAINT trigger_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$')
);

-- Indexes
CREATE INDEX idx_trigger_pack ON trigger(pack);
CREATE INDEX idx_trigger_enabled ON trigger(enabled) WHERE enabled = TRUE;
CREATE INDEX idx_trigger_created ON trigger(created DESC);

-- Trigger
CREATE TRIGGER update_trigger_updated
    BEFORE UPDATE ON trigger
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE trigger IS 'Triggers are the kinds of event that sensors emit and rules react to';
COMMENT ON COLUMN trigger.ref IS 'Unique trigger reference (format: pack.name)';
COMMENT ON COLUMN trigger.param_schema IS 'JSON Schema of the trigger parameters';
COMMENT ON COLUMN trigger.out_schema IS 'JSON Schema of the event payload';
COMMENT ON COLUMN trigger.webhook_enabled IS 'Whether the trigger can be fired through its webhook URL';
COMMENT ON COLUMN trigger.webhook_key IS 'Unique key in the webhook URL (/api/v1/webhooks/<key>)';
COMMENT ON COLUMN trigger.webhook_config IS 'Webhook settings: secret, hmac, rate_limit, ip_whitelist, payload_size_limit_kb';

-- ============================================================================
-- SENSOR TABLE
-- ============================================================================

CREATE TABLE sensor (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    pack BIGINT REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref TEXT,
    label TEXT NOT NULL,
    description TEXT NOT NULL,
    entrypoint TEXT NOT NULL,
    runtime BIGINT NOT NULL REFERENCES runtime(id) ON DELETE RESTRICT,
    runtime_ref TEXT NOT NULL,
    trigger BIGINT NOT NULL REFERENCES trigger(id) ON DELETE CASCADE,
    trigger_ref TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    param_schema JSONB,
    config JSONB NOT NULL DEFAULT '{}'::jsonb,
    poll_interval_seconds INTEGER CHECK (poll_interval_seconds IS NULL OR poll_interval_seconds > 0),
    is_adhoc BOOLEAN DEFAULT false NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT sensor_ref_lowercase CHECK (ref = LOWER(ref)),
    CONSTRAINT sensor_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$')
);

-- Indexes
CREATE INDEX idx_sensor_pack ON sensor(pack);
CREATE INDEX idx_sensor_runtime ON sensor(runtime);
CREATE INDEX idx_sensor_trigger ON sensor(trigger);
CREATE INDEX idx_sensor_enabled ON sensor(enabled) WHERE enabled = TRUE;
CREATE INDEX idx_sensor_is_adhoc ON sensor(is_adhoc) WHERE is_adhoc = TRUE;

-- Trigger
CREATE TRIGGER update_sensor_updated
    BEFORE UPDATE ON sensor
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE sensor IS 'Sensors watch external systems and emit events for a trigger';
COMMENT ON COLUMN sensor.ref IS 'Unique sensor reference (format: pack.name)';
COMMENT ON COLUMN sensor.entrypoint IS 'Script or binary to run, relative to the pack directory';
COMMENT ON COLUMN sensor.runtime IS 'Runtime the sensor executes in';
COMMENT ON COLUMN sensor.trigger IS 'Trigger whose events the sensor emits';
COMMENT ON COLUMN sensor.poll_interval_seconds IS 'Polling interval for polling sensors; NULL for long-running ones';
COMMENT ON COLUMN sensor.is_adhoc IS 'True if created through the API rather than installed from a pack';

-- ============================================================================
-- RULE TABLE
-- ============================================================================

CREATE TABLE rule (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    pack BIGINT NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref TEXT NOT NULL,
    label TEXT NOT NULL,
    description TEXT NOT NULL,
    action BIGINT NOT NULL REFERENCES action(id) ON DELETE CASCADE,
    action_ref TEXT NOT NULL,
    trigger BIGINT NOT NULL REFERENCES trigger(id) ON DELETE CASCADE,
    trigger_ref TEXT NOT NULL,
    conditions JSONB NOT NULL DEFAULT '[]'::jsonb,
    action_params JSONB NOT NULL DEFAULT '{}'::jsonb,
    trigger_params JSONB NOT NULL DEFAULT '{}'::jsonb,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    is_adhoc BOOLEAN DEFAULT false NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT rule_ref_lowercase CHECK (ref = LOWER(ref)),
    CONSTRAINT rule_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$')
);

-- Indexes
CREATE INDEX idx_rule_pack ON rule(pack);
CREATE INDEX idx_rule_action ON rule(action);
CREATE INDEX idx_rule_trigger ON rule(trigger);
CREATE INDEX idx_rule_trigger_enabled ON rule(trigger, enabled) WHERE enabled = TRUE;
CREATE INDEX idx_rule_is_adhoc ON rule(is_adhoc) WHERE is_adhoc = TRUE;

-- Trigger
CREATE TRIGGER update_rule_updated
    BEFORE UPDATE ON rule
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE rule IS 'Rules connect a trigger to an action, under conditions';
COMMENT ON COLUMN rule.ref IS 'Unique rule reference (format: pack.name)';
COMMENT ON COLUMN rule.conditions IS 'Conditions evaluated against the event payload';
COMMENT ON COLUMN rule.action_params IS 'Parameters passed to the action; may template event fields';
COMMENT ON COLUMN rule.trigger_params IS 'Parameters that select which events of the trigger match';
COMMENT ON COLUMN rule.is_adhoc IS 'True if created through the API rather than installed from a pack';

-- ============================================================================
-- EVENT TABLE
-- ============================================================================

CREATE TABLE event (
    id BIGSERIAL PRIMARY KEY,
    trigger BIGINT REFERENCES trigger(id) ON DELETE SET NULL,
    trigger_ref TEXT NOT NULL,
    config JSONB,
    payload JSONB,
    source BIGINT REFERENCES sensor(id) ON DELETE SET NULL,
    source_ref TEXT,
    rule BIGINT,
    rule_ref TEXT,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT event_rule_fkey FOREIGN KEY (rule) REFERENCES rule(id) ON DELETE SET NULL
);

-- Indexes
CREATE INDEX idx_event_trigger ON event(trigger);
CREATE INDEX idx_event_trigger_ref ON event(trigger_ref);
CREATE INDEX idx_event_source ON event(source);
CREATE INDEX idx_event_created ON event(created DESC);
CREATE INDEX idx_event_payload_gin ON event USING GIN (payload jsonb_path_ops);
CREATE INDEX idx_event_rule ON event(rule);

-- Trigger
CREATE TRIGGER update_event_updated
    BEFORE UPDATE ON event
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE event IS 'Events are occurrences of a trigger, emitted by a sensor or a webhook';
COMMENT ON COLUMN event.trigger_ref IS 'Trigger reference, kept when the trigger is deleted';
COMMENT ON COLUMN event.payload IS 'Event data, validated against the trigger out_schema';
COMMENT ON COLUMN event.source IS 'Sensor that emitted the event, if any';
COMMENT ON COLUMN event.rule IS 'Rule the event was emitted for, if the sensor ran for one rule';
COMMENT ON COLUMN event.rule_ref IS 'Rule reference, kept when the rule is deleted';
