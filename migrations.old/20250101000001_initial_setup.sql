-- Migration: Initial Setup
-- Description: Extensions, enum types and the shared trigger functions that
--              every later migration relies on.
-- Version: 20250101000001

-- ============================================================================
-- EXTENSIONS
-- ============================================================================

-- pgcrypto: gen_random_bytes() for webhook keys and secrets
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- pg_trgm: trigram indexes for fuzzy search on labels
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- ============================================================================
-- ENUM TYPES
-- ============================================================================

-- Kind of entity that owns a key or an artifact
CREATE TYPE owner_type_enum AS ENUM (
    'system',
    'identity',
    'pack',
    'action',
    'sensor'
);

COMMENT ON TYPE owner_type_enum IS 'Kind of entity that owns a key or an artifact';

-- Delivery state of a notification
CREATE TYPE notification_status_enum AS ENUM (
    'created',
    'queued',
    'processing',
    'error'
);

COMMENT ON TYPE notification_status_enum IS 'Delivery state of a notification';

-- Kind of runtime: one that runs actions or one that runs sensors
CREATE TYPE runtime_type_enum AS ENUM (
    'action',
    'sensor'
);

COMMENT ON TYPE runtime_type_enum IS 'Whether a runtime executes actions or sensors';

-- How a worker is deployed
CREATE TYPE worker_type_enum AS ENUM (
    'local',
    'remote',
    'container'
);

COMMENT ON TYPE worker_type_enum IS 'How a worker is deployed';

-- Health of a worker
CREATE TYPE worker_status_enum AS ENUM (
    'active',
    'inactive',
    'busy',
    'error'
);

COMMENT ON TYPE worker_status_enum IS 'Health of a worker as last reported';

-- Processing state of an enforcement
CREATE TYPE enforcement_status_enum AS ENUM (
    'created',
    'processed',
    'disabled'
);

COMMENT ON TYPE enforcement_status_enum IS 'Processing state of an enforcement';

-- How the conditions of a rule combine
CREATE TYPE enforcement_condition_enum AS ENUM (
    'any',
    'all'
);

COMMENT ON TYPE enforcement_condition_enum IS 'Whether any or all rule conditions must match';

-- Lifecycle of an execution
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

-- Lifecycle of an inquiry (a question put to a person during an execution)
CREATE TYPE inquiry_status_enum AS ENUM (
    'pending',
    'responded',
    'timeout',
    'cancelled'
);

COMMENT ON TYPE inquiry_status_enum IS 'Lifecycle state of an inquiry';

-- What a policy does when its threshold is reached
CREATE TYPE policy_method_enum AS ENUM (
    'cancel',
    'enqueue'
);

COMMENT ON TYPE policy_method_enum IS 'What a concurrency policy does once its threshold is reached';

-- Kind of artifact produced by an execution
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

-- How long artifacts are kept
CREATE TYPE artifact_retention_enum AS ENUM (
    'versions',
    'days',
    'hours',
    'minutes'
);

COMMENT ON TYPE artifact_retention_enum IS 'Unit of the artifact retention limit';

-- ============================================================================
-- SHARED TRIGGER FUNCTIONS
-- ============================================================================

-- Keeps the "updated" column of a row current; attached BEFORE UPDATE
CREATE OR REPLACE FUNCTION update_updated_column()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

COMMENT ON FUNCTION update_updated_column() IS 'Sets the updated column to the current time on every UPDATE';
