-- Migration: Add Worker Role
-- Description: Workers now specialise: some run actions, some run sensors,
--              some both. The scheduler only sends work a worker's role
--              allows.
-- Version: 20260131000001

CREATE TYPE worker_role_enum AS ENUM (
    'action',
    'sensor',
    'hybrid'
);

COMMENT ON TYPE worker_role_enum IS 'What a worker runs: actions, sensors, or both';

ALTER TABLE worker ADD COLUMN worker_role worker_role_enum NOT NULL DEFAULT 'action';

CREATE INDEX idx_worker_role_status ON worker(worker_role, status);

COMMENT ON COLUMN worker.worker_role IS 'What the worker runs: actions, sensors, or both (hybrid)';
