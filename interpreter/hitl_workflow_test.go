package interpreter_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/secflow/secflow/interpreter"
)

// resume sends the resume update after delay; out receives the rejection.
func resume(env *testsuite.TestWorkflowEnvironment, delay time.Duration, req interpreter.ResumeRequest, rejected *error, state *interpreter.State) {
	env.RegisterDelayedCallback(func() {
		if state != nil {
			if v, err := env.QueryWorkflow(interpreter.QueryState); err == nil {
				_ = v.Get(state)
			}
		}
		env.UpdateWorkflow(interpreter.Resume, fmt.Sprintf("resume-%v", delay), &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) {
				if rejected != nil {
					*rejected = err
				}
			},
			OnComplete: func(any, error) {},
		}, req)
	}, delay)
}

func TestC41WaitForInput(t *testing.T) {
	const def = `
steps:
  - name: approve
    type: waitForInput
    with:
      message: "ok?"
      %s
      schema:
        properties:
          ok: { type: boolean }
          note: { type: string, default: none }
        required: [ok]
  - { name: after, type: console, with: { message: "${{ steps.approve.output }}" } }
`
	var bad error
	var waiting interpreter.State
	r := runDef(t, strings.Replace(def, "%s", "", 1), runOpts{setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		resume(env, time.Minute, interpreter.ResumeRequest{Step: "approve", Input: map[string]any{"note": "x"}}, &bad, &waiting)
		resume(env, 2*time.Minute, interpreter.ResumeRequest{Input: map[string]any{"ok": true}, By: "alice"}, nil, nil)
	}})
	if waiting.Status != interpreter.StatusWaitingForInput || waiting.WaitingFor == nil || waiting.WaitingFor.Message != "ok?" {
		t.Errorf("while waiting: %+v", waiting)
	}
	if bad == nil {
		t.Error("input without the required field was accepted")
	}
	out, _ := r.output("approve").(map[string]any)
	if r.status() != interpreter.StatusCompleted || !reflect.DeepEqual(out["input"], map[string]any{"ok": true, "note": "none"}) || out["resumedBy"] != "alice" {
		t.Errorf("status %s output %v", r.status(), jsonOf(out))
	}
	// Timeout: the step completes with timedOut.
	r = runDef(t, strings.Replace(def, "%s", "timeout: 30m", 1), runOpts{})
	if out, _ := r.output("approve").(map[string]any); r.status() != interpreter.StatusCompleted || out["timedOut"] != true {
		t.Errorf("timeout: status %s output %v", r.status(), jsonOf(r.output("approve")))
	}
}

func TestWaitForApproval(t *testing.T) {
	const def = `
steps:
  - name: gate
    type: waitForApproval
    timeout: 4h
    with: { message: "Delete devices?" }
    %s
  - { name: destroy, type: test.echo, with: { go: true } }
`
	yes, no := true, false
	r := runDef(t, strings.Replace(def, "%s", "", 1), runOpts{setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		resume(env, time.Minute, interpreter.ResumeRequest{Step: "gate", Approved: &yes, By: "bob", Comment: "go"}, nil, nil)
	}})
	if out, _ := r.output("gate").(map[string]any); r.status() != interpreter.StatusCompleted || out["approved"] != true || out["respondedBy"] != "bob" || len(r.f.callsTo("test.echo")) != 1 {
		t.Errorf("approved: status %s output %v", r.status(), jsonOf(r.output("gate")))
	}
	r = runDef(t, strings.Replace(def, "%s", "", 1), runOpts{setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		resume(env, time.Minute, interpreter.ResumeRequest{Approved: &no, Comment: "hold"}, nil, nil)
	}})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || e.Type != "ApprovalRejected" || len(r.f.callsTo("test.echo")) != 0 {
		t.Errorf("rejected: status %s error %+v", r.status(), e)
	}
	// A rejection is an ordinary failure: on-failure catches it.
	r = runDef(t, strings.Replace(def, "%s", "on-failure: { continue: true }", 1), runOpts{setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		resume(env, time.Minute, interpreter.ResumeRequest{Approved: &no}, nil, nil)
	}})
	if r.status() != interpreter.StatusCompleted || len(r.f.callsTo("test.echo")) != 1 {
		t.Errorf("rejected+continue: status %s", r.status())
	}
	// Nobody answers within 4h: the destructive step does not run.
	r = runDef(t, strings.Replace(def, "%s", "", 1), runOpts{})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || e.Type != "ApprovalTimedOut" || len(r.f.callsTo("test.echo")) != 0 {
		t.Errorf("timeout: status %s error %+v", r.status(), e)
	}
}
