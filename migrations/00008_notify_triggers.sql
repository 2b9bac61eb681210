-- 00008_notify_triggers
--
-- Every LISTEN/NOTIFY trigger of the schema, with its function: each sends a JSON
-- document with pg_notify so that services react at once instead of polling.
--
-- Functions: notify_on_insert(), notify_execution_change(), notify_event_created(),
--     notify_enforcement_change().
-- Triggers: notification.notify_on_notification_insert,
--     execution.execution_change_notify, event.event_created_notify,
--     enforcement.enforcement_change_notify.
--
-- From the history: 20250101000006_supporting_tables.sql,
--     20260119000001_add_execution_notify_trigger.sql,
--     20260129150000_add_event_notify_trigger.sql,
--     20260203000003_add_rule_trigger_to_execution_notify.sql,
--     20260204000001_add_enforcement_notify_trigger.sql.

CREATE OR REPLACE FUNCTION notify_on_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$;
COMMENT ON FUNCTION notify_on_insert() IS 'Sends a new notification row on its channel with pg_notify';

CREATE OR REPLACE FUNCTION notify_execution_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$;
COMMENT ON FUNCTION notify_execution_change() IS 'Sends execution creations and status changes, with rule and trigger refs, on the execution_change channel';

CREATE OR REPLACE FUNCTION notify_event_created()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$;
COMMENT ON FUNCTION notify_event_created() IS 'Sends new events on the event_created channel';

CREATE OR REPLACE FUNCTION notify_enforcement_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$;
COMMENT ON FUNCTION notify_enforcement_change() IS 'Sends enforcement creations and status changes on the enforcement_change channel';

CREATE TRIGGER notify_on_notification_insert
    AFTER INSERT ON notification
    FOR EACH ROW
    EXECUTE FUNCTION notify_on_insert();

CREATE TRIGGER execution_change_notify
    AFTER INSERT OR UPDATE ON execution
    FOR EACH ROW
    EXECUTE FUNCTION notify_execution_change();

CREATE TRIGGER event_created_notify
    AFTER INSERT ON event
    FOR EACH ROW
    EXECUTE FUNCTION notify_event_created();

CREATE TRIGGER enforcement_change_notify
    AFTER INSERT OR UPDATE ON enforcement
    FOR EACH ROW
    EXECUTE FUNCTION notify_enforcement_change();
