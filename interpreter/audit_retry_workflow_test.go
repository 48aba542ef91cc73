package interpreter_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter"
)

// TestAuditRetryDelayWaiting checks that a retry delay over five seconds
// reports the run as waiting (§7.1, §7.4) and a short one does not.
func TestAuditRetryDelayWaiting(t *testing.T) {
	for _, tc := range []struct {
		delay string
		want  string
		old   bool // a run started before the change (GetVersion: DefaultVersion)
	}{{"1m", interpreter.StatusWaiting, false}, {"5s", interpreter.StatusRunning, false}, {"1m", interpreter.StatusRunning, true}} {
		var mid interpreter.State
		f := &fakes{failUntil: map[string]int{"s": 1}}
		r := runDef(t, `
steps:
  - name: s
    type: test.flaky
    on-failure: { retry: { max-attempts: 1, delay: `+tc.delay+` } }
`, runOpts{fakes: f, setup: func(env *testsuite.TestWorkflowEnvironment, _ *fakes) {
			if tc.old {
				env.OnGetVersion("retry-delay-waiting", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
			}
			env.RegisterDelayedCallback(func() {
				if v, err := env.QueryWorkflow(interpreter.QueryState); err == nil {
					_ = v.Get(&mid)
				}
			}, 2*time.Second)
		}})
		if r.status() != interpreter.StatusCompleted {
			t.Fatalf("delay %s: status %s", tc.delay, r.status())
		}
		if mid.Status != tc.want || mid.WaitingFor == nil || mid.WaitingFor.Kind != "retry" {
			t.Errorf("delay %s old %v: during the delay status %q waiting %+v, want %q", tc.delay, tc.old, mid.Status, mid.WaitingFor, tc.want)
		}
	}
}
