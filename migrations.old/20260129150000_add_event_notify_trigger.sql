-- Migration: Add Event Notify Trigger
-- Description: Sends a JSON message on the "event_created" channel for every
--              new event, so that the rule engine picks events up at once
--              instead of polling the event table.
-- Version: 20260129150000

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
