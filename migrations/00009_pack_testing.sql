-- Migration: Pack Testing
-- Description: Packs may ship tests (tests/ in the pack directory). They run
--              on installation, on update and on demand; every run is kept
--              here with its counts and its full report.
-- Version: 00009

CREATE TABLE pack_test_result (
    id BIGSERIAL PRIMARY KEY,
    pack BIGINT NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    trigger_reason TEXT NOT NULL,
    total_tests INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    skipped INTEGER NOT NULL DEFAULT 0,
    pass_rate NUMERIC(5,4) GENERATED ALWAYS AS (
        CASE WHEN total_tests > 0 THEN passed::numeric / total_tests ELSE NULL END
    ) STORED,
    duration_ms BIGINT NOT NULL,
    result JSONB NOT NULL,
    executed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT pack_test_result_reason CHECK (
        trigger_reason IN ('install', 'update', 'manual', 'validation')
    ),
    CONSTRAINT pack_test_result_counts CHECK (
        total_tests >= 0 AND passed >= 0 AND failed >= 0 AND skipped >= 0
        AND passed + failed + skipped <= total_tests
    )
);

-- Indexes
CREATE INDEX idx_pack_test_result_pack_executed ON pack_test_result(pack, executed_at DESC);
CREATE INDEX idx_pack_test_result_failed ON pack_test_result(executed_at DESC) WHERE failed > 0;

-- Comments
COMMENT ON TABLE pack_test_result IS 'Results of pack test runs';
COMMENT ON COLUMN pack_test_result.pack_version IS 'Version of the pack that was tested';
COMMENT ON COLUMN pack_test_result.trigger_reason IS 'Why the tests ran: install, update, manual or validation';
COMMENT ON COLUMN pack_test_result.pass_rate IS 'Share of tests that passed, from 0 to 1';
COMMENT ON COLUMN pack_test_result.result IS 'Full report: one entry per test suite and case';

-- The latest test run of every pack
CREATE VIEW pack_latest_test AS
SELECT DISTINCT ON (r.pack)
    r.pack,
    r.pack_ref,
    r.pack_version,
    r.trigger_reason,
    r.total_tests,
    r.passed,
    r.failed,
    r.skipped,
    r.pass_rate,
    r.executed_at
FROM pack_test_result r
ORDER BY r.pack, r.executed_at DESC, r.id DESC;

COMMENT ON VIEW pack_latest_test IS 'The latest test run of every pack';
