-- Migration: Consolidate Workflow Task Execution
-- Description: Moves the per-task workflow state from its own table into the
--              child execution itself. A task's child execution now carries
--              a workflow_task document (workflow execution, task name,
--              index, batch, retries, timeout), which saves a join on every
--              scheduler step and keeps task and execution state in one row.
-- Version: 20260127212500

-- The table only held data of workflows in progress; there are none to keep
-- in a pre-production database.
DROP TABLE IF EXISTS workflow_task_execution CASCADE;

ALTER TABLE execution ADD COLUMN workflow_task JSONB;

CREATE INDEX idx_execution_workflow_task ON execution USING GIN (workflow_task)
    WHERE workflow_task IS NOT NULL;

COMMENT ON COLUMN execution.workflow_task IS 'Task state when the execution runs a workflow task: workflow_execution, task_name, task_index, task_batch, retry_count, max_retries, next_retry_at, timeout_seconds, timed_out';
