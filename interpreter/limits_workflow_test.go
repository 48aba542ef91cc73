package interpreter_test

import (
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/interpreter"
)

// The run-time size limits of §7.7 (limits.go): template output,
// cumulative output budget, child workflow output.

// oldRun makes GetVersion answer DefaultVersion for the size limits, as
// when replaying a history recorded before them.
func oldRun(env *testsuite.TestWorkflowEnvironment, _ *fakes) {
	env.OnGetVersion("size-limits", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
}

// engineWith returns kibanaEngine with size limit overrides.
func engineWith(budget, child int64) *interpreter.EngineOptions {
	return &interpreter.EngineOptions{TransientRetry: off(), OperatorRecovery: off(), OutputBudget: budget, MaxChildOutputSize: child}
}

// x30 is 30 bytes: a step output {"v": x30} is 38 bytes of JSON.
var x30 = strings.Repeat("x", 30)

func TestTemplateSizeLimit(t *testing.T) {
	loop200 := `"{% for i in (1..20) %}AAAAAAAAAA{% endfor %}"` // 200 bytes
	cases := []struct {
		name    string
		yaml    string
		old     bool
		status  string
		failed  string // the step that fails, "" for none
		errType string
		limit   string // in the message
		calls   int    // test.flaky calls
	}{
		{name: "data.set over the step's max-step-size", yaml: `
steps:
  - { name: render, type: data.set, max-step-size: 100b, with: { v: ` + loop200 + ` } }
  - { name: after, type: console, with: { message: never } }
`, status: interpreter.StatusFailed, failed: "render", errType: "TemplateSizeLimitExceeded", limit: "100 bytes"},
		{name: "settings max-step-size applies to console", yaml: `
settings: { max-step-size: 150b }
steps:
  - { name: say, type: console, with: { message: ` + loop200 + ` } }
`, status: interpreter.StatusFailed, failed: "say", errType: "TemplateSizeLimitExceeded", limit: "150 bytes"},
		{name: "step max-step-size overrides settings", yaml: `
settings: { max-step-size: 100b }
steps:
  - { name: render, type: data.set, max-step-size: 1kb, with: { v: ` + loop200 + ` } }
`, status: interpreter.StatusCompleted},
		{name: "within the default limit", yaml: `
steps:
  - { name: render, type: data.set, with: { v: ` + loop200 + ` } }
`, status: interpreter.StatusCompleted},
		{name: "activity input: the activity never runs", yaml: `
steps:
  - { name: call, type: test.flaky, max-step-size: 100b, with: { body: ` + loop200 + ` } }
`, status: interpreter.StatusFailed, failed: "call", errType: "TemplateSizeLimitExceeded", limit: "100 bytes"},
		{name: "data step renderer", yaml: `
steps:
  - name: names
    type: data.map
    max-step-size: 100b
    items: "${{ (1..2) | join: ',' | split: ',' }}"
    with:
      fields: { v: ` + loop200 + ` }
`, status: interpreter.StatusFailed, failed: "names", errType: "TemplateSizeLimitExceeded", limit: "100 bytes"},
		{name: "caught by on-failure continue", yaml: `
steps:
  - name: render
    type: data.set
    max-step-size: 100b
    on-failure: { continue: true }
    with: { v: ` + loop200 + ` }
  - { name: after, type: console, with: { message: "{{ steps.render.error.type }}" } }
`, status: interpreter.StatusCompleted, failed: "render", errType: "TemplateSizeLimitExceeded", limit: "100 bytes"},
		{name: "run recorded before the limit renders in full", old: true, yaml: `
steps:
  - { name: call, type: test.flaky, max-step-size: 100b, with: { body: ` + loop200 + ` } }
`, status: interpreter.StatusCompleted, calls: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := runOpts{}
			if tc.old {
				o.setup = oldRun
			}
			r := runDef(t, tc.yaml, o)
			if r.status() != tc.status {
				t.Fatalf("status %s, want %s (error %+v)", r.status(), tc.status, r.errorOf())
			}
			if n := len(r.f.callsTo("test.flaky")); n != tc.calls {
				t.Errorf("%d test.flaky calls, want %d", n, tc.calls)
			}
			if tc.failed == "" {
				return
			}
			recs := r.records(tc.failed)
			if len(recs) != 1 || recs[0].Status != interpreter.StatusFailed || recs[0].Error == nil {
				t.Fatalf("records of %s: %s", tc.failed, jsonOf(recs))
			}
			e := recs[0].Error
			if e.Type != tc.errType || !strings.Contains(e.Message, "step "+tc.failed) || !strings.Contains(e.Message, tc.limit) {
				t.Errorf("error %+v, want %s naming step %s and %s", e, tc.errType, tc.failed, tc.limit)
			}
			if strings.Contains(e.Message, "AAAA") {
				t.Errorf("error message shows the rendered text: %s", e.Message)
			}
			if r.ran("after") && tc.status == interpreter.StatusFailed {
				t.Error("the run went on after the failure")
			}
			if tc.status == interpreter.StatusCompleted && r.ran("after") && r.output("after") != tc.errType {
				t.Errorf("steps.render.error.type = %v", r.output("after"))
			}
		})
	}
}

// TestTemplateSizeLimitThroughBlobs: a template that reads a value kept in
// the blob store is rendered by the fetch local activity, with the same
// limit, and fails the same way.
func TestTemplateSizeLimitThroughBlobs(t *testing.T) {
	r := runChain(t, `
steps:
  - { name: big, type: test.big }
  - { name: dump, type: console, max-step-size: 64kb, with: { message: "{{ steps.big.output | json }}" } }
`, chainOpts{blobs: blobstore.NewMemory(), reg: addBig})
	e := r.errorOf()
	if e == nil || e.Type != "TemplateSizeLimitExceeded" || !strings.Contains(e.Message, "step dump") || !strings.Contains(e.Message, "65536 bytes") {
		t.Fatalf("error %+v, want TemplateSizeLimitExceeded of step dump", e)
	}
	for i, n := range r.localResults {
		if n > 4<<10 {
			t.Errorf("local activity %d recorded %d bytes", i, n)
		}
	}
}

func TestOutputBudget(t *testing.T) {
	set := func(name string) string {
		return "  - { name: " + name + ", type: data.set, with: { v: " + x30 + " } }\n"
	}
	cases := []struct {
		name   string
		yaml   string
		budget int64
		old    bool
		status string
		failed string // the step that exceeds the budget
		ran    []string
	}{
		{name: "third output goes over", yaml: "steps:\n" + set("a") + set("b") + set("c") + set("d"),
			budget: 100, status: interpreter.StatusFailed, failed: "c", ran: []string{"a", "b"}},
		{name: "exactly the budget", yaml: "steps:\n" + set("a") + set("b"),
			budget: 76, status: interpreter.StatusCompleted, ran: []string{"a", "b"}},
		{name: "default budget", yaml: "steps:\n" + set("a") + set("b") + set("c") + set("d"),
			status: interpreter.StatusCompleted, ran: []string{"a", "b", "c", "d"}},
		{name: "steps with nested steps do not count twice", yaml: `
steps:
  - name: each
    type: foreach
    foreach: "[1,2]"
    steps:
      - { name: inner, type: test.echo, with: { v: ` + x30 + ` } }
  - name: fan
    type: parallel
    mode: settled
    branches:
      - { name: a, steps: [ { name: pa, type: test.echo, with: { v: ` + x30 + ` } } ] }
`, budget: 114, status: interpreter.StatusCompleted, ran: []string{"each", "fan"}},
		{name: "waitForInput answers count", yaml: `
steps:
  - { name: a, type: test.echo, with: { v: ` + x30 + ` } }
  - { name: ask, type: waitForInput, timeout: 1m, with: { message: "?" } }
`, budget: 50, status: interpreter.StatusFailed, failed: "ask", ran: []string{"a"}},
		{name: "catchable: the rejected output is not kept nor counted", yaml: "steps:\n" + set("a") + set("b") + `  - name: c
    type: data.set
    on-failure: { continue: true }
    with: { v: ` + x30 + ` }
  - { name: small, type: console, with: { message: "{{ steps.c.error.type }}" } }
`, budget: 110, status: interpreter.StatusCompleted, failed: "c", ran: []string{"a", "b", "small"}},
		{name: "run recorded before the budget", old: true, yaml: "steps:\n" + set("a") + set("b") + set("c"),
			budget: 100, status: interpreter.StatusCompleted, ran: []string{"a", "b", "c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := runOpts{engine: engineWith(tc.budget, 0)}
			if tc.old {
				o.setup = oldRun
			}
			r := runDef(t, tc.yaml, o)
			if r.status() != tc.status {
				t.Fatalf("status %s, want %s (error %+v)", r.status(), tc.status, r.errorOf())
			}
			for _, name := range tc.ran {
				if recs := r.records(name); len(recs) == 0 || recs[0].Status != interpreter.StatusCompleted {
					t.Errorf("step %s: %s, want completed", name, jsonOf(recs))
				}
			}
			if tc.failed == "" {
				return
			}
			recs := r.records(tc.failed)
			if len(recs) != 1 || recs[0].Error == nil || recs[0].Error.Type != "WorkflowOutputBudgetExceeded" ||
				!strings.Contains(recs[0].Error.Message, "step "+tc.failed) || !strings.Contains(recs[0].Error.Message, "budget of "+jsonOf(tc.budget)) {
				t.Fatalf("records of %s: %s", tc.failed, jsonOf(recs))
			}
			if r.output(tc.failed) != nil {
				t.Errorf("rejected output kept: %v", r.output(tc.failed))
			}
			if r.ran("small") && r.output("small") != "WorkflowOutputBudgetExceeded" {
				t.Errorf("steps.c.error.type = %v", r.output("small"))
			}
		})
	}
}

// TestOutputBudgetCarriedOverContinueAsNew: the running total goes on in
// the continued runs, so the same iteration goes over as without
// continuing.
func TestOutputBudgetCarriedOverContinueAsNew(t *testing.T) {
	def := `
steps:
  - name: each
    type: foreach
    foreach: "${{ (1..20) | join: ',' | split: ',' }}"
    steps:
      - { name: call, type: test.echo, with: { v: ` + x30 + ` } }
`
	// 13 outputs of 38 bytes fit in 500; the 14th goes over.
	eng := engineWith(500, 0)
	plain := runChain(t, def, chainOpts{engine: eng})
	r := runChain(t, def, chainOpts{engine: eng, canAfter: 30, eventsPerActivity: 6})
	if r.runs < 2 {
		t.Fatalf("%d runs: the definition did not continue as new", r.runs)
	}
	for _, c := range []*chainResult{plain, r} {
		e := c.errorOf()
		if e == nil || e.Type != "WorkflowOutputBudgetExceeded" {
			t.Fatalf("error %+v, want WorkflowOutputBudgetExceeded", e)
		}
		if n := len(c.f.callsTo("test.echo")); n != 14 {
			t.Errorf("%d calls before the budget was exceeded, want 14", n)
		}
	}
	if last := r.inputs[len(r.inputs)-1].Resume; last == nil || last.OutputBytes == 0 || last.OutputBytes%38 != 0 {
		t.Errorf("carried output bytes %+v", last)
	}
}

func TestChildOutputSizeLimit(t *testing.T) {
	defs := childDefs(t, map[string]string{
		"emits-big":   "steps:\n  - { name: out, type: workflow.output, with: { v: " + x30 + x30 + " } }\n",
		"emits-small": "steps:\n  - { name: out, type: workflow.output, with: { v: ok } }\n",
		"last-big":    "steps:\n  - { name: say, type: console, with: { message: " + x30 + x30 + " } }\n",
	})
	cases := []struct {
		name, child string
		limit       int64
		old         bool
		fail        bool
	}{
		{name: "workflow.output over the limit", child: "emits-big", limit: 50, fail: true},
		{name: "last step output over the limit", child: "last-big", limit: 50, fail: true},
		{name: "under the limit", child: "emits-small", limit: 50},
		{name: "default limit", child: "emits-big"},
		{name: "run recorded before the limit", child: "emits-big", limit: 50, old: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := runOpts{defs: defs, engine: engineWith(0, tc.limit)}
			if tc.old {
				o.setup = oldRun
			}
			r := runDef(t, `
steps:
  - { name: call, type: workflow.execute, with: { workflow-id: `+tc.child+` } }
`, o)
			e := r.errorOf()
			if !tc.fail {
				if r.status() != interpreter.StatusCompleted || r.output("call") == nil {
					t.Fatalf("status %s error %+v output %v", r.status(), e, r.output("call"))
				}
				return
			}
			if r.status() != interpreter.StatusFailed || e == nil || e.Type != "WorkflowOutputSizeExceeded" ||
				!strings.Contains(e.Message, "step call") || !strings.Contains(e.Message, tc.child) || !strings.Contains(e.Message, "50 bytes") {
				t.Fatalf("status %s error %+v", r.status(), e)
			}
			if strings.Contains(e.Message, x30) {
				t.Errorf("message shows the output: %s", e.Message)
			}
		})
	}
}
