-- 00005_execution_system
--
-- Enforcements (a rule matched an event), executions (an action run), inquiries,
-- concurrency policies and workflows. A workflow's task state lives in
-- execution.workflow_task.
--
-- Tables: enforcement, policy, workflow_definition, execution, inquiry,
--     workflow_execution.
-- Views: workflow_execution_summary.
-- Triggers: enforcement.update_enforcement_updated, execution.update_execution_updated,
--     inquiry.update_inquiry_updated, policy.update_policy_updated,
--     workflow_definition.update_workflow_definition_updated,
--     workflow_execution.update_workflow_execution_updated.
--
-- From the history: 20250101000004_execution_system.sql,
--     20260127212500_consolidate_workflow_task_execution.sql.

CREATE TABLE enforcement (
    id BIGSERIAL PRIMARY KEY,
    rule bigint REFERENCES rule(id) ON DELETE SET NULL,
    rule_ref text NOT NULL,
    trigger_ref text NOT NULL,
    config jsonb,
    event bigint REFERENCES event(id) ON DELETE SET NULL,
    status enforcement_status_enum DEFAULT 'created'::enforcement_status_enum NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    condition enforcement_condition_enum DEFAULT 'all'::enforcement_condition_enum NOT NULL,
    conditions jsonb DEFAULT '[]'::jsonb NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL
);

CREATE INDEX idx_enforcement_created ON enforcement (created DESC);
CREATE INDEX idx_enforcement_event ON enforcement (event);
CREATE INDEX idx_enforcement_rule ON enforcement (rule);
CREATE INDEX idx_enforcement_rule_status ON enforcement (rule, status);
CREATE INDEX idx_enforcement_status ON enforcement (status);

COMMENT ON TABLE enforcement IS 'Enforcements record that a rule matched an event';
COMMENT ON COLUMN enforcement.rule_ref IS 'Rule reference, kept when the rule is deleted';
COMMENT ON COLUMN enforcement.event IS 'Event that activated the rule';
COMMENT ON COLUMN enforcement.payload IS 'Event payload as seen by the rule';
COMMENT ON COLUMN enforcement.condition IS 'Whether any or all conditions had to match';
COMMENT ON COLUMN enforcement.conditions IS 'Conditions of the rule at the time of matching';

CREATE TABLE policy (
    id BIGSERIAL PRIMARY KEY,
    ref text NOT NULL UNIQUE,
    pack bigint REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref text,
    action bigint REFERENCES action(id) ON DELETE CASCADE,
    action_ref text,
    parameters text[] DEFAULT '{}'::text[] NOT NULL,
    method policy_method_enum NOT NULL,
    threshold integer NOT NULL,
    name text NOT NULL,
    description text,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT policy_ref_format CHECK (ref ~ '^[^.]+\.[^.]+$'::text),
    CONSTRAINT policy_ref_lowercase CHECK (ref = lower(ref)),
    CONSTRAINT policy_threshold_positive CHECK (threshold > 0)
);

CREATE INDEX idx_policy_action ON policy (action);
CREATE INDEX idx_policy_pack ON policy (pack);
CREATE INDEX idx_policy_tags ON policy USING gin (tags);

COMMENT ON TABLE policy IS 'Concurrency policies limit how many executions of an action run at once';
COMMENT ON COLUMN policy.ref IS 'Unique policy reference (format: pack.name)';
COMMENT ON COLUMN policy.action IS 'Action the policy applies to';
COMMENT ON COLUMN policy.parameters IS 'Action parameters whose values partition the count';
COMMENT ON COLUMN policy.method IS 'What happens to executions beyond the threshold';
COMMENT ON COLUMN policy.threshold IS 'Number of concurrent executions allowed';

CREATE TABLE workflow_definition (
    id BIGSERIAL PRIMARY KEY,
    ref character varying(255) NOT NULL UNIQUE,
    pack bigint NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    pack_ref character varying(255) NOT NULL,
    label character varying(255) NOT NULL,
    description text,
    version character varying(50) NOT NULL,
    param_schema jsonb,
    out_schema jsonb,
    definition jsonb NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL
);

CREATE INDEX idx_workflow_definition_enabled ON workflow_definition (enabled) WHERE (enabled = true);
CREATE INDEX idx_workflow_definition_pack ON workflow_definition (pack);
CREATE INDEX idx_workflow_definition_tags ON workflow_definition USING gin (tags);

COMMENT ON TABLE workflow_definition IS 'Workflows are actions composed of tasks, defined in YAML and stored as JSON';
COMMENT ON COLUMN workflow_definition.ref IS 'Unique workflow reference (format: pack.name)';
COMMENT ON COLUMN workflow_definition.label IS 'Human-readable workflow name';
COMMENT ON COLUMN workflow_definition.version IS 'Semantic version of the workflow';
COMMENT ON COLUMN workflow_definition.param_schema IS 'JSON Schema of the workflow input';
COMMENT ON COLUMN workflow_definition.out_schema IS 'JSON Schema of the workflow output';
COMMENT ON COLUMN workflow_definition.definition IS 'Complete workflow specification: tasks, transitions, variables';
COMMENT ON COLUMN workflow_definition.tags IS 'Free-form tags for search';
COMMENT ON COLUMN workflow_definition.enabled IS 'Whether the workflow may be started';

CREATE TABLE execution (
    id BIGSERIAL PRIMARY KEY,
    action bigint REFERENCES action(id) ON DELETE SET NULL,
    action_ref text NOT NULL,
    config jsonb,
    parent bigint REFERENCES execution(id) ON DELETE SET NULL,
    enforcement bigint REFERENCES enforcement(id) ON DELETE SET NULL,
    status execution_status_enum DEFAULT 'requested'::execution_status_enum NOT NULL,
    result jsonb,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    is_workflow boolean DEFAULT false NOT NULL,
    workflow_def bigint REFERENCES workflow_definition(id),
    workflow_task jsonb,
    CONSTRAINT execution_finished_after_started CHECK ((finished_at IS NULL) OR (started_at IS NULL) OR (finished_at >= started_at))
);

CREATE INDEX idx_execution_action ON execution (action);
CREATE INDEX idx_execution_action_ref ON execution (action_ref);
CREATE INDEX idx_execution_active ON execution (created) WHERE (status = ANY (ARRAY['requested'::execution_status_enum, 'scheduling'::execution_status_enum, 'scheduled'::execution_status_enum, 'running'::execution_status_enum, 'canceling'::execution_status_enum]));
CREATE INDEX idx_execution_created ON execution (created DESC);
CREATE INDEX idx_execution_enforcement ON execution (enforcement);
CREATE INDEX idx_execution_is_workflow ON execution (is_workflow) WHERE (is_workflow = true);
CREATE INDEX idx_execution_parent ON execution (parent);
CREATE INDEX idx_execution_status ON execution (status);
CREATE INDEX idx_execution_status_created ON execution (status, created DESC);
CREATE INDEX idx_execution_workflow_def ON execution (workflow_def);
CREATE INDEX idx_execution_workflow_task ON execution USING gin (workflow_task) WHERE (workflow_task IS NOT NULL);

COMMENT ON TABLE execution IS 'Executions are runs of an action';
COMMENT ON COLUMN execution.action_ref IS 'Action reference, kept when the action is deleted';
COMMENT ON COLUMN execution.config IS 'Parameters the action was run with';
COMMENT ON COLUMN execution.parent IS 'Parent execution, for child executions';
COMMENT ON COLUMN execution.enforcement IS 'Enforcement that started the execution, if any';
COMMENT ON COLUMN execution.status IS 'Lifecycle state; see execution_status_enum';
COMMENT ON COLUMN execution.result IS 'Output of the action';
COMMENT ON COLUMN execution.started_at IS 'When a worker started running the action';
COMMENT ON COLUMN execution.finished_at IS 'When the action finished, failed, timed out or was cancelled';
COMMENT ON COLUMN execution.is_workflow IS 'Whether the execution runs a workflow';
COMMENT ON COLUMN execution.workflow_def IS 'Workflow definition, when the execution runs a workflow';
COMMENT ON COLUMN execution.workflow_task IS 'Task state when the execution runs a workflow task: workflow_execution, task_name, task_index, task_batch, retry_count, max_retries, next_retry_at, timeout_seconds, timed_out';

CREATE TABLE inquiry (
    id BIGSERIAL PRIMARY KEY,
    execution bigint NOT NULL REFERENCES execution(id) ON DELETE CASCADE,
    prompt text NOT NULL,
    response_schema jsonb,
    assigned_to text,
    status inquiry_status_enum DEFAULT 'pending'::inquiry_status_enum NOT NULL,
    response jsonb,
    timeout_at timestamp with time zone,
    responded_at timestamp with time zone,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT inquiry_response_when_responded CHECK ((status <> 'responded'::inquiry_status_enum) OR (response IS NOT NULL))
);

CREATE INDEX idx_inquiry_execution ON inquiry (execution);
CREATE INDEX idx_inquiry_pending_timeout ON inquiry (timeout_at) WHERE (status = 'pending'::inquiry_status_enum);
CREATE INDEX idx_inquiry_status ON inquiry (status);

COMMENT ON TABLE inquiry IS 'Inquiries pause an execution until a person answers a question';
COMMENT ON COLUMN inquiry.execution IS 'Execution waiting for the answer';
COMMENT ON COLUMN inquiry.prompt IS 'Question shown to the person';
COMMENT ON COLUMN inquiry.response_schema IS 'JSON Schema the response must satisfy';
COMMENT ON COLUMN inquiry.assigned_to IS 'Login or group expected to answer';
COMMENT ON COLUMN inquiry.response IS 'Answer given, validated against response_schema';
COMMENT ON COLUMN inquiry.timeout_at IS 'When a pending inquiry times out';

CREATE TABLE workflow_execution (
    id BIGSERIAL PRIMARY KEY,
    execution bigint NOT NULL UNIQUE REFERENCES execution(id) ON DELETE CASCADE,
    workflow_def bigint NOT NULL REFERENCES workflow_definition(id),
    current_tasks text[] DEFAULT '{}'::text[] NOT NULL,
    completed_tasks text[] DEFAULT '{}'::text[] NOT NULL,
    failed_tasks text[] DEFAULT '{}'::text[] NOT NULL,
    skipped_tasks text[] DEFAULT '{}'::text[] NOT NULL,
    variables jsonb DEFAULT '{}'::jsonb NOT NULL,
    task_graph jsonb NOT NULL,
    status execution_status_enum DEFAULT 'requested'::execution_status_enum NOT NULL,
    error_message text,
    paused boolean DEFAULT false NOT NULL,
    pause_reason text,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL
);

CREATE INDEX idx_workflow_execution_created ON workflow_execution (created DESC);
CREATE INDEX idx_workflow_execution_paused ON workflow_execution (paused) WHERE (paused = true);
CREATE INDEX idx_workflow_execution_status ON workflow_execution (status);
CREATE INDEX idx_workflow_execution_workflow_def ON workflow_execution (workflow_def);

COMMENT ON TABLE workflow_execution IS 'Runtime state of a workflow: one row per workflow execution';
COMMENT ON COLUMN workflow_execution.execution IS 'The execution that runs the workflow as a whole';
COMMENT ON COLUMN workflow_execution.workflow_def IS 'Definition the workflow was started from';
COMMENT ON COLUMN workflow_execution.current_tasks IS 'Names of the tasks running now';
COMMENT ON COLUMN workflow_execution.completed_tasks IS 'Names of the tasks that succeeded';
COMMENT ON COLUMN workflow_execution.failed_tasks IS 'Names of the tasks that failed';
COMMENT ON COLUMN workflow_execution.skipped_tasks IS 'Names of the tasks skipped by a transition';
COMMENT ON COLUMN workflow_execution.variables IS 'Workflow variables, updated as tasks publish results';
COMMENT ON COLUMN workflow_execution.task_graph IS 'Task dependency graph computed from the definition';
COMMENT ON COLUMN workflow_execution.error_message IS 'Why the workflow failed';
COMMENT ON COLUMN workflow_execution.paused IS 'Whether the workflow is paused';
COMMENT ON COLUMN workflow_execution.pause_reason IS 'Why the workflow was paused';

CREATE VIEW workflow_execution_summary AS
 SELECT we.id,
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

CREATE TRIGGER update_enforcement_updated
    BEFORE UPDATE ON enforcement
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_execution_updated
    BEFORE UPDATE ON execution
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_inquiry_updated
    BEFORE UPDATE ON inquiry
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_policy_updated
    BEFORE UPDATE ON policy
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_workflow_definition_updated
    BEFORE UPDATE ON workflow_definition
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();

CREATE TRIGGER update_workflow_execution_updated
    BEFORE UPDATE ON workflow_execution
    FOR EACH ROW
    EXECUTE FUNCTION update_updated_column();
