-- 00001_initial_setup
--
-- Extensions, enum types and the shared trigger functions that every later migration
-- relies on.
--
-- Extensions: pg_trgm, pgcrypto.
-- Enums: artifact_retention_enum, artifact_type_enum, enforcement_condition_enum,
--     enforcement_status_enum, execution_status_enum, inquiry_status_enum,
--     notification_status_enum, owner_type_enum, policy_method_enum, worker_status_enum,
--     worker_type_enum, worker_role_enum, pack_environment_status_enum.
-- Functions: update_updated_column().
--
-- From the history: 20250101000001_initial_setup.sql, 20260131000001_add_worker_role.sql,
--     20260203000002_add_pack_environments.sql.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';

CREATE EXTENSION IF NOT EXISTS pgcrypto;
COMMENT ON EXTENSION pgcrypto IS 'cryptographic functions';

CREATE TYPE artifact_retention_enum AS ENUM (
    'versions',
    'days',
    'hours',
    'minutes'
);
COMMENT ON TYPE artifact_retention_enum IS 'Unit of the artifact retention limit';

CREATE TYPE artifact_type_enum AS ENUM (
    'file_binary',
    'file_datatable',
    'file_image',
    'file_text',
    'other',
    'progress',
    'url'
);
COMMENT ON TYPE artifact_type_enum IS 'Kind of artifact produced by an execution';

CREATE TYPE enforcement_condition_enum AS ENUM (
    'any',
    'all'
);
COMMENT ON TYPE enforcement_condition_enum IS 'Whether any or all rule conditions must match';

CREATE TYPE enforcement_status_enum AS ENUM (
    'created',
    'processed',
    'disabled'
);
COMMENT ON TYPE enforcement_status_enum IS 'Processing state of an enforcement';

CREATE TYPE execution_status_enum AS ENUM (
    'requested',
    'scheduling',
    'scheduled',
    'running',
    'completed',
    'failed',
    'canceling',
    'cancelled',
    'timeout',
    'abandoned'
);
COMMENT ON TYPE execution_status_enum IS 'Lifecycle state of an execution';

CREATE TYPE inquiry_status_enum AS ENUM (
    'pending',
    'responded',
    'timeout',
    'cancelled'
);
COMMENT ON TYPE inquiry_status_enum IS 'Lifecycle state of an inquiry';

CREATE TYPE notification_status_enum AS ENUM (
    'created',
    'queued',
    'processing',
    'error'
);
COMMENT ON TYPE notification_status_enum IS 'Delivery state of a notification';

CREATE TYPE owner_type_enum AS ENUM (
    'system',
    'identity',
    'pack',
    'action',
    'sensor'
);
COMMENT ON TYPE owner_type_enum IS 'Kind of entity that owns a key or an artifact';

CREATE TYPE policy_method_enum AS ENUM (
    'cancel',
    'enqueue'
);
COMMENT ON TYPE policy_method_enum IS 'What a concurrency policy does once its threshold is reached';

CREATE TYPE worker_status_enum AS ENUM (
    'active',
    'inactive',
    'busy',
    'error'
);
COMMENT ON TYPE worker_status_enum IS 'Health of a worker as last reported';

CREATE TYPE worker_type_enum AS ENUM (
    'local',
    'remote',
    'container'
);
COMMENT ON TYPE worker_type_enum IS 'How a worker is deployed';

CREATE TYPE worker_role_enum AS ENUM (
    'action',
    'sensor',
    'hybrid'
);
COMMENT ON TYPE worker_role_enum IS 'What a worker runs: actions, sensors, or both';

CREATE TYPE pack_environment_status_enum AS ENUM (
    'pending',
    'installing',
    'ready',
    'failed',
    'outdated'
);
COMMENT ON TYPE pack_environment_status_enum IS 'Installation state of a pack environment';

CREATE OR REPLACE FUNCTION update_updated_column()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    NEW.updated = NOW();
    RETURN NEW;
END;
$function$;
COMMENT ON FUNCTION update_updated_column() IS 'Sets the updated column to the current time on every UPDATE';
