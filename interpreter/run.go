package interpreter

import (
	"time"

	"github.com/secflow/secflow/interpreter/step"
)

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
	// Resume is the state a run continued as new carries over (set by the
	// interpreter itself; see ResumeState).
	Resume *ResumeState `json:"resume,omitempty"`
}

// ParentRef identifies the run that started a child workflow.
type ParentRef struct {
	WorkflowID  string `json:"workflowId"`
	ExecutionID string `json:"executionId"`
	Depth       int    `json:"depth"`
}

// EngineOptions are the deliberate differences from Kibana that a run may
// turn off (secflow test runs with both off by default), and the run's
// size limits (§7.7; Kibana sets those in its plugin configuration, not in
// the workflow's settings). A workflow.execute child gets its parent's
// options.
type EngineOptions struct {
	// TransientRetry retries network errors, 5xx and 429 of steps without
	// on-failure a bounded number of times (default on).
	TransientRetry *bool `json:"transientRetry,omitempty"`
	// OperatorRecovery parks a run whose failure nothing caught, waiting for
	// a step-control update (default on).
	OperatorRecovery *bool `json:"operatorRecovery,omitempty"`
	// OutputBudget is the most bytes of step outputs (JSON) one run keeps
	// before a step fails with WorkflowOutputBudgetExceeded (0: the
	// default, DefaultOutputBudget = 150 MB).
	OutputBudget int64 `json:"outputBudget,omitempty"`
	// MaxChildOutputSize is the largest child output (JSON bytes)
	// workflow.execute accepts before it fails with
	// WorkflowOutputSizeExceeded (0: the default, DefaultMaxChildOutputSize
	// = 5 MB).
	MaxChildOutputSize int64 `json:"maxChildOutputSize,omitempty"`
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

// ResumeState is what a run hands to the run it continues as new at a
// top-level step boundary (see continue.go): where to go on and everything
// templates, queries and the result of the run can still see.
type ResumeState struct {
	// Next is the index in the definition's top-level steps of the step to
	// run next.
	Next int `json:"next"`
	// Iteration, when > 0, says step Next is a foreach that already ran
	// that many iterations: it goes on with the next one (its items and
	// state are in Results).
	Iteration int `json:"iteration,omitempty"`
	// Frames, when set, is the cursor of a run continued as new between
	// the iterations of a top-level while or of a loop nested in
	// if/foreach/while steps (Frames[0].Step is Next; see ResumeFrame).
	Frames []ResumeFrame `json:"frames,omitempty"`
	// StartedAt is execution.startedAt of the first run.
	StartedAt time.Time `json:"startedAt"`
	// Runs counts the runs before this one.
	Runs int `json:"runs"`
	// Inputs are the run inputs after defaults and validation.
	Inputs map[string]any `json:"inputs,omitempty"`
	// Variables are `variables`.
	Variables map[string]any `json:"variables,omitempty"`
	// Results are the step results visible to later steps, by name.
	Results map[string]ResumeResult `json:"results,omitempty"`
	// Aliases maps synthetic result names (foreach_<name>, workflow-level
	// fallback clones) to the name of the step they belong to.
	Aliases map[string]string `json:"aliases,omitempty"`
	// Output is the run output set so far (workflow.output).
	Output map[string]any `json:"output,omitempty"`
	// Records and DroppedRecords are the step records of the state query.
	Records        []StepRecord `json:"records,omitempty"`
	DroppedRecords int          `json:"droppedRecords,omitempty"`
	// Log is the execution log of a child run (for its parent's
	// workflow.execute output).
	Log []ResumeLogEntry `json:"log,omitempty"`
	// CaseID is the CaseId search attribute already set.
	CaseID string `json:"caseId,omitempty"`
	// OutputBytes is the size of the step outputs so far, for the run's
	// output budget (limits.go).
	OutputBytes int64 `json:"outputBytes,omitempty"`
}

// ResumeResult is one carried step result ({input, output, error} and its
// state).
type ResumeResult struct {
	Input     any            `json:"input,omitempty"`
	Output    any            `json:"output,omitempty"`
	HasOutput bool           `json:"hasOutput,omitempty"`
	Error     *step.Error    `json:"error,omitempty"`
	State     map[string]any `json:"state,omitempty"`
}

// ResumeLogEntry is one carried entry of a child run's execution log.
type ResumeLogEntry struct {
	Path      string `json:"path"`
	Output    any    `json:"output,omitempty"`
	HasOutput bool   `json:"hasOutput,omitempty"`
}
