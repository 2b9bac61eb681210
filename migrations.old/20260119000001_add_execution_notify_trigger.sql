-- Migration: Add Execution Notify Trigger
-- Description: Sends a JSON message on the "execution_change" channel
--              whenever an execution is created or its status changes, so
--              that the API can push execution updates to clients without
--              polling.
-- Version: 20260119000001

CREATE OR REPLACE FUNCTION notify_execution_change()
RETURNS TRIGGER AS $$
DECLARE
    payload JSONB;
BEGIN
    -- Only status changes are interesting to listeners
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;

    payload := jsonb_build_object(
        'entity_type', 'execution',
        'entity_id', NEW.id,
        'operation', TG_OP,
        'action_ref', NEW.action_ref,
        'status', NEW.status,
        'parent', NEW.parent,
        'enforcement', NEW.enforcement,
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

COMMENT ON FUNCTION notify_execution_change() IS 'Sends execution creations and status changes on the execution_change channel';
