-- 00002_identity_and_auth
--
-- Identities (people and service accounts), permission sets and their assignments, and
-- keys (secrets and settings).
--
-- Tables: identity, key, permission_set, permission_assignment.
-- Triggers: identity.update_identity_updated, key.update_key_updated,
--     permission_set.update_permission_set_updated.
--
-- From the history: 20250101000005_identity_and_auth.sql.

CREATE TABLE identity (
    id BIGSERIAL PRIMARY KEY,
    login text NOT NULL UNIQUE,
    display_name text,
    password_hash text,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL
);

CREATE INDEX idx_identity_attributes ON identity USING gin (attributes);
CREATE UNIQUE INDEX idx_identity_login_lower ON identity (lower(login));

COMMENT ON TABLE identity IS 'Identities are the people and service accounts that use the platform';
COMMENT ON COLUMN identity.login IS 'Unique login, compared case-insensitively';
COMMENT ON COLUMN identity.password_hash IS 'Argon2 hash of the password; NULL for externally authenticated identities';
COMMENT ON COLUMN identity.attributes IS 'Free-form attributes (e.g. email, groups)';

CREATE TABLE key (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL UNIQUE,
    owner_type owner_type_enum NOT NULL,
    owner text,
    owner_identity bigint REFERENCES identity(id) ON DELETE CASCADE,
    name text NOT NULL,
    encrypted boolean DEFAULT false NOT NULL,
    encryption_key_hash text,
    value text NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT key_encryption_hash_set CHECK ((NOT encrypted) OR (encryption_key_hash IS NOT NULL)),
    CONSTRAINT key_owner_identity_set CHECK ((owner_type <> 'identity'::owner_type_enum) OR (owner_identity IS NOT NULL)),
    CONSTRAINT key_ref_format CHECK (ref ~ '^([^.]+\.)?[^.]+$'::text)
);

CREATE INDEX idx_key_owner ON key (owner_type, owner);
CREATE INDEX idx_key_owner_identity ON key (owner_identity) WHERE (owner_identity IS NOT NULL);

COMMENT ON TABLE key IS 'Keys hold secrets and settings for packs, actions, sensors and identities';
COMMENT ON COLUMN key.ref IS 'Unique key reference (format: [owner.]name)';
COMMENT ON COLUMN key.owner IS 'Reference of the owning pack, action or sensor';
COMMENT ON COLUMN key.encrypted IS 'Whether value is encrypted';
COMMENT ON COLUMN key.encryption_key_hash IS 'Hash of the key used to encrypt value, to detect key rotation';

CREATE TABLE permission_set (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL UNIQUE,
    pack_ref text,
    label text,
    description text,
    grants jsonb DEFAULT '[]'::jsonb NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT permission_set_grants_array CHECK (jsonb_typeof(grants) = 'array'::text),
    CONSTRAINT permission_set_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$'::text),
    CONSTRAINT permission_set_ref_lowercase CHECK (ref = lower(ref))
);

COMMENT ON TABLE permission_set IS 'Named sets of grants that can be assigned to identities';
COMMENT ON COLUMN permission_set.pack_ref IS 'Pack that defines the set, if any';
COMMENT ON COLUMN permission_set.grants IS 'Array of grants: resource, actions, optional scope';

CREATE TABLE permission_assignment (
    id BIGSERIAL PRIMARY KEY,
    identity bigint NOT NULL REFERENCES identity(id) ON DELETE CASCADE,
    permset bigint NOT NULL REFERENCES permission_set(id) ON DELETE CASCADE,
    created timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT unique_identity_permset UNIQUE (identity, permset)
);

CREATE INDEX idx_permission_assignment_permset ON permission_assignment (permset);

COMMENT ON TABLE permission_assignment IS 'Which identities hold which permission sets';

CREATE TRIGGER update_identity_updated
    BEFORE UPDATE ON identity
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_key_updated
    BEFORE UPDATE ON key
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_permission_set_updated
    BEFORE UPDATE ON permission_set
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();
