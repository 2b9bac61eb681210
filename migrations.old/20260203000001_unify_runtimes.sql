-- Migration: Unify Runtimes
-- Description: A runtime no longer belongs to actions or to sensors: the same
--              Python runtime runs both, and a worker's role (see
--              20260131000001) now says what it runs. The runtime type goes,
--              and runtime refs become pack.name (core.python instead of
--              core.action.python). Runtime records are no longer inserted by
--              migrations; they are loaded from packs/core/runtimes/*.yaml.
-- Version: 20260203000001

-- ============================================================================
-- REF FORMAT
-- ============================================================================

-- The pack.type.name format is gone; refs are now pack.name, and the loader
-- validates them.
ALTER TABLE runtime DROP CONSTRAINT IF EXISTS runtime_ref_format;

-- ============================================================================
-- RUNTIME RECORDS
-- ============================================================================

-- All rows use the old ref format; the core pack loader recreates them. CASCADE
-- also empties what references runtimes: only test data before production.
TRUNCATE TABLE runtime CASCADE;

-- ============================================================================
-- RUNTIME TYPE
-- ============================================================================

DROP INDEX IF EXISTS idx_runtime_type;
DROP INDEX IF EXISTS idx_runtime_pack_type;
DROP INDEX IF EXISTS idx_runtime_type_created;
DROP INDEX IF EXISTS idx_runtime_type_sensor;
ALTER TABLE runtime DROP COLUMN IF EXISTS runtime_type;
DROP TYPE IF EXISTS runtime_type_enum;

COMMENT ON COLUMN runtime.ref IS 'Unique runtime reference (format: pack.name, e.g. core.python)';
COMMENT ON TABLE runtime IS 'Runtime environments that actions and sensors execute in; loaded from pack YAML';
