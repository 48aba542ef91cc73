package interpreter

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/secflow/secflow/interpreter/step"
)

// The walker moves four kinds of error up the step tree:
//
//   - *failure: an ordinary step failure, catchable by on-failure;
//   - *abort: the step was cancelled because a timeout zone fired (or the
//     run timed out or was cancelled); it is not catchable and becomes a
//     failure of the zone that fired;
//   - *loopSignal: loop.break / loop.continue, consumed by the innermost loop;
//   - *terminate: workflow.output / workflow.fail, ends the run.

// failure is a step failure in Kibana's serialised shape.
type failure struct {
	E *step.Error
	// final marks a failure an operator already decided on (or that timed
	// out waiting for one): it is not parked again further up.
	final bool
}

func (f *failure) Error() string { return f.E.Error() }

// abort is a cancellation caused by zone (nil: the run itself).
type abort struct {
	zone *zone
	E    *step.Error
}

func (a *abort) Error() string { return "aborted: " + a.E.Error() }

// loopSignal is raised by loop.break (brk) and loop.continue.
type loopSignal struct{ brk bool }

func (l *loopSignal) Error() string {
	if l.brk {
		return "loop.break"
	}
	return "loop.continue"
}

// terminate ends the run from workflow.output / workflow.fail.
type terminate struct {
	status string // completed | cancelled | failed
	err    *step.Error
}

func (t *terminate) Error() string { return "workflow terminated: " + t.status }

// zone is a timeout zone (step timeout, iteration timeout, the run's
// settings.timeout). fired is set when its timer went off.
type zone struct {
	parent *zone
	fired  bool
	err    *step.Error
	run    bool // the workflow-level zone
}

// errFor returns the error carried by a failure or abort, if any.
func errFor(err error) *step.Error {
	var f *failure
	if errors.As(err, &f) {
		return f.E
	}
	var a *abort
	if errors.As(err, &a) {
		return a.E
	}
	var t *terminate
	if errors.As(err, &t) {
		return t.err
	}
	return nil
}

// isFailure reports whether err is a catchable step failure.
func isFailure(err error) bool {
	_, ok := err.(*failure)
	return ok
}

// stepTimeoutError is Kibana's text for an exceeded step timeout.
func stepTimeoutError(timeout string) *step.Error {
	return &step.Error{Type: "TimeoutError", Message: fmt.Sprintf("Step execution exceeded the configured timeout of %s.", timeout)}
}

// workflowTimeoutError is the error of steps cut by settings.timeout.
func workflowTimeoutError() *step.Error {
	return &step.Error{Type: "TimeoutError", Message: "Failed due to workflow timeout"}
}

// cancelledError is the error of steps cut by a cancellation of the run.
func cancelledError() *step.Error {
	return &step.Error{Type: "CancelledError", Message: "Workflow execution was cancelled"}
}

// fromActivityError converts an error returned by an activity into a step
// error. timeout is the step's configured timeout text.
func fromActivityError(err error, timeout string) *step.Error {
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return stepTimeoutError(timeout)
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		e := &step.Error{Type: cleanType(ae.Type()), Message: ae.Message()}
		if ae.HasDetails() {
			var d map[string]any
			if ae.Details(&d) == nil && len(d) > 0 {
				e.Details = d
			}
		}
		return e
	}
	var pe *temporal.PanicError
	if errors.As(err, &pe) {
		return &step.Error{Type: "Error", Message: pe.Error()}
	}
	var se *step.Error
	if errors.As(err, &se) {
		return se
	}
	return &step.Error{Type: "Error", Message: err.Error()}
}

// cleanType maps Go error type names ("*errors.errorString") that the SDK
// uses for plain Go errors to Kibana's generic "Error".
func cleanType(t string) string {
	if t == "" || strings.HasPrefix(t, "*") || strings.Contains(t, "errors.") {
		return "Error"
	}
	return t
}
