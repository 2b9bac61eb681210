-- Migration: Pack System
-- Description: Packs, runtimes and actions: the content the platform
--              installs, and the environments it runs that content in.
--              Runtime records are not inserted here; they are loaded from
--              packs/core/runtimes/*.yaml.
-- Version: 00003

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
    installers JSONB NOT NULL DEFAULT '[]'::jsonb,
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
COMMENT ON COLUMN pack.installers IS 'Installers that set up the pack dependencies, per runtime';
COMMENT ON COLUMN pack.is_standard IS 'Whether the pack ships with the platform';

-- ============================================================================
-- RUNTIME TABLE
-- ============================================================================

-- A runtime is an environment actions and sensors run in (Python, Node.js,
-- a shell, a native binary). Refs have the form pack.name, e.g. core.python;
-- the pack loader validates them.

CREATE TABLE runtime (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    pack BIGINT REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref TEXT,
    description TEXT,
    name TEXT NOT NULL,
    distributions JSONB NOT NULL DEFAULT '{}'::jsonb,
    installation JSONB,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT runtime_ref_lowercase CHECK (ref = LOWER(ref))
);

-- Indexes
CREATE INDEX idx_runtime_pack ON runtime(pack);
CREATE INDEX idx_runtime_created ON runtime(created DESC);
CREATE INDEX idx_runtime_name_lower ON runtime(LOWER(name));

-- Trigger
CREATE TRIGGER update_runtime_updated
    BEFORE UPDATE ON runtime
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE runtime IS 'Runtime environments that actions and sensors execute in; loaded from pack YAML';
COMMENT ON COLUMN runtime.ref IS 'Unique runtime reference (format: pack.name, e.g. core.python)';
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
    is_adhoc BOOLEAN DEFAULT false NOT NULL,
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
CREATE INDEX idx_action_is_adhoc ON action(is_adhoc) WHERE is_adhoc = TRUE;

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
COMMENT ON COLUMN action.is_adhoc IS 'True if created through the API rather than installed from a pack';

-- ============================================================================
-- PACK ENVIRONMENT TABLE
-- ============================================================================

-- Each pack gets one isolated dependency environment per runtime it uses
-- (e.g. a Python virtualenv built from the pack's requirements.txt), set up
-- by the installers the pack declares.

CREATE TABLE pack_environment (
    id BIGSERIAL PRIMARY KEY,
    pack BIGINT NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref TEXT NOT NULL,
    runtime BIGINT NOT NULL REFERENCES runtime(id) ON DELETE CASCADE,
    runtime_ref TEXT NOT NULL,
    env_path TEXT NOT NULL,
    status pack_environment_status_enum NOT NULL DEFAULT 'pending',
    installed_at TIMESTAMPTZ,
    last_verified TIMESTAMPTZ,
    install_log TEXT,
    install_error TEXT,
    metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    UNIQUE (pack, runtime)
);

-- Indexes
CREATE INDEX idx_pack_environment_runtime ON pack_environment(runtime);
CREATE INDEX idx_pack_environment_status ON pack_environment(status);
CREATE INDEX idx_pack_environment_not_ready ON pack_environment(pack) WHERE status <> 'ready';

-- Trigger
CREATE TRIGGER update_pack_environment_updated
    BEFORE UPDATE ON pack_environment
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE pack_environment IS 'Isolated dependency environments, one per pack and runtime';
COMMENT ON COLUMN pack_environment.env_path IS 'Directory of the environment on the worker';
COMMENT ON COLUMN pack_environment.status IS 'Installation state';
COMMENT ON COLUMN pack_environment.last_verified IS 'When the environment was last found intact';
COMMENT ON COLUMN pack_environment.install_log IS 'Output of the last installation';
