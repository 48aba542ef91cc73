package interpreter

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter/step"
)

// DefaultOperatorTimeout is how long a failed step waits for an operator
// when settings.operator-timeout is not set.
const DefaultOperatorTimeout = 24 * time.Hour

// parkedStep is a failed step waiting for a step-control request.
type parkedStep struct {
	path string
	err  *step.Error
	req  *ControlRequest
}

// shouldPark reports whether err is a failure that nothing in the YAML
// will catch and that an operator may steer instead (issue 4 item 7).
func (r *run) shouldPark(ctx workflow.Context, sc *scope, err error) bool {
	f, ok := err.(*failure)
	if !ok || f.final || sc.caught || !r.operator || r.operatorWait <= 0 {
		return false
	}
	return ctx.Err() == nil
}

// park waits for a step-control request about path, at most the operator
// timeout. It returns nil (and no error) when the wait timed out.
func (r *run) park(ctx workflow.Context, sc *scope, path string, e *step.Error) (*ControlRequest, error) {
	p := &parkedStep{path: path, err: e}
	r.parked[path] = p
	since := r.now()
	until := since.Add(r.operatorWait)
	hint := jsonMarshal(ControlRequest{Step: path, Action: ActionRetry})
	msg := fmt.Sprintf("Step %s failed and waits for an operator until %s. "+
		"Send the update or signal %q with %s (action: retry | skip | fail; skip may carry an \"output\").",
		path, until.UTC().Format(time.RFC3339), StepControl, hint)
	r.setWaiting(&Waiting{Kind: "operator", Step: path, Since: since, Until: &until, Error: e, Message: msg})
	r.setStatus(StatusWaitingForOperator, path)
	workflow.SetCurrentDetails(r.ctx, fmt.Sprintf("**%s** failed: %s\n\n%s", path, e.Error(), msg))
	workflow.GetLogger(r.ctx).Warn("step parked for an operator", "step", path, "errorType", e.Type)

	ok, err := workflow.AwaitWithTimeout(ctx, r.operatorWait, func() bool { return p.req != nil })
	delete(r.parked, path)
	r.setWaiting(nil)
	workflow.SetCurrentDetails(r.ctx, "")
	r.setStatus(StatusRunning, "")
	if err != nil {
		return nil, r.abortFor(sc)
	}
	if !ok {
		return nil, nil
	}
	return p.req, nil
}

// validateControl is the validator of the step-control update: the step
// must be parked and the action known.
func (r *run) validateControl(req ControlRequest) error {
	switch req.Action {
	case ActionRetry, ActionSkip, ActionFail:
	default:
		return fmt.Errorf("unknown action %q: use retry, skip or fail", req.Action)
	}
	p, ok := r.parked[req.Step]
	if !ok {
		if len(r.parked) == 0 {
			return fmt.Errorf("step %q is not waiting for an operator (no step is)", req.Step)
		}
		return fmt.Errorf("step %q is not waiting for an operator (waiting: %v)", req.Step, keysSorted(r.parked))
	}
	if p.req != nil {
		return fmt.Errorf("step %q already received %q", req.Step, p.req.Action)
	}
	return nil
}

// applyControl hands a validated request to the parked step.
func (r *run) applyControl(req ControlRequest) {
	if p, ok := r.parked[req.Step]; ok && p.req == nil {
		rq := req
		p.req = &rq
	}
}

// setWaiting sets what the run waits for (nil: nothing).
func (r *run) setWaiting(w *Waiting) { r.waiting = w }

// saState tracks the search attribute values last upserted, so unchanged
// values cost no history event.
type saState struct {
	enabled     bool
	stepStatus  string
	currentStep string
	caseID      string
}

// setStatus sets the run status and keeps StepStatus / CurrentStep up to
// date. Search attributes change only on status transitions (running,
// waiting, waiting_for_operator, terminal), not on every step.
func (r *run) setStatus(status, current string) {
	r.status = status
	if r.sa == nil || !r.sa.enabled {
		return
	}
	var ups []temporal.SearchAttributeUpdate
	if status != r.sa.stepStatus {
		ups = append(ups, searchattr.StepStatus.ValueSet(status))
		r.sa.stepStatus = status
	}
	if current != r.sa.currentStep {
		if current == "" {
			ups = append(ups, searchattr.CurrentStep.ValueUnset())
		} else {
			ups = append(ups, searchattr.CurrentStep.ValueSet(current))
		}
		r.sa.currentStep = current
	}
	if len(ups) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(r.ctx, ups...); err != nil {
			workflow.GetLogger(r.ctx).Warn("upserting search attributes failed", "error", err)
		}
	}
}

// noteCase records the CaseId search attribute from a cases.createCase output.
func (r *run) noteCase(out any) {
	m, _ := out.(map[string]any)
	c, _ := m["case"].(map[string]any)
	id, _ := c["id"].(string)
	if id == "" || r.sa == nil || !r.sa.enabled || id == r.sa.caseID {
		return
	}
	r.sa.caseID = id
	if err := workflow.UpsertTypedSearchAttributes(r.ctx, searchattr.CaseID.ValueSet(id)); err != nil {
		workflow.GetLogger(r.ctx).Warn("upserting CaseId failed", "error", err)
	}
}

// runningStep is the state query's currentStep: the innermost running
// step, or the step the run waits on.
func (r *run) runningStep() string {
	if p := r.records.running(); p != "" {
		return p
	}
	if r.waiting != nil {
		return r.waiting.Step
	}
	return r.currentStep
}
