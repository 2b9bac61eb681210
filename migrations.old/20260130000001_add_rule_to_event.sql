-- Migration: Add Rule to Event
-- Description: Records on an event the rule it was emitted for, when a
--              sensor runs on behalf of one rule (rule-scoped trigger
--              parameters). rule_ref keeps the reference when the rule is
--              deleted.
-- Version: 20260130000001

ALTER TABLE event
    ADD COLUMN rule BIGINT,
    ADD COLUMN rule_ref TEXT;

ALTER TABLE event
    ADD CONSTRAINT event_rule_fkey
        FOREIGN KEY (rule) REFERENCES rule(id) ON DELETE SET NULL;

CREATE INDEX idx_event_rule ON event(rule);

COMMENT ON COLUMN event.rule IS 'Rule the event was emitted for, if the sensor ran for one rule';
COMMENT ON COLUMN event.rule_ref IS 'Rule reference, kept when the rule is deleted';
