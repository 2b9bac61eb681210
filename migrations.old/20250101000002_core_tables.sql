-- Migration: Core Tables
-- Description: Packs, runtimes and actions: the content the platform
--              installs, and the environments it runs that content in.
-- Version: 20250101000002

-- ============================================================================
-- PACK TABLE
-- ============================================================================

CREATE TABLE pack (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    description TEXT,
    version TEXT NOT NULL,
    conf_schema JSONB NOT NULL DEFAULT '{}'::jsonb,
    config JSONB NOT NULL DEFAULT '{}'::jsonb,
    meta JSONB NOT NULL DEFAULT '{}'::jsonb,
    tags TEXT[] NOT NULL DEFAULT '{}',
    runtime_deps TEXT[] NOT NULL DEFAULT '{}',
    is_standard BOOLEAN NOT NULL DEFAULT FALSE,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT pack_ref_lowercase CHECK (ref = LOWER(ref)),
    CONSTRAINT pack_ref_format CHECK (ref ~ '^[a-z][a-z0-9_-]*$'),
    CONSTRAINT pack_version_semver CHECK (
        version ~ '^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
    )
);

-- Indexes
CREATE INDEX idx_pack_created ON pack(created DESC);
CREATE INDEX idx_pack_tags ON pack USING GIN (tags);
CREATE INDEX idx_pack_is_standard ON pack(is_standard) WHERE is_standard = TRUE;

-- Trigger
CREATE TRIGGER update_pack_updated
    BEFORE UPDATE ON pack
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE pack IS 'Packs bundle related actions, sensors, triggers, rules and runtimes';
COMMENT ON COLUMN pack.ref IS 'Unique pack reference (e.g. core, slack)';
COMMENT ON COLUMN pack.label IS 'Human-readable pack name';
COMMENT ON COLUMN pack.version IS 'Semantic version of the pack';
COMMENT ON COLUMN pack.conf_schema IS 'JSON Schema of the pack configuration';
COMMENT ON COLUMN pack.config IS 'Pack configuration values';
COMMENT ON COLUMN pack.runtime_deps IS 'Refs of the runtimes the pack needs';
COMMENT ON COLUMN pack.is_standard IS 'Whether the pack ships with the platform';

-- ============================================================================
-- RUNTIME TABLE
-- ============================================================================

-- A runtime is an environment an action or a sensor runs in (Python,
-- Node.js, a shell, a native binary). Its type says which of the two it
-- serves, and its ref repeats that type: pack.type.name.

CREATE TABLE runtime (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    pack BIGINT REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref TEXT,
    description TEXT,
    runtime_type runtime_type_enum NOT NULL,
    name TEXT NOT NULL,
    distributions JSONB NOT NULL DEFAULT '{}'::jsonb,
    installation JSONB,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    --
    -- The ref must be lowercase and carry the runtime type between the
    -- pack and the name, e.g. core.action.python or core.sensor.builtin,
    -- so that one pack can ship an action runtime and a sensor runtime
    -- of the same name. The middle segment and the runtime_type column
    -- must agree; the loader derives one from the other and the indexes
    -- below filter on the column.
    CONSTRAINT runtime_ref_lowercase CHECK (ref = LOWER(ref)),
    CONSTRAINT runtime_ref_format CHECK (ref ~ '^[^.]+\.(action|sensor)\.[^.]+$')
);

-- Indexes
CREATE INDEX idx_runtime_pack ON runtime(pack);
CREATE INDEX idx_runtime_created ON runtime(created DESC);
CREATE INDEX idx_runtime_name_lower ON runtime(LOWER(name));
CREATE INDEX idx_runtime_type ON runtime(runtime_type);
CREATE INDEX idx_runtime_pack_type ON runtime(pack, runtime_type);
CREATE INDEX idx_runtime_type_created ON runtime(runtime_type, created DESC);
CREATE INDEX idx_runtime_type_sensor ON runtime(runtime_type) WHERE runtime_type = 'sensor';

-- Trigger
CREATE TRIGGER update_runtime_updated
    BEFORE UPDATE ON runtime
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE runtime IS 'Runtime environments that actions and sensors execute in';
COMMENT ON COLUMN runtime.ref IS 'Unique runtime reference (format: pack.type.name)';
COMMENT ON COLUMN runtime.runtime_type IS 'Whether the runtime executes actions or sensors';
COMMENT ON COLUMN runtime.name IS 'Runtime name (e.g. Python, Node.js, Shell)';
COMMENT ON COLUMN runtime.distributions IS 'How to detect the runtime on a host (commands, versions)';
COMMENT ON COLUMN runtime.installation IS 'How to install the runtime and its dependencies';

-- ============================================================================
-- ACTION TABLE
-- ============================================================================

CREATE TABLE action (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    pack BIGINT NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref TEXT NOT NULL,
    label TEXT NOT NULL,
    description TEXT,
    entrypoint TEXT NOT NULL,
    runtime BIGINT REFERENCES runtime(id) ON DELETE SET NULL,
    param_schema JSONB,
    out_schema JSONB,
    timeout_seconds INTEGER NOT NULL DEFAULT 300 CHECK (timeout_seconds > 0),
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT action_ref_lowercase CHECK (ref = LOWER(ref)),
    CONSTRAINT action_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$')
);

-- Indexes
CREATE INDEX idx_action_pack ON action(pack);
CREATE INDEX idx_action_runtime ON action(runtime);
CREATE INDEX idx_action_created ON action(created DESC);
CREATE INDEX idx_action_pack_enabled ON action(pack, enabled);
CREATE INDEX idx_action_label_trgm ON action USING GIN (label gin_trgm_ops);

-- Trigger
CREATE TRIGGER update_action_updated
    BEFORE UPDATE ON action
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE action IS 'Actions are the units of work the platform executes';
COMMENT ON COLUMN action.ref IS 'Unique action reference (format: pack.name)';
COMMENT ON COLUMN action.entrypoint IS 'Script or binary to run, relative to the pack directory';
COMMENT ON COLUMN action.runtime IS 'Runtime the action executes in';
COMMENT ON COLUMN action.param_schema IS 'JSON Schema of the action parameters';
COMMENT ON COLUMN action.out_schema IS 'JSON Schema of the action output';
COMMENT ON COLUMN action.timeout_seconds IS 'Execution time limit in seconds';
