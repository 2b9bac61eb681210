-- 00003_pack_system
--
-- Packs, runtimes and actions: the content the platform installs, and the environments it
-- runs that content in. Runtime records are not inserted here; they are loaded from
-- packs/core/runtimes/*.yaml.
--
-- Tables: pack, runtime, action, pack_environment.
-- Triggers: action.update_action_updated, pack.update_pack_updated,
--     runtime.update_runtime_updated, pack_environment.update_pack_environment_updated.
--
-- From the history: 20250101000002_core_tables.sql, 20260129140130_add_is_adhoc_flag.sql,
--     20260203000001_unify_runtimes.sql, 20260203000002_add_pack_environments.sql.

CREATE TABLE pack (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL UNIQUE,
    label text NOT NULL,
    description text,
    version text NOT NULL,
    conf_schema jsonb DEFAULT '{}'::jsonb NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    meta jsonb DEFAULT '{}'::jsonb NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    runtime_deps text[] DEFAULT '{}'::text[] NOT NULL,
    is_standard boolean DEFAULT false NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    installers jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT pack_ref_format CHECK (ref ~ '^[a-z][a-z0-9_-]*$'::text),
    CONSTRAINT pack_ref_lowercase CHECK (ref = lower(ref)),
    CONSTRAINT pack_version_semver CHECK (version ~ '^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'::text)
);

CREATE INDEX idx_pack_created ON pack (created DESC);
CREATE INDEX idx_pack_is_standard ON pack (is_standard) WHERE (is_standard = true);
CREATE INDEX idx_pack_tags ON pack USING gin (tags);

COMMENT ON TABLE pack IS 'Packs bundle related actions, sensors, triggers, rules and runtimes';
COMMENT ON COLUMN pack.ref IS 'Unique pack reference (e.g. core, slack)';
COMMENT ON COLUMN pack.label IS 'Human-readable pack name';
COMMENT ON COLUMN pack.version IS 'Semantic version of the pack';
COMMENT ON COLUMN pack.conf_schema IS 'JSON Schema of the pack configuration';
COMMENT ON COLUMN pack.config IS 'Pack configuration values';
COMMENT ON COLUMN pack.runtime_deps IS 'Refs of the runtimes the pack needs';
COMMENT ON COLUMN pack.is_standard IS 'Whether the pack ships with the platform';
COMMENT ON COLUMN pack.installers IS 'Installers that set up the pack dependencies, per runtime';

CREATE TABLE runtime (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL UNIQUE,
    pack bigint REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref text,
    description text,
    name text NOT NULL,
    distributions jsonb DEFAULT '{}'::jsonb NOT NULL,
    installation jsonb,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT runtime_ref_lowercase CHECK (ref = lower(ref))
);

CREATE INDEX idx_runtime_created ON runtime (created DESC);
CREATE INDEX idx_runtime_name_lower ON runtime (lower(name));
CREATE INDEX idx_runtime_pack ON runtime (pack);

COMMENT ON TABLE runtime IS 'Runtime environments that actions and sensors execute in; loaded from pack YAML';
COMMENT ON COLUMN runtime.ref IS 'Unique runtime reference (format: pack.name, e.g. core.python)';
COMMENT ON COLUMN runtime.name IS 'Runtime name (e.g. Python, Node.js, Shell)';
COMMENT ON COLUMN runtime.distributions IS 'How to detect the runtime on a host (commands, versions)';
COMMENT ON COLUMN runtime.installation IS 'How to install the runtime and its dependencies';

CREATE TABLE action (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL UNIQUE,
    pack bigint NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref text NOT NULL,
    label text NOT NULL,
    description text,
    entrypoint text NOT NULL,
    runtime bigint REFERENCES runtime(id) ON DELETE SET NULL,
    param_schema jsonb,
    out_schema jsonb,
    timeout_seconds integer DEFAULT 300 NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    is_adhoc boolean DEFAULT false NOT NULL,
    CONSTRAINT action_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$'::text),
    CONSTRAINT action_ref_lowercase CHECK (ref = lower(ref)),
    CONSTRAINT action_timeout_seconds_check CHECK (timeout_seconds > 0)
);

CREATE INDEX idx_action_created ON action (created DESC);
CREATE INDEX idx_action_is_adhoc ON action (is_adhoc) WHERE (is_adhoc = true);
CREATE INDEX idx_action_label_trgm ON action USING gin (label gin_trgm_ops);
CREATE INDEX idx_action_pack ON action (pack);
CREATE INDEX idx_action_pack_enabled ON action (pack, enabled);
CREATE INDEX idx_action_runtime ON action (runtime);

COMMENT ON TABLE action IS 'Actions are the units of work the platform executes';
COMMENT ON COLUMN action.ref IS 'Unique action reference (format: pack.name)';
COMMENT ON COLUMN action.entrypoint IS 'Script or binary to run, relative to the pack directory';
COMMENT ON COLUMN action.runtime IS 'Runtime the action executes in';
COMMENT ON COLUMN action.param_schema IS 'JSON Schema of the action parameters';
COMMENT ON COLUMN action.out_schema IS 'JSON Schema of the action output';
COMMENT ON COLUMN action.timeout_seconds IS 'Execution time limit in seconds';
COMMENT ON COLUMN action.is_adhoc IS 'True if created through the API rather than installed from a pack';

CREATE TABLE pack_environment (
    id BIGSERIAL PRIMARY KEY,
    pack bigint NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref text NOT NULL,
    runtime bigint NOT NULL REFERENCES runtime(id) ON DELETE CASCADE,
    runtime_ref text NOT NULL,
    env_path text NOT NULL,
    status pack_environment_status_enum DEFAULT 'pending'::pack_environment_status_enum NOT NULL,
    installed_at timestamp with time zone,
    last_verified timestamp with time zone,
    install_log text,
    install_error text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT pack_environment_pack_runtime_key UNIQUE (pack, runtime)
);

CREATE INDEX idx_pack_environment_not_ready ON pack_environment (pack) WHERE (status <> 'ready'::pack_environment_status_enum);
CREATE INDEX idx_pack_environment_runtime ON pack_environment (runtime);
CREATE INDEX idx_pack_environment_status ON pack_environment (status);

COMMENT ON TABLE pack_environment IS 'Isolated dependency environments, one per pack and runtime';
COMMENT ON COLUMN pack_environment.env_path IS 'Directory of the environment on the worker';
COMMENT ON COLUMN pack_environment.status IS 'Installation state';
COMMENT ON COLUMN pack_environment.last_verified IS 'When the environment was last found intact';
COMMENT ON COLUMN pack_environment.install_log IS 'Output of the last installation';

CREATE TRIGGER update_action_updated
    BEFORE UPDATE ON action
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_pack_updated
    BEFORE UPDATE ON pack
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_runtime_updated
    BEFORE UPDATE ON runtime
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_pack_environment_updated
    BEFORE UPDATE ON pack_environment
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();
