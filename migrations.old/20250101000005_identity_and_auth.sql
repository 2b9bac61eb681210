-- Migration: Identity and Auth
-- Description: Identities (people and service accounts), permission sets and
--              their assignments, and keys (secrets and settings).
-- Version: 20250101000005

-- ============================================================================
-- IDENTITY TABLE
-- ============================================================================

CREATE TABLE identity (
    id BIGSERIAL PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT,
    password_hash TEXT,
    attributes JSONB NOT NULL DEFAULT '{}'::jsonb,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Indexes
-- Logins are compared without regard to case.
CREATE UNIQUE INDEX idx_identity_login_lower ON identity(LOWER(login));
CREATE INDEX idx_identity_attributes ON identity USING GIN (attributes);

-- Trigger
CREATE TRIGGER update_identity_updated
    BEFORE UPDATE ON identity
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE identity IS 'Identities are the people and service accounts that use the platform';
COMMENT ON COLUMN identity.login IS 'Unique login, compared case-insensitively';
COMMENT ON COLUMN identity.password_hash IS 'Argon2 hash of the password; NULL for externally authenticated identities';
COMMENT ON COLUMN identity.attributes IS 'Free-form attributes (e.g. email, groups)';

-- ============================================================================
-- PERMISSION SET TABLE
-- ============================================================================

CREATE TABLE permission_set (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    pack_ref TEXT,
    label TEXT,
    description TEXT,
    grants JSONB NOT NULL DEFAULT '[]'::jsonb,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT permission_set_ref_lowercase CHECK (ref = LOWER(ref)),
    CONSTRAINT permission_set_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$'),
    CONSTRAINT permission_set_grants_array CHECK (jsonb_typeof(grants) = 'array')
);

-- Trigger
CREATE TRIGGER update_permission_set_updated
    BEFORE UPDATE ON permission_set
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE permission_set IS 'Named sets of grants that can be assigned to identities';
COMMENT ON COLUMN permission_set.pack_ref IS 'Pack that defines the set, if any';
COMMENT ON COLUMN permission_set.grants IS 'Array of grants: resource, actions, optional scope';

-- ============================================================================
-- PERMISSION ASSIGNMENT TABLE
-- ============================================================================

CREATE TABLE permission_assignment (
    id BIGSERIAL PRIMARY KEY,
    identity BIGINT NOT NULL REFERENCES identity(id) ON DELETE CASCADE,
    permset BIGINT NOT NULL REFERENCES permission_set(id) ON DELETE CASCADE,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT unique_identity_permset UNIQUE (identity, permset)
);

-- Indexes
CREATE INDEX idx_permission_assignment_permset ON permission_assignment(permset);

-- Comments
COMMENT ON TABLE permission_assignment IS 'Which identities hold which permission sets';

-- ============================================================================
-- KEY TABLE
-- ============================================================================

CREATE TABLE key (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    owner_type owner_type_enum NOT NULL,
    owner TEXT,
    owner_identity BIGINT REFERENCES identity(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    encrypted BOOLEAN NOT NULL DEFAULT FALSE,
    encryption_key_hash TEXT,
    value TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT key_ref_format CHECK (ref ~ '^([^.]+\.)?[^.]+$'),
    CONSTRAINT key_owner_identity_set CHECK (
        owner_type <> 'identity' OR owner_identity IS NOT NULL
    ),
    CONSTRAINT key_encryption_hash_set CHECK (
        NOT encrypted OR encryption_key_hash IS NOT NULL
    )
);

-- Indexes
CREATE INDEX idx_key_owner ON key(owner_type, owner);
CREATE INDEX idx_key_owner_identity ON key(owner_identity) WHERE owner_identity IS NOT NULL;

-- Trigger
CREATE TRIGGER update_key_updated
    BEFORE UPDATE ON key
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE key IS 'Keys hold secrets and settings for packs, actions, sensors and identities';
COMMENT ON COLUMN key.ref IS 'Unique key reference (format: [owner.]name)';
COMMENT ON COLUMN key.owner IS 'Reference of the owning pack, action or sensor';
COMMENT ON COLUMN key.encrypted IS 'Whether value is encrypted';
COMMENT ON COLUMN key.encryption_key_hash IS 'Hash of the key used to encrypt value, to detect key rotation';
