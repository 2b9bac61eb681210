-- Migration: Add Pack Environments
-- Description: Packs declare installers (how to set up their dependencies,
--              e.g. a Python virtualenv from requirements.txt); each pack
--              gets one isolated environment per runtime it uses, tracked
--              here.
-- Version: 20260203000002

CREATE TYPE pack_environment_status_enum AS ENUM (
    'pending',
    'installing',
    'ready',
    'failed',
    'outdated'
);

COMMENT ON TYPE pack_environment_status_enum IS 'Installation state of a pack environment';

ALTER TABLE pack ADD COLUMN installers JSONB NOT NULL DEFAULT '[]'::jsonb;

COMMENT ON COLUMN pack.installers IS 'Installers that set up the pack dependencies, per runtime';

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
