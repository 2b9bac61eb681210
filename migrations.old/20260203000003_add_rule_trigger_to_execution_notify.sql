-- Migration: Add Rule and Trigger to Execution Notify
-- Description: Clients that follow executions want to know which rule and
--              trigger started them without a second query. The execution
--              notification now carries rule_ref and trigger_ref, taken from
--              the enforcement.
-- Version: 20260203000003

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

COMMENT ON FUNCTION notify_execution_change() IS 'Sends execution creations and status changes, with rule and trigger refs, on the execution_change channel';
