-- 00009_pack_testing
--
-- Packs may ship tests. They run on installation, on update and on demand; every run is
-- kept here with its counts and its full report.
--
-- Tables: pack_test_result.
-- Views: pack_latest_test.
--
-- From the history: 20260201000001_add_pack_test_results.sql.

CREATE TABLE pack_test_result (
    id BIGSERIAL PRIMARY KEY,
    pack bigint NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref text NOT NULL,
    pack_version text NOT NULL,
    trigger_reason text NOT NULL,
    total_tests integer NOT NULL,
    passed integer NOT NULL,
    failed integer NOT NULL,
    skipped integer DEFAULT 0 NOT NULL,
    pass_rate numeric(5,4) GENERATED ALWAYS AS (
CASE
    WHEN (total_tests > 0) THEN ((passed)::numeric / (total_tests)::numeric)
    ELSE NULL::numeric
END) STORED,
    duration_ms bigint NOT NULL,
    result jsonb NOT NULL,
    executed_at timestamp with time zone DEFAULT now() NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT pack_test_result_counts CHECK ((total_tests >= 0) AND (passed >= 0) AND (failed >= 0) AND (skipped >= 0) AND (((passed + failed) + skipped) <= total_tests)),
    CONSTRAINT pack_test_result_reason CHECK (trigger_reason = ANY (ARRAY['install'::text, 'update'::text, 'manual'::text, 'validation'::text]))
);

CREATE INDEX idx_pack_test_result_failed ON pack_test_result (executed_at DESC) WHERE (failed > 0);
CREATE INDEX idx_pack_test_result_pack_executed ON pack_test_result (pack, executed_at DESC);

COMMENT ON TABLE pack_test_result IS 'Results of pack test runs';
COMMENT ON COLUMN pack_test_result.pack_version IS 'Version of the pack that was tested';
COMMENT ON COLUMN pack_test_result.trigger_reason IS 'Why the tests ran: install, update, manual or validation';
COMMENT ON COLUMN pack_test_result.pass_rate IS 'Share of tests that passed, from 0 to 1';
COMMENT ON COLUMN pack_test_result.result IS 'Full report: one entry per test suite and case';

CREATE VIEW pack_latest_test AS
 SELECT DISTINCT ON (r.pack) r.pack,
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
