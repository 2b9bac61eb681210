-- Migration: Notify Triggers
-- Description: Every LISTEN/NOTIFY trigger of the schema. Each sends a JSON
--              document with pg_notify so that services react at once
--              instead of polling:
--                notification row  -> the row's own channel
--                execution         -> execution_change   (API, clients)
--                event             -> event_created      (rule engine)
--                enforcement       -> enforcement_change (executor)
-- Version: 00008

-- ============================================================================
-- NOTIFICATION
-- ============================================================================

-- Sends every new notification on its channel as JSON
CREATE OR REPLACE FUNCTION notify_on_insert()
RETURNS TRIGGER AS $$
DECLARE
    payload TEXT;
BEGIN
    payload := json_build_object(
        'id', NEW.id,
        'entity_type', NEW.entity_type,
        'entity', NEW.entity,
        'activity', NEW.activity
    )::text;

    PERFORM pg_notify(NEW.channel, payload);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER notify_on_notification_insert
    AFTER INSERT ON notification
    FOR EACH ROW
    EXECUTE FUNCTION notify_on_insert();

COMMENT ON FUNCTION notify_on_insert() IS 'Sends a new notification row on its channel with pg_notify';

-- ============================================================================
-- EXECUTION
-- ============================================================================

-- Sent when an execution is created or its status changes. rule_ref and
-- trigger_ref come from the enforcement that started the execution.
CREATE OR REPLACE FUNCTION notify_execution_change()
RETURNS TRIGGER AS $$
DECLARE
    payload JSONB;
    v_rule_ref TEXT;
    v_trigger_ref TEXT;
BEGIN
    -- Only status changes are interesting to listeners
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;

    IF NEW.enforcement IS NOT NULL THEN
        SELECT e.rule_ref, e.trigger_ref
        INTO v_rule_ref, v_trigger_ref
        FROM enforcement e
        WHERE e.id = NEW.enforcement;
    END IF;

    payload := jsonb_build_object(
        'entity_type', 'execution',
        'entity_id', NEW.id,
        'operation', TG_OP,
        'action_ref', NEW.action_ref,
        'status', NEW.status,
        'parent', NEW.parent,
        'enforcement', NEW.enforcement,
        'rule_ref', v_rule_ref,
        'trigger_ref', v_trigger_ref,
        'updated', NEW.updated
    );

    PERFORM pg_notify('execution_change', payload::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER execution_change_notify
    AFTER INSERT OR UPDATE ON execution
    FOR EACH ROW
    EXECUTE FUNCTION notify_execution_change();

COMMENT ON FUNCTION notify_execution_change() IS 'Sends execution creations and status changes, with rule and trigger refs, on the execution_change channel';

-- ============================================================================
-- EVENT
-- ============================================================================

-- Sent for every new event
CREATE OR REPLACE FUNCTION notify_event_created()
RETURNS TRIGGER AS $$
DECLARE
    payload JSONB;
BEGIN
    payload := jsonb_build_object(
        'entity_type', 'event',
        'entity_id', NEW.id,
        'trigger', NEW.trigger,
        'trigger_ref', NEW.trigger_ref,
        'source', NEW.source,
        'source_ref', NEW.source_ref,
        'created', NEW.created
    );

    PERFORM pg_notify('event_created', payload::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER event_created_notify
    AFTER INSERT ON event
    FOR EACH ROW
    EXECUTE FUNCTION notify_event_created();

COMMENT ON FUNCTION notify_event_created() IS 'Sends new events on the event_created channel';

-- ============================================================================
-- ENFORCEMENT
-- ============================================================================

-- Sent when an enforcement is created or its status changes
CREATE OR REPLACE FUNCTION notify_enforcement_change()
RETURNS TRIGGER AS $$
DECLARE
    payload JSONB;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;

    payload := jsonb_build_object(
        'entity_type', 'enforcement',
        'entity_id', NEW.id,
        'operation', TG_OP,
        'rule', NEW.rule,
        'rule_ref', NEW.rule_ref,
        'trigger_ref', NEW.trigger_ref,
        'event', NEW.event,
        'status', NEW.status,
        'created', NEW.created
    );

    PERFORM pg_notify('enforcement_change', payload::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER enforcement_change_notify
    AFTER INSERT OR UPDATE ON enforcement
    FOR EACH ROW
    EXECUTE FUNCTION notify_enforcement_change();

COMMENT ON FUNCTION notify_enforcement_change() IS 'Sends enforcement creations and status changes on the enforcement_change channel';
