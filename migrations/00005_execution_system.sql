-- Migration: Execution System
-- Description: Enforcements (a rule matched an event), executions (an
--              action run), inquiries, concurrency policies and workflows.
--              Executions carry their workflow columns from the start: a
--              workflow's task state lives in execution.workflow_task.
-- Version: 00005

-- ============================================================================
-- ENFORCEMENT TABLE
-- ============================================================================

CREATE TABLE enforcement (
    id BIGSERIAL PRIMARY KEY,
    rule BIGINT REFERENCES rule(id) ON DELETE SET NULL,
    rule_ref TEXT NOT NULL,
    trigger_ref TEXT NOT NULL,
    config JSONB,
    event BIGINT REFERENCES event(id) ON DELETE SET NULL,
    status enforcement_status_enum NOT NULL DEFAULT 'created',
    payload JSONB NOT NULL DEFAULT '{}'::jsonb,
    condition enforcement_condition_enum NOT NULL DEFAULT 'all',
    conditions JSONB NOT NULL DEFAULT '[]'::jsonb,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Indexes
CREATE INDEX idx_enforcement_rule ON enforcement(rule);
CREATE INDEX idx_enforcement_event ON enforcement(event);
CREATE INDEX idx_enforcement_status ON enforcement(status);
CREATE INDEX idx_enforcement_created ON enforcement(created DESC);
CREATE INDEX idx_enforcement_rule_status ON enforcement(rule, status);

-- Trigger
CREATE TRIGGER update_enforcement_updated
    BEFORE UPDATE ON enforcement
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE enforcement IS 'Enforcements record that a rule matched an event';
COMMENT ON COLUMN enforcement.rule_ref IS 'Rule reference, kept when the rule is deleted';
COMMENT ON COLUMN enforcement.event IS 'Event that activated the rule';
COMMENT ON COLUMN enforcement.payload IS 'Event payload as seen by the rule';
COMMENT ON COLUMN enforcement.condition IS 'Whether any or all conditions had to match';
COMMENT ON COLUMN enforcement.conditions IS 'Conditions of the rule at the time of matching';

-- ============================================================================
-- POLICY TABLE
-- ============================================================================

CREATE TABLE policy (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    pack BIGINT REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref TEXT,
    action BIGINT REFERENCES action(id) ON DELETE CASCADE,
    action_ref TEXT,
    parameters TEXT[] NOT NULL DEFAULT '{}',
    method policy_method_enum NOT NULL,
    threshold INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    tags TEXT[] NOT NULL DEFAULT '{}',
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT policy_ref_lowercase CHECK (ref = LOWER(ref)),
    CONSTRAINT policy_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$'),
    CONSTRAINT policy_threshold_positive CHECK (threshold > 0)
);

-- Indexes
CREATE INDEX idx_policy_pack ON policy(pack);
CREATE INDEX idx_policy_action ON policy(action);
CREATE INDEX idx_policy_tags ON policy USING GIN (tags);

-- Trigger
CREATE TRIGGER update_policy_updated
    BEFORE UPDATE ON policy
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE policy IS 'Concurrency policies limit how many executions of an action run at once';
COMMENT ON COLUMN policy.parameters IS 'Action parameters whose values partition the count';
COMMENT ON COLUMN policy.method IS 'What happens to executions beyond the threshold';
COMMENT ON COLUMN policy.threshold IS 'Number of concurrent executions allowed';
COMMENT ON COLUMN policy.ref IS 'Unique policy reference (format: pack.name)';
COMMENT ON COLUMN policy.action IS 'Action the policy applies to';

-- ============================================================================
-- WORKFLOWS
-- ============================================================================

-- A workflow is an action made of tasks. Its definition is written in YAML
-- in a pack (workflows/<name>.yaml) and stored here as JSON. Running one
-- creates:
--
--   * an execution for the workflow as a whole (the parent);
--   * a workflow_execution row holding the workflow's runtime state: the
--     task graph, which tasks are running, done, failed or skipped, and
--     the variables tasks have published;
--   * for every task, a child execution that runs the task's action; its
--     workflow_task column ties it to its task and tracks retries and
--     timeouts.
--
-- The scheduler advances a workflow when a child execution finishes: it
-- marks the task, evaluates the transitions of the task (on-success,
-- on-failure, on-complete), and requests the next tasks.
--
-- Workflow definitions are owned by their pack and go with it. Workflow
-- executions go with their execution; they are never deleted on their own.

-- ============================================================================
-- WORKFLOW DEFINITION TABLE
-- ============================================================================

CREATE TABLE workflow_definition (
    id BIGSERIAL PRIMARY KEY,
    ref VARCHAR(255) NOT NULL UNIQUE,
    pack BIGINT NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref VARCHAR(255) NOT NULL,
    label VARCHAR(255) NOT NULL,
    description TEXT,
    version VARCHAR(50) NOT NULL,
    param_schema JSONB,
    out_schema JSONB,
    definition JSONB NOT NULL,
    tags TEXT[] NOT NULL DEFAULT '{}',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Indexes
CREATE INDEX idx_workflow_definition_pack ON workflow_definition(pack);
CREATE INDEX idx_workflow_definition_enabled ON workflow_definition(enabled) WHERE enabled = TRUE;
CREATE INDEX idx_workflow_definition_tags ON workflow_definition USING GIN (tags);

-- Trigger
CREATE TRIGGER update_workflow_definition_updated
    BEFORE UPDATE ON workflow_definition
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE workflow_definition IS 'Workflows are actions composed of tasks, defined in YAML and stored as JSON';
COMMENT ON COLUMN workflow_definition.definition IS 'Complete workflow specification: tasks, transitions, variables';
COMMENT ON COLUMN workflow_definition.version IS 'Semantic version of the workflow';
COMMENT ON COLUMN workflow_definition.ref IS 'Unique workflow reference (format: pack.name)';
COMMENT ON COLUMN workflow_definition.param_schema IS 'JSON Schema of the workflow input';
COMMENT ON COLUMN workflow_definition.out_schema IS 'JSON Schema of the workflow output';
COMMENT ON COLUMN workflow_definition.label IS 'Human-readable workflow name';
COMMENT ON COLUMN workflow_definition.tags IS 'Free-form tags for search';
COMMENT ON COLUMN workflow_definition.enabled IS 'Whether the workflow may be started';

-- ============================================================================
-- EXECUTION TABLE
-- ============================================================================

-- One row per run of an action, whether started by a rule (through an
-- enforcement), by a person, or as a child of another execution. The
-- status moves along execution_status_enum; result holds the output of
-- the action once it has finished.
--
-- Executions that run a workflow are marked (is_workflow) and point at
-- their definition; the child executions of a workflow's tasks hold the
-- task state in workflow_task.
--
-- Executions are never deleted by the platform; references to actions
-- and enforcements are set to NULL when those go, while the *_ref
-- columns keep what was run.

CREATE TABLE execution (
    id BIGSERIAL PRIMARY KEY,
    action BIGINT REFERENCES action(id) ON DELETE SET NULL,
    action_ref TEXT NOT NULL,
    config JSONB,
    parent BIGINT REFERENCES execution(id) ON DELETE SET NULL,
    enforcement BIGINT REFERENCES enforcement(id) ON DELETE SET NULL,
    status execution_status_enum NOT NULL DEFAULT 'requested',
    result JSONB,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    is_workflow BOOLEAN DEFAULT false NOT NULL,
    workflow_def BIGINT REFERENCES workflow_definition(id),
    workflow_task JSONB,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT execution_finished_after_started CHECK (
        finished_at IS NULL OR started_at IS NULL OR finished_at >= started_at
    )
);

-- Indexes
CREATE INDEX idx_execution_action ON execution(action);
CREATE INDEX idx_execution_action_ref ON execution(action_ref);
CREATE INDEX idx_execution_parent ON execution(parent);
CREATE INDEX idx_execution_enforcement ON execution(enforcement);
CREATE INDEX idx_execution_status ON execution(status);
CREATE INDEX idx_execution_created ON execution(created DESC);
CREATE INDEX idx_execution_status_created ON execution(status, created DESC);
CREATE INDEX idx_execution_active ON execution(created)
    WHERE status IN ('requested', 'scheduling', 'scheduled', 'running', 'canceling');
CREATE INDEX idx_execution_is_workflow ON execution(is_workflow) WHERE is_workflow = TRUE;
CREATE INDEX idx_execution_workflow_def ON execution(workflow_def);
CREATE INDEX idx_execution_workflow_task ON execution USING GIN (workflow_task)
    WHERE workflow_task IS NOT NULL;

-- Trigger
CREATE TRIGGER update_execution_updated
    BEFORE UPDATE ON execution
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE execution IS 'Executions are runs of an action';
COMMENT ON COLUMN execution.action_ref IS 'Action reference, kept when the action is deleted';
COMMENT ON COLUMN execution.config IS 'Parameters the action was run with';
COMMENT ON COLUMN execution.parent IS 'Parent execution, for child executions';
COMMENT ON COLUMN execution.enforcement IS 'Enforcement that started the execution, if any';
COMMENT ON COLUMN execution.result IS 'Output of the action';
COMMENT ON COLUMN execution.status IS 'Lifecycle state; see execution_status_enum';
COMMENT ON COLUMN execution.started_at IS 'When a worker started running the action';
COMMENT ON COLUMN execution.finished_at IS 'When the action finished, failed, timed out or was cancelled';
COMMENT ON COLUMN execution.is_workflow IS 'Whether the execution runs a workflow';
COMMENT ON COLUMN execution.workflow_def IS 'Workflow definition, when the execution runs a workflow';
COMMENT ON COLUMN execution.workflow_task IS 'Task state when the execution runs a workflow task: workflow_execution, task_name, task_index, task_batch, retry_count, max_retries, next_retry_at, timeout_seconds, timed_out';

-- ============================================================================
-- INQUIRY TABLE
-- ============================================================================

CREATE TABLE inquiry (
    id BIGSERIAL PRIMARY KEY,
    execution BIGINT NOT NULL REFERENCES execution(id) ON DELETE CASCADE,
    prompt TEXT NOT NULL,
    response_schema JSONB,
    assigned_to TEXT,
    status inquiry_status_enum NOT NULL DEFAULT 'pending',
    response JSONB,
    timeout_at TIMESTAMPTZ,
    responded_at TIMESTAMPTZ,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Constraints
    CONSTRAINT inquiry_response_when_responded CHECK (
        status <> 'responded' OR response IS NOT NULL
    )
);

-- Indexes
CREATE INDEX idx_inquiry_execution ON inquiry(execution);
CREATE INDEX idx_inquiry_status ON inquiry(status);
CREATE INDEX idx_inquiry_pending_timeout ON inquiry(timeout_at) WHERE status = 'pending';

-- Trigger
CREATE TRIGGER update_inquiry_updated
    BEFORE UPDATE ON inquiry
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE inquiry IS 'Inquiries pause an execution until a person answers a question';
COMMENT ON COLUMN inquiry.prompt IS 'Question shown to the person';
COMMENT ON COLUMN inquiry.response_schema IS 'JSON Schema the response must satisfy';
COMMENT ON COLUMN inquiry.assigned_to IS 'Login or group expected to answer';
COMMENT ON COLUMN inquiry.timeout_at IS 'When a pending inquiry times out';
COMMENT ON COLUMN inquiry.execution IS 'Execution waiting for the answer';
COMMENT ON COLUMN inquiry.response IS 'Answer given, validated against response_schema';

-- ============================================================================
-- WORKFLOW EXECUTION TABLE
-- ============================================================================

CREATE TABLE workflow_execution (
    id BIGSERIAL PRIMARY KEY,
    execution BIGINT NOT NULL UNIQUE REFERENCES execution(id) ON DELETE CASCADE,
    workflow_def BIGINT NOT NULL REFERENCES workflow_definition(id),
    current_tasks TEXT[] NOT NULL DEFAULT '{}',
    completed_tasks TEXT[] NOT NULL DEFAULT '{}',
    failed_tasks TEXT[] NOT NULL DEFAULT '{}',
    skipped_tasks TEXT[] NOT NULL DEFAULT '{}',
    variables JSONB NOT NULL DEFAULT '{}'::jsonb,
    task_graph JSONB NOT NULL,
    status execution_status_enum NOT NULL DEFAULT 'requested',
    error_message TEXT,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    pause_reason TEXT,
    created TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Indexes
CREATE INDEX idx_workflow_execution_workflow_def ON workflow_execution(workflow_def);
CREATE INDEX idx_workflow_execution_status ON workflow_execution(status);
CREATE INDEX idx_workflow_execution_paused ON workflow_execution(paused) WHERE paused = TRUE;
CREATE INDEX idx_workflow_execution_created ON workflow_execution(created DESC);

-- Trigger
CREATE TRIGGER update_workflow_execution_updated
    BEFORE UPDATE ON workflow_execution
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

-- Comments
COMMENT ON TABLE workflow_execution IS 'Runtime state of a workflow: one row per workflow execution';
COMMENT ON COLUMN workflow_execution.execution IS 'The execution that runs the workflow as a whole';
COMMENT ON COLUMN workflow_execution.variables IS 'Workflow variables, updated as tasks publish results';
COMMENT ON COLUMN workflow_execution.task_graph IS 'Task dependency graph computed from the definition';
COMMENT ON COLUMN workflow_execution.workflow_def IS 'Definition the workflow was started from';
COMMENT ON COLUMN workflow_execution.current_tasks IS 'Names of the tasks running now';
COMMENT ON COLUMN workflow_execution.completed_tasks IS 'Names of the tasks that succeeded';
COMMENT ON COLUMN workflow_execution.failed_tasks IS 'Names of the tasks that failed';
COMMENT ON COLUMN workflow_execution.skipped_tasks IS 'Names of the tasks skipped by a transition';
COMMENT ON COLUMN workflow_execution.paused IS 'Whether the workflow is paused';
COMMENT ON COLUMN workflow_execution.pause_reason IS 'Why the workflow was paused';
COMMENT ON COLUMN workflow_execution.error_message IS 'Why the workflow failed';

-- ============================================================================
-- VIEWS
-- ============================================================================

CREATE VIEW workflow_execution_summary AS
SELECT
    we.id,
    we.execution,
    wd.ref AS workflow_ref,
    wd.label AS workflow_label,
    we.status,
    cardinality(we.current_tasks) AS running_tasks,
    cardinality(we.completed_tasks) AS completed_tasks,
    cardinality(we.failed_tasks) AS failed_tasks,
    we.paused,
    e.created AS started,
    e.updated AS last_change
FROM workflow_execution we
JOIN workflow_definition wd ON wd.id = we.workflow_def
JOIN execution e ON e.id = we.execution;

COMMENT ON VIEW workflow_execution_summary IS 'Progress of each workflow execution at a glance';
