package interpreter_test

import (
	"regexp"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/secflow/secflow/interpreter"
)

// isoMillis is JavaScript's Date.toISOString format.
var isoMillis = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestAuditHITLTimestamps checks that resumedAt (§6.1.8) and respondedAt
// (§6.1.9) are ISO strings as Kibana's new Date().toISOString() gives them
// (millisecond precision), whatever the workflow clock's precision.
func TestAuditHITLTimestamps(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		typ, field string
		req        interpreter.ResumeRequest
	}{
		{"waitForInput", "resumedAt", interpreter.ResumeRequest{Input: map[string]any{}}},
		{"waitForApproval", "respondedAt", interpreter.ResumeRequest{Approved: &yes}},
	} {
		r := runDef(t, `
steps:
  - { name: ask, type: `+tc.typ+`, with: { message: "ok?" } }
`, runOpts{setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
			resume(env, time.Minute+1234567*time.Nanosecond, tc.req, nil, nil)
		}})
		out, _ := r.output("ask").(map[string]any)
		if s, _ := out[tc.field].(string); !isoMillis.MatchString(s) {
			t.Errorf("%s: %s = %q (output %v)", tc.typ, tc.field, s, jsonOf(out))
		}
	}
}
