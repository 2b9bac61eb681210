-- 00006_supporting_tables
--
-- Workers that run executions, notifications sent to clients, and artifacts produced by
-- executions. The notification NOTIFY trigger is in 00008 with the other notify triggers.
--
-- Tables: artifact, notification, worker.
-- Triggers: artifact.update_artifact_updated, notification.update_notification_updated,
--     worker.update_worker_updated.
--
-- From the history: 20250101000006_supporting_tables.sql,
--     20260131000001_add_worker_role.sql.

CREATE TABLE artifact (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL,
    scope owner_type_enum DEFAULT 'system'::owner_type_enum NOT NULL,
    owner text DEFAULT ''::text NOT NULL,
    type artifact_type_enum NOT NULL,
    retention_policy artifact_retention_enum DEFAULT 'versions'::artifact_retention_enum NOT NULL,
    retention_limit integer DEFAULT 1 NOT NULL,
    execution bigint REFERENCES execution(id) ON DELETE SET NULL,
    data jsonb,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT artifact_retention_limit_check CHECK (retention_limit > 0)
);

CREATE INDEX idx_artifact_created ON artifact (created DESC);
CREATE INDEX idx_artifact_execution ON artifact (execution);
CREATE INDEX idx_artifact_ref ON artifact (ref);
CREATE INDEX idx_artifact_scope_owner ON artifact (scope, owner);

COMMENT ON TABLE artifact IS 'Artifacts are files, URLs and progress records produced by executions';
COMMENT ON COLUMN artifact.ref IS 'Artifact reference; versions of an artifact share it';
COMMENT ON COLUMN artifact.scope IS 'Kind of entity the artifact belongs to';
COMMENT ON COLUMN artifact.retention_policy IS 'Unit of retention_limit';
COMMENT ON COLUMN artifact.retention_limit IS 'How many versions, or how long, to keep';

CREATE TABLE notification (
    id BIGSERIAL PRIMARY KEY,
    channel text NOT NULL,
    entity_type text NOT NULL,
    entity text NOT NULL,
    activity text NOT NULL,
    state notification_status_enum DEFAULT 'created'::notification_status_enum NOT NULL,
    content jsonb,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL
);

CREATE INDEX idx_notification_channel ON notification (channel);
CREATE INDEX idx_notification_created ON notification (created DESC);
CREATE INDEX idx_notification_entity ON notification (entity_type, entity);
CREATE INDEX idx_notification_state ON notification (state) WHERE (state <> 'processing'::notification_status_enum);

COMMENT ON TABLE notification IS 'Notifications for clients, also sent by LISTEN/NOTIFY on their channel';
COMMENT ON COLUMN notification.channel IS 'PostgreSQL NOTIFY channel the notification is sent on';
COMMENT ON COLUMN notification.entity_type IS 'Kind of entity the notification is about';
COMMENT ON COLUMN notification.entity IS 'Identifier of the entity';
COMMENT ON COLUMN notification.activity IS 'What happened to the entity';

CREATE TABLE worker (
    id BIGSERIAL PRIMARY KEY,
    name text NOT NULL UNIQUE,
    worker_type worker_type_enum NOT NULL,
    runtime bigint REFERENCES runtime(id) ON DELETE SET NULL,
    host text,
    port integer,
    status worker_status_enum DEFAULT 'inactive'::worker_status_enum NOT NULL,
    capabilities jsonb DEFAULT '{}'::jsonb NOT NULL,
    meta jsonb DEFAULT '{}'::jsonb NOT NULL,
    last_heartbeat timestamp with time zone,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    worker_role worker_role_enum DEFAULT 'action'::worker_role_enum NOT NULL,
    CONSTRAINT worker_port_check CHECK ((port IS NULL) OR ((port > 0) AND (port <= 65535)))
);

CREATE INDEX idx_worker_capabilities ON worker USING gin (capabilities);
CREATE INDEX idx_worker_heartbeat ON worker (last_heartbeat DESC) WHERE (status = 'active'::worker_status_enum);
CREATE INDEX idx_worker_role_status ON worker (worker_role, status);
CREATE INDEX idx_worker_runtime ON worker (runtime);
CREATE INDEX idx_worker_status ON worker (status);

COMMENT ON TABLE worker IS 'Workers run executions and report their health by heartbeat';
COMMENT ON COLUMN worker.runtime IS 'Runtime the worker provides, if it is dedicated to one';
COMMENT ON COLUMN worker.capabilities IS 'What the worker can run (runtimes, versions, labels)';
COMMENT ON COLUMN worker.last_heartbeat IS 'Time of the last heartbeat received';
COMMENT ON COLUMN worker.worker_role IS 'What the worker runs: actions, sensors, or both (hybrid)';

CREATE TRIGGER update_artifact_updated
    BEFORE UPDATE ON artifact
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_notification_updated
    BEFORE UPDATE ON notification
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_worker_updated
    BEFORE UPDATE ON worker
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();
