-- Migration: Supporting Tables
-- Description: Workers that run executions, notifications sent to clients,
--              and artifacts produced by executions.
-- Version: 20250101000006

-- ============================================================================
-- WORKER TABLE
-- ============================================================================

CREATE TABLE worker (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    worker_type worker_type_enum NOT NULL,
    runtime BIGINT REFERENCES runtime(id) ON DELETE SET NULL,
    host TEXT,
    port INTEGER CHECK (port IS NULL OR (port > 0 AND port <= 65535)),
    status worker_status_enum NOT NULL DEFAULT 'inactive',
    capabilities JSONB NOT NULL DEFAULT '{}'::jsonb,
    meta JSONB NOT NULL DEFAULT '{}'::jsonb,
    last_heartbeat TIMESTAMPTZ,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Indexes
CREATE INDEX idx_worker_status ON worker(status);
CREATE INDEX idx_worker_runtime ON worker(runtime);
CREATE INDEX idx_worker_heartbeat ON worker(last_heartbeat DESC) WHERE status = 'active';
CREATE INDEX idx_worker_capabilities ON worker USING GIN (capabilities);

-- Trigger
CREATE TRIGGER update_worker_updated
    BEFORE UPDATE ON worker
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE worker IS 'Workers run executions and report their health by heartbeat';
COMMENT ON COLUMN worker.runtime IS 'Runtime the worker provides, if it is dedicated to one';
COMMENT ON COLUMN worker.capabilities IS 'What the worker can run (runtimes, versions, labels)';
COMMENT ON COLUMN worker.last_heartbeat IS 'Time of the last heartbeat received';

-- ============================================================================
-- NOTIFICATION TABLE
-- ============================================================================

CREATE TABLE notification (
    id BIGSERIAL PRIMARY KEY,
    channel TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity TEXT NOT NULL,
    activity TEXT NOT NULL,
    state notification_status_enum NOT NULL DEFAULT 'created',
    content JSONB,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Indexes
CREATE INDEX idx_notification_channel ON notification(channel);
CREATE INDEX idx_notification_entity ON notification(entity_type, entity);
CREATE INDEX idx_notification_state ON notification(state) WHERE state <> 'processing';
CREATE INDEX idx_notification_created ON notification(created DESC);

-- Trigger
CREATE TRIGGER update_notification_updated
    BEFORE UPDATE ON notification
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE notification IS 'Notifications for clients, also sent by LISTEN/NOTIFY on their channel';
COMMENT ON COLUMN notification.channel IS 'PostgreSQL NOTIFY channel the notification is sent on';
COMMENT ON COLUMN notification.entity_type IS 'Kind of entity the notification is about';
COMMENT ON COLUMN notification.entity IS 'Identifier of the entity';
COMMENT ON COLUMN notification.activity IS 'What happened to the entity';

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
-- ARTIFACT TABLE
-- ============================================================================

CREATE TABLE artifact (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL,
    scope owner_type_enum NOT NULL DEFAULT 'system',
    owner TEXT NOT NULL DEFAULT '',
    type artifact_type_enum NOT NULL,
    retention_policy artifact_retention_enum NOT NULL DEFAULT 'versions',
    retention_limit INTEGER NOT NULL DEFAULT 1 CHECK (retention_limit > 0),
    execution BIGINT REFERENCES execution(id) ON DELETE SET NULL,
    data JSONB,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Indexes
CREATE INDEX idx_artifact_ref ON artifact(ref);
CREATE INDEX idx_artifact_scope_owner ON artifact(scope, owner);
CREATE INDEX idx_artifact_execution ON artifact(execution);
CREATE INDEX idx_artifact_created ON artifact(created DESC);

-- Trigger
CREATE TRIGGER update_artifact_updated
    BEFORE UPDATE ON artifact
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE artifact IS 'Artifacts are files, URLs and progress records produced by executions';
COMMENT ON COLUMN artifact.ref IS 'Artifact reference; versions of an artifact share it';
COMMENT ON COLUMN artifact.scope IS 'Kind of entity the artifact belongs to';
COMMENT ON COLUMN artifact.retention_policy IS 'Unit of retention_limit';
COMMENT ON COLUMN artifact.retention_limit IS 'How many versions, or how long, to keep';
