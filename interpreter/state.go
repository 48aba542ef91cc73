package interpreter

import (
	"sort"
	"time"

	"github.com/secflow/secflow/interpreter/step"
)

// Run and step statuses (§7.1 plus secflow's waiting_for_operator).
const (
	StatusRunning            = "running"
	StatusWaiting            = "waiting"
	StatusWaitingForOperator = "waiting_for_operator"
	StatusWaitingForInput    = "waiting_for_input"
	StatusCompleted          = "completed"
	StatusFailed             = "failed"
	StatusCancelled          = "cancelled"
	StatusTimedOut           = "timed_out"
	StatusSkipped            = "skipped"
)

// maxStepRecords bounds the step records kept for the "state" query, so a
// long loop cannot grow the query result without limit.
const maxStepRecords = 200

// State is the result of the "state" query.
type State struct {
	Definition  string       `json:"definition"`
	Revision    string       `json:"revision"`
	Status      string       `json:"status"`
	CurrentStep string       `json:"currentStep,omitempty"`
	Steps       []StepRecord `json:"steps"`
	// DroppedSteps counts the oldest records left out to bound the size.
	DroppedSteps int            `json:"droppedSteps,omitempty"`
	WaitingFor   *Waiting       `json:"waitingFor,omitempty"`
	Output       map[string]any `json:"output,omitempty"`
	Error        *step.Error    `json:"error,omitempty"`
}

// Results is the result of the "steps" query.
type Results struct {
	// Steps maps a step name to its latest execution {input, output,
	// error} merged with its state, as templates see it (all steps, not
	// only predecessors of some step).
	Steps     map[string]any `json:"steps"`
	Variables map[string]any `json:"variables"`
	Output    map[string]any `json:"output,omitempty"`
}

// StepRecord is one execution of one step (one per attempt of a
// workflow-side retry, one per loop iteration).
type StepRecord struct {
	Path       string      `json:"path"`
	Type       string      `json:"type"`
	Status     string      `json:"status"`
	Attempts   int         `json:"attempts"`
	StartedAt  time.Time   `json:"startedAt"`
	FinishedAt *time.Time  `json:"finishedAt,omitempty"`
	Error      *step.Error `json:"error,omitempty"`
}

// Waiting says what a run is waiting for.
type Waiting struct {
	// Kind is "operator" (a parked failure), "input" (waitForInput /
	// waitForApproval), "timer" (a wait step) or "retry" (a retry delay).
	Kind  string     `json:"kind"`
	Step  string     `json:"step"`
	Since time.Time  `json:"since"`
	Until *time.Time `json:"until,omitempty"`
	// Error is the failure an operator is asked to handle.
	Error *step.Error `json:"error,omitempty"`
	// Message tells an operator what to send.
	Message string `json:"message,omitempty"`
}

// ControlRequest is the argument of the step-control update and signal.
type ControlRequest struct {
	// Step is the path of the parked step (see State.WaitingFor.Step).
	Step string `json:"step"`
	// Action is retry, skip or fail.
	Action string `json:"action"`
	// Output is the step output to use with skip.
	Output any `json:"output,omitempty"`
}

// ControlResponse is the result of the step-control update.
type ControlResponse struct {
	Step   string `json:"step"`
	Action string `json:"action"`
}

// Control actions.
const (
	ActionRetry = "retry"
	ActionSkip  = "skip"
	ActionFail  = "fail"
)

// result is the latest execution of one step as templates see it:
// {input, output, error} merged with the step's state.
type result struct {
	input     any
	output    any
	hasOutput bool
	err       *step.Error
	state     map[string]any
}

// value returns the template view of r.
func (r *result) value() map[string]any {
	m := make(map[string]any, len(r.state)+3)
	for _, k := range keysSorted(r.state) {
		m[k] = r.state[k]
	}
	if r.input != nil {
		m["input"] = r.input
	}
	if r.hasOutput {
		m["output"] = r.output
	}
	if r.err != nil {
		m["error"] = errorValue(r.err)
	}
	return m
}

// store holds step results by name. A dynamic parallel branch gets a child
// store so that each branch sees its own steps.* (reads fall back to the
// parent, writes stay in the branch).
type store struct {
	parent  *store
	results map[string]*result
}

func newStore(parent *store) *store {
	return &store{parent: parent, results: map[string]*result{}}
}

// get returns the latest result of name, looking through parents.
func (s *store) get(name string) *result {
	for c := s; c != nil; c = c.parent {
		if r, ok := c.results[name]; ok {
			return r
		}
	}
	return nil
}

// put replaces the result of name in s.
func (s *store) put(name string, r *result) { s.results[name] = r }

// names returns every name visible through s, sorted.
func (s *store) names() []string {
	seen := map[string]bool{}
	var out []string
	for c := s; c != nil; c = c.parent {
		for _, k := range keysSorted(c.results) {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// errorValue is the template view of a step error.
func errorValue(e *step.Error) map[string]any {
	if e == nil {
		return nil
	}
	m := map[string]any{"type": e.Type, "message": e.Message}
	if e.Details != nil {
		m["details"] = e.Details
	}
	return m
}

// keysSorted returns the keys of m in sorted order (deterministic iteration).
func keysSorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	// The keys are sorted below, so the map order does not show.
	//workflowcheck:ignore
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// records is the bounded list of step records of a run.
type records struct {
	list    []*StepRecord
	dropped int
}

func (rs *records) add(r *StepRecord) {
	if len(rs.list) >= maxStepRecords {
		copy(rs.list, rs.list[1:])
		rs.list = rs.list[:len(rs.list)-1]
		rs.dropped++
	}
	rs.list = append(rs.list, r)
}

func (rs *records) snapshot() []StepRecord {
	out := make([]StepRecord, len(rs.list))
	for i, r := range rs.list {
		out[i] = *r
	}
	return out
}

// running returns the path of the most recently started step that is still
// running (the innermost one), or "".
func (rs *records) running() string {
	for i := len(rs.list) - 1; i >= 0; i-- {
		if rs.list[i].Status == StatusRunning {
			return rs.list[i].Path
		}
	}
	return ""
}
