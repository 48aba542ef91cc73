package interpreter_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/secflow/secflow/interpreter"
)

// Operator recovery (issue 4 item 7): a failure nothing in the YAML catches
// parks the run; step-control retry / skip / fail steer it.

const parkDef = `
steps:
  - { name: first, type: console, with: { message: one } }
  - name: loop
    type: foreach
    foreach: "[1]"
    steps:
      - { name: enrich, type: test.fixable, with: { q: x } }
  - { name: after, type: console, with: { message: "enrich={{ steps.enrich.output.fixed }}" } }
`

var operatorOn = &interpreter.EngineOptions{TransientRetry: off()}

// control sends a step-control update after delay and records the outcome.
type control struct {
	accepted bool
	rejected error
}

func sendControl(env *testsuite.TestWorkflowEnvironment, delay time.Duration, req interpreter.ControlRequest, before func(), out *control) {
	env.RegisterDelayedCallback(func() {
		if before != nil {
			before()
		}
		env.UpdateWorkflow(interpreter.StepControl, fmt.Sprintf("u-%s-%s-%v", req.Step, req.Action, delay), &testsuite.TestUpdateCallback{
			OnAccept:   func() { out.accepted = true },
			OnReject:   func(err error) { out.rejected = err },
			OnComplete: func(any, error) {},
		}, req)
	}, delay)
}

func TestOperatorRetryAfterFix(t *testing.T) {
	f := &fakes{failUntil: map[string]int{}}
	var wrong, right control
	var parked interpreter.State
	r := runDef(t, parkDef, runOpts{fakes: f, engine: operatorOn, setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		env.RegisterDelayedCallback(func() {
			v, err := env.QueryWorkflow(interpreter.QueryState)
			if err == nil {
				_ = v.Get(&parked)
			}
		}, time.Minute)
		// Unknown step: rejected by the validator.
		sendControl(env, 2*time.Minute, interpreter.ControlRequest{Step: "nope", Action: "retry"}, nil, &wrong)
		sendControl(env, time.Hour, interpreter.ControlRequest{Step: "loop/foreach[0]/enrich", Action: "retry"},
			func() { f.mu.Lock(); f.fixed = true; f.mu.Unlock() }, &right)
	}})
	if parked.Status != interpreter.StatusWaitingForOperator || parked.WaitingFor == nil ||
		parked.WaitingFor.Step != "loop/foreach[0]/enrich" || parked.WaitingFor.Error.Message != "downstream says no" {
		t.Errorf("parked state %+v / %+v", parked, parked.WaitingFor)
	}
	if wrong.rejected == nil || wrong.accepted {
		t.Errorf("unknown step accepted: %+v", wrong)
	}
	if !right.accepted || right.rejected != nil {
		t.Errorf("retry not accepted: %+v", right)
	}
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	if n := len(f.callsTo("test.fixable")); n != 2 {
		t.Errorf("%d calls, want 2 (one failure, one success after the fix)", n)
	}
	if got := r.output("after"); got != "enrich=true" {
		t.Errorf("after = %v", got)
	}
	if r.state.WaitingFor != nil || r.state.Status != interpreter.StatusCompleted {
		t.Errorf("final state %+v", r.state)
	}
}

func TestOperatorSkipWithOutput(t *testing.T) {
	var c control
	r := runDef(t, parkDef, runOpts{engine: operatorOn, setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		sendControl(env, time.Minute, interpreter.ControlRequest{Step: "loop/foreach[0]/enrich", Action: "skip",
			Output: map[string]any{"fixed": "by hand"}}, nil, &c)
	}})
	if r.status() != interpreter.StatusCompleted || !c.accepted {
		t.Fatalf("status %s, control %+v", r.status(), c)
	}
	if got := r.output("after"); got != "enrich=by hand" {
		t.Errorf("after = %v", got)
	}
}

func TestOperatorFailAndTimeout(t *testing.T) {
	var c control
	r := runDef(t, parkDef, runOpts{engine: operatorOn, setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		sendControl(env, time.Minute, interpreter.ControlRequest{Step: "loop/foreach[0]/enrich", Action: "fail"}, nil, &c)
	}})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || e.Message != "downstream says no" {
		t.Errorf("fail: status %s error %+v", r.status(), e)
	}
	if r.ran("after") {
		t.Error("after ran")
	}
	// Nobody answers: the run fails after operator-timeout, as Kibana would.
	start := time.Time{}
	r = runDef(t, "settings: { operator-timeout: 2h }\n"+parkDef, runOpts{engine: operatorOn, setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		start = env.Now()
	}})
	if r.status() != interpreter.StatusFailed {
		t.Errorf("timeout: status %s", r.status())
	}
	if d := r.env.Now().Sub(start); d < 2*time.Hour {
		t.Errorf("run ended after %v, want ≥ 2h of parking", d)
	}
	// operator-timeout 0 disables parking.
	r = runDef(t, "settings: { operator-timeout: \"0\" }\n"+parkDef, runOpts{engine: operatorOn})
	if r.status() != interpreter.StatusFailed || r.env.Now().Sub(start) > time.Hour*24*365 {
		t.Errorf("disabled: status %s", r.status())
	}
}

func TestOperatorNotParkedWhenCaught(t *testing.T) {
	// continue: true catches the failure: no parking, the run completes.
	r := runDef(t, strings.Replace(parkDef, "with: { q: x } }", "with: { q: x }, on-failure: { continue: true } }", 1),
		runOpts{engine: operatorOn})
	if r.status() != interpreter.StatusCompleted {
		t.Errorf("status %s", r.status())
	}
	// The enclosing foreach has a retry: the inner step is not parked, the
	// foreach is, after its retries.
	var st interpreter.State
	r = runDef(t, strings.Replace(parkDef, `foreach: "[1]"`, "foreach: \"[1]\"\n    on-failure: { retry: { max-attempts: 1 } }", 1),
		runOpts{engine: operatorOn, setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
			env.RegisterDelayedCallback(func() {
				v, _ := env.QueryWorkflow(interpreter.QueryState)
				_ = v.Get(&st)
				env.CancelWorkflow()
			}, time.Minute)
		}})
	if st.WaitingFor == nil || st.WaitingFor.Step != "loop" {
		t.Errorf("parked at %+v, want loop", st.WaitingFor)
	}
	if n := len(r.f.callsTo("test.fixable")); n != 2 {
		t.Errorf("%d calls, want 2 (foreach retried once)", n)
	}
	if r.status() != interpreter.StatusCancelled && !strings.Contains(r.status(), "canceled") {
		t.Errorf("cancelled run: status %s", r.status())
	}
}
