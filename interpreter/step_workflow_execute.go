package interpreter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter/step"
)

// step_workflow_execute.go: workflow.execute and workflow.executeAsync
// (§6.1.10). The child is a run of the interpreter workflow whose type is
// `with.workflow-id` (a definition id), with workflow ID
// "<parent workflow ID>/<step path>", input {inputs, triggeredBy:
// workflow-step, parent: {workflowId, executionId, depth}} and the parent's
// engine options; it loads the current revision of its definition itself.
//
// workflow.execute waits (run status waiting_for_child). Its output is the
// child's workflow.output values if any, else the output of the child's
// last top-level step (RunResult.LastStepOutput). A failed child fails the
// step with the child's error; as in Kibana, a child that ends cancelled
// or timed out does not fail the step. workflow.executeAsync starts the
// child with ParentClosePolicy ABANDON and completes at once with
// {workflowId, executionId, awaited: false, status: "running", startedAt}.
// A child output over EngineOptions.MaxChildOutputSize (5 MB) fails the
// step with WorkflowOutputSizeExceeded (§6.1.10, limits.go).

func init() {
	define("workflow.execute", false, func(c *call) (any, error) { return c.executeChild(false) })
	define("workflow.executeAsync", false, func(c *call) (any, error) { return c.executeChild(true) })
}

// StatusWaitingForChild is the run status while workflow.execute waits.
const StatusWaitingForChild = "waiting_for_child"

// MaxChildDepth bounds the nesting of workflow.execute (a child of a child
// …), so a definition that runs itself cannot recurse without end.
const MaxChildDepth = 10

// ErrTypeChildDepth is the error type of a workflow.execute beyond MaxChildDepth.
const ErrTypeChildDepth = "WorkflowDepthExceeded"

func (c *call) executeChild(async bool) (any, error) {
	with, err := c.renderWith()
	if err != nil {
		return nil, err
	}
	c.input = with
	defID, _ := with["workflow-id"].(string)
	defID = strings.TrimSpace(defID)
	if defID == "" {
		return nil, step.Errorf("Error", "Step %s: with.workflow-id must name a workflow.", c.s.Name)
	}
	var inputs map[string]any
	switch v := with["inputs"].(type) {
	case nil:
	case map[string]any:
		inputs = v
	default:
		return nil, step.Errorf("Error", "Step %s: with.inputs must be an object, got %s.", c.s.Name, jsTypeOf(v))
	}
	r := c.r
	depth := r.depth() + 1
	if depth > MaxChildDepth {
		return nil, step.Errorf(ErrTypeChildDepth, "Step %s cannot start workflow %q: nesting depth %d exceeds the maximum of %d.",
			c.s.Name, defID, depth, MaxChildDepth)
	}
	childID := r.wfID + "/" + c.path
	opts := workflow.ChildWorkflowOptions{
		WorkflowID:        childID,
		StaticSummary:     fmt.Sprintf("%s (%s %s)", c.s.Name, c.s.Type, defID),
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
	}
	if async {
		opts.ParentClosePolicy = enumspb.PARENT_CLOSE_POLICY_ABANDON
	}
	if r.sa != nil && r.sa.enabled {
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(searchattr.TriggerType.ValueSet(TriggeredByStep))
	}
	in := RunInput{
		Inputs:      inputs,
		TriggeredBy: TriggeredByStep,
		SpaceID:     r.spaceID(),
		Parent:      &ParentRef{WorkflowID: r.wfID, ExecutionID: r.runID, Depth: depth},
		Engine:      r.engineOptions(),
	}
	fut := workflow.ExecuteChildWorkflow(workflow.WithChildOptions(c.ctx, opts), defID, in)

	if async {
		var we workflow.Execution
		if err := fut.GetChildWorkflowExecution().Get(c.ctx, &we); err != nil {
			return nil, c.childStartError(defID, err)
		}
		return map[string]any{
			"workflowId":  we.ID,
			"executionId": we.RunID,
			"awaited":     false,
			"status":      StatusRunning,
			"startedAt":   isoTime(r.now()),
		}, nil
	}

	since := r.now()
	r.setWaiting(&Waiting{Kind: "child", Step: c.path, Since: since,
		Message: fmt.Sprintf("Step %s waits for child workflow %s (%s).", c.path, childID, defID)})
	r.setStatus(StatusWaitingForChild, c.path)
	resume := r.branchWaits(c.sc)
	var res RunResult
	err = fut.Get(c.ctx, &res)
	r.setWaiting(nil)
	r.setStatus(StatusRunning, "")
	if rerr := resume(c.ctx); rerr != nil && err == nil {
		err = rerr
	}
	switch {
	case err == nil:
		out := childOutput(&res)
		if e := r.checkChildOutput(c.ctx, c.s, defID, out); e != nil {
			return nil, e
		}
		return out, nil
	case c.ctx.Err() != nil:
		return nil, err // the step itself is cancelled
	}
	if cr, ok := ResultFromError(err); ok {
		if cr.Status == StatusFailed {
			return nil, &failure{E: childError(cr)}
		}
		out := childOutput(cr) // timed_out: Kibana fails the parent only on failed
		if e := r.checkChildOutput(c.ctx, c.s, defID, out); e != nil {
			return nil, e
		}
		return out, nil
	}
	if temporal.IsCanceledError(err) {
		return nil, nil // cancelled from outside: does not fail the parent either
	}
	return nil, c.childStartError(defID, err)
}

// childOutput is the step output for a finished child run.
func childOutput(res *RunResult) any {
	if len(res.Output) > 0 {
		return res.Output
	}
	return res.LastStepOutput
}

// childError is the error a failed child gives its parent step: the
// child's error; when its message is empty, the child's output.message,
// else "Sub-workflow execution failed".
func childError(res *RunResult) *step.Error {
	e := &step.Error{Type: "Error"}
	if res.Error != nil {
		c := *res.Error
		e = &c
		if e.Type == "" {
			e.Type = "Error"
		}
	}
	if strings.TrimSpace(e.Message) == "" {
		e.Message = "Sub-workflow execution failed"
		if m, ok := res.Output["message"]; ok && m != nil {
			e.Message = jsString(m)
		}
	}
	return e
}

// childStartError is the step error when the child could not be started
// or ended without a run result (terminated).
func (c *call) childStartError(defID string, err error) error {
	var se *temporal.ChildWorkflowExecutionAlreadyStartedError
	if errors.As(err, &se) {
		return &failure{E: step.Errorf("Error", "Sub-workflow %q could not be started: a run with workflow ID %q already exists.",
			defID, c.r.wfID+"/"+c.path)}
	}
	cause := err
	for u := errors.Unwrap(cause); u != nil; u = errors.Unwrap(cause) {
		cause = u
	}
	return &failure{E: step.Errorf("Error", "Sub-workflow %q failed: %s", defID, cause.Error())}
}

// depth is the nesting depth of the run (0 for a run no step started).
func (r *run) depth() int {
	p, _ := r.base["parent"].(map[string]any)
	d, _ := toInt(p["depth"])
	return d
}

// engineOptions are the run's engine options, handed down to children.
func (r *run) engineOptions() *EngineOptions {
	tr, op := r.transientRetry, r.operator
	o := &EngineOptions{TransientRetry: &tr, OperatorRecovery: &op}
	if r.outputBudget != DefaultOutputBudget {
		o.OutputBudget = r.outputBudget
	}
	if r.maxChildOutput != DefaultMaxChildOutputSize {
		o.MaxChildOutputSize = r.maxChildOutput
	}
	return o
}

// isoTime formats t as JavaScript's Date.toISOString does.
func isoTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
