-- Migration: Add Is-Adhoc Flag
-- Description: Marks actions, sensors and rules created ad hoc through the
--              API or the web interface, as opposed to those installed from
--              a pack. Pack reinstallation leaves ad hoc items alone.
-- Version: 20260129140130

ALTER TABLE action ADD COLUMN is_adhoc BOOLEAN DEFAULT false NOT NULL;
ALTER TABLE sensor ADD COLUMN is_adhoc BOOLEAN DEFAULT false NOT NULL;
ALTER TABLE rule ADD COLUMN is_adhoc BOOLEAN DEFAULT false NOT NULL;

CREATE INDEX idx_action_is_adhoc ON action(is_adhoc) WHERE is_adhoc = TRUE;
CREATE INDEX idx_sensor_is_adhoc ON sensor(is_adhoc) WHERE is_adhoc = TRUE;
CREATE INDEX idx_rule_is_adhoc ON rule(is_adhoc) WHERE is_adhoc = TRUE;

COMMENT ON COLUMN action.is_adhoc IS 'True if created through the API rather than installed from a pack';
COMMENT ON COLUMN sensor.is_adhoc IS 'True if created through the API rather than installed from a pack';
COMMENT ON COLUMN rule.is_adhoc IS 'True if created through the API rather than installed from a pack';
