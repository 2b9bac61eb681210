-- Migration: Add Enforcement Notify Trigger
-- Description: Sends a JSON message on the "enforcement_change" channel when
--              an enforcement is created or its status changes, so that the
--              executor schedules executions without polling.
-- Version: 20260204000001

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
