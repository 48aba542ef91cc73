package interpreter

import "github.com/secflow/secflow/interpreter/step"

// DefaultTaskQueue is the Temporal task queue the worker polls.
const DefaultTaskQueue = "secflow"

// Trigger kinds reported as execution.triggeredBy and the TriggerType search attribute.
const (
	TriggeredByManual    = "manual"
	TriggeredByAlert     = "alert"
	TriggeredByScheduled = "scheduled"
	TriggeredByStep      = "workflow-step"
)

// RunInput is the input of the interpreter workflow. Every field is
// optional, so `temporal workflow start --type <definition-id> --input
// '{"inputs":{...}}'` works: when Definition is nil the worker loads the
// current revision once, through a local activity recorded in history, and
// the run stays pinned to it.
type RunInput struct {
	// Definition is the pinned definition the run executes.
	Definition *Definition `json:"definition,omitempty"`
	// Inputs are the manual/child inputs before defaults are applied.
	Inputs map[string]any `json:"inputs,omitempty"`
	// Event is the trigger payload (the alert event of §8.1).
	Event map[string]any `json:"event,omitempty"`
	// EventRef points at the event in the blob store when it was too large
	// to pass inline.
	EventRef string `json:"eventRef,omitempty"`
	// TriggeredBy is one of the TriggeredBy* constants (default manual).
	TriggeredBy string `json:"triggeredBy,omitempty"`
	// SpaceID is the Kibana space of the run (default "default").
	SpaceID string `json:"spaceId,omitempty"`
	// Parent identifies the parent run for workflow.execute children.
	Parent *ParentRef `json:"parent,omitempty"`
	// Engine overrides engine behaviour for this run (tests, `secflow test`).
	Engine *EngineOptions `json:"engine,omitempty"`
}

// ParentRef identifies the run that started a child workflow.
type ParentRef struct {
	WorkflowID  string `json:"workflowId"`
	ExecutionID string `json:"executionId"`
	Depth       int    `json:"depth"`
}

// EngineOptions are the deliberate differences from Kibana that a run may
// turn off (secflow test runs with both off by default).
type EngineOptions struct {
	// TransientRetry retries network errors, 5xx and 429 of steps without
	// on-failure a bounded number of times (default on).
	TransientRetry *bool `json:"transientRetry,omitempty"`
	// OperatorRecovery parks a run whose failure nothing caught, waiting for
	// a step-control update (default on).
	OperatorRecovery *bool `json:"operatorRecovery,omitempty"`
}

// RunResult is the result of the interpreter workflow.
type RunResult struct {
	// Status is completed | failed | cancelled | timed_out.
	Status string         `json:"status"`
	Output map[string]any `json:"output,omitempty"`
	Error  *step.Error    `json:"error,omitempty"`
	// LastStepOutput is set for runs started by workflow.execute that
	// emitted no workflow.output: the output of their last top-level step,
	// which the parent step takes as its output (§6.1.10).
	LastStepOutput any `json:"lastStepOutput,omitempty"`
}
