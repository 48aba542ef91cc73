package interpreter_test

import (
	"strings"
	"testing"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter"
)

// workflow.execute and workflow.executeAsync (§6.1.10): child runs of the
// interpreter workflow, their output rules and failure propagation.

// childDefs loads child definitions (id → YAML steps) for a parent run.
func childDefs(t *testing.T, children map[string]string) mapDefs {
	t.Helper()
	reg := (&fakes{}).registry()
	defs := mapDefs{}
	for id, src := range children {
		if !strings.Contains(src, "triggers:") {
			src = "name: " + id + "\ntriggers:\n  - type: manual\n" + src
		}
		def, probs := interpreter.LoadBytes(id+".yaml", []byte(src), interpreter.LoadOptions{Registry: reg})
		if err := probs.Err(); err != nil {
			t.Fatalf("child %s does not load: %v", id, err)
		}
		defs[id] = def
	}
	return defs
}

func TestWorkflowExecuteOutputs(t *testing.T) {
	defs := childDefs(t, map[string]string{
		"emits": `
inputs:
  - { name: x, type: number, required: true }
steps:
  - { name: noise, type: console, with: { message: ignored } }
  - name: out
    type: workflow.output
    with:
      doubled: "{{ inputs.x | times: 2 }}"
      by: "{{ execution.triggeredBy }}"
      id: "{{ execution.id }}"
      parent: "{{ parent.workflowId }}"
      depth: "{{ parent.depth }}"
`,
		"last": `
steps:
  - { name: a, type: console, with: { message: first } }
  - { name: b, type: console, with: { message: "second {{ inputs.tag }}" } }
  - { name: c, type: console, if: "false", with: { message: skipped } }
`,
		"loop": `
steps:
  - { name: a, type: console, with: { message: first } }
  - name: each
    type: foreach
    foreach: '["x", "y"]'
    steps:
      - { name: show, type: console, with: { message: "item {{ foreach.item }}" } }
`,
		"silent": `
steps:
  - { name: pause, type: wait, with: { duration: 1s } }
`,
	})
	r := runDef(t, `
steps:
  - { name: e, type: workflow.execute, with: { workflow-id: emits, inputs: { x: 21 } } }
  - { name: l, type: workflow.execute, with: { workflow-id: last, inputs: { tag: "${{ steps.e.output.doubled }}" } } }
  - { name: f, type: workflow.execute, with: { workflow-id: loop } }
  - { name: s, type: workflow.execute, with: { workflow-id: silent } }
`, runOpts{defs: defs})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	want := `{"by":"workflow-step","depth":1,"doubled":42,"id":"default-test-workflow-id/e","parent":"default-test-workflow-id"}`
	if got := jsonOf(r.output("e")); got != want {
		t.Errorf("workflow.output of the child:\n got %s\nwant %s", got, want)
	}
	if got := r.output("l"); got != "second 42" {
		t.Errorf("last top-level step output = %s", jsonOf(got))
	}
	if got := jsonOf(r.output("f")); got != `["item x","item y"]` {
		t.Errorf("last step is a loop: %s", got)
	}
	if v := r.stepValue("s"); v == nil || v["output"] != nil {
		t.Errorf("a child whose last step has no output: %s", jsonOf(v))
	}
	if got := jsonOf(r.stepValue("e")["input"]); got != `{"inputs":{"x":21},"workflow-id":"emits"}` {
		t.Errorf("step input %s", got)
	}
}

func TestWorkflowExecuteFailure(t *testing.T) {
	defs := childDefs(t, map[string]string{
		"fails": `
steps:
  - { name: stop, type: workflow.fail, with: { message: "child says no" } }
`,
		"broken": `
steps:
  - { name: get, type: http, with: { url: "http://x/404" } }
`,
	})
	r := runDef(t, `
steps:
  - name: run_child
    type: workflow.execute
    with: { workflow-id: fails }
    on-failure:
      fallback:
        - { name: report, type: console, with: { message: "caught {{ error.type }}: {{ error.message }}" } }
      continue: true
  - { name: next, type: workflow.execute, with: { workflow-id: broken } }
  - { name: never, type: console, with: { message: x } }
`, runOpts{defs: defs})
	if got := r.output("report"); got != "caught Error: child says no" {
		t.Errorf("fallback saw %q", got)
	}
	e := r.errorOf()
	if r.status() != interpreter.StatusFailed || e == nil || e.Type != "HttpRequestError" || e.Message != "Request failed with status code 404" {
		t.Fatalf("status %s error %+v", r.status(), e)
	}
	if r.ran("never") {
		t.Errorf("the run went on after a failed child")
	}
	if recs := r.records("next"); len(recs) != 1 || recs[0].Status != interpreter.StatusFailed {
		t.Errorf("records %+v", recs)
	}

	// A definition that is not there fails the step (the child cannot load it).
	r = runDef(t, "steps:\n  - { name: x, type: workflow.execute, with: { workflow-id: nope } }\n", runOpts{defs: mapDefs{}})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || e.Type != interpreter.ErrTypeDefinitionNotFound {
		t.Errorf("missing child: status %s error %+v", r.status(), e)
	}
	// A workflow-id that renders empty fails before any child starts.
	r = runDef(t, "steps:\n  - { name: x, type: workflow.execute, with: { workflow-id: \"{{ inputs.none }}\" } }\n", runOpts{defs: mapDefs{}})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || !strings.Contains(e.Message, "workflow-id") {
		t.Errorf("empty id: status %s error %+v", r.status(), e)
	}
}

func TestWorkflowExecuteDepthLimit(t *testing.T) {
	// A definition that runs itself stops at MaxChildDepth.
	const self = `
steps:
  - { name: again, type: workflow.execute, with: { workflow-id: t } }
`
	defs := childDefs(t, map[string]string{"t": self})
	r := runDef(t, self, runOpts{defs: defs})
	e := r.errorOf()
	if r.status() != interpreter.StatusFailed || e == nil || e.Type != interpreter.ErrTypeChildDepth ||
		!strings.Contains(e.Message, "depth 11 exceeds the maximum of 10") {
		t.Errorf("status %s error %+v", r.status(), e)
	}
}

func TestWorkflowExecuteAsync(t *testing.T) {
	// The child waits an hour: the parent completes without waiting for it
	// (the test environment stops skipping time once the parent is done,
	// so the child never reaches its activity here).
	defs := childDefs(t, map[string]string{
		"bg": `
steps:
  - { name: pause, type: wait, with: { duration: 1h } }
  - { name: work, type: test.echo, with: { done: true } }
`,
	})
	var started []interpreter.RunInput
	var childID, childType string
	r := runDef(t, `
steps:
  - { name: start, type: workflow.executeAsync, with: { workflow-id: bg, inputs: { n: 1 } } }
  - { name: after, type: console, with: { message: "{{ steps.start.output.workflowId }}" } }
`, runOpts{defs: defs, setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
			var in interpreter.RunInput
			if err := args.Get(&in); err != nil {
				t.Errorf("child input: %v", err)
			}
			started = append(started, in)
			childID, childType = info.WorkflowExecution.ID, info.WorkflowType.Name
		})
	}})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	out, _ := r.output("start").(map[string]any)
	if out["workflowId"] != "default-test-workflow-id/start" || out["awaited"] != false || out["status"] != "running" {
		t.Errorf("output %s", jsonOf(out))
	}
	if id, _ := out["executionId"].(string); id == "" {
		t.Errorf("no executionId: %s", jsonOf(out))
	}
	if at, _ := out["startedAt"].(string); !strings.HasSuffix(at, "Z") || len(at) != len("2006-01-02T15:04:05.000Z") {
		t.Errorf("startedAt %q", at)
	}
	if r.output("after") != "default-test-workflow-id/start" {
		t.Errorf("after = %v", r.output("after"))
	}
	if len(started) != 1 || childID != "default-test-workflow-id/start" || childType != "bg" {
		t.Fatalf("children started: %d (%s, %s)", len(started), childID, childType)
	}
	in := started[0]
	if in.TriggeredBy != interpreter.TriggeredByStep || in.Parent == nil || in.Parent.WorkflowID != "default-test-workflow-id" ||
		in.Parent.ExecutionID != "default-test-run-id" || in.Parent.Depth != 1 || jsonOf(in.Inputs) != `{"n":1}` ||
		in.Definition != nil || in.Engine == nil || *in.Engine.OperatorRecovery || *in.Engine.TransientRetry {
		t.Errorf("child input %s", jsonOf(in))
	}
	if n := len(r.f.callsTo("test.echo")); n != 0 {
		t.Errorf("the parent waited for the child (%d child calls)", n)
	}
}

// TestParallelCountWaiting: with concurrency.count-waiting false a branch
// waiting for its child frees its slot.
func TestParallelCountWaiting(t *testing.T) {
	defs := childDefs(t, map[string]string{
		"slow": `
steps:
  - { name: pause, type: wait, with: { duration: 10s } }
  - { name: done, type: console, with: { message: done } }
`,
	})
	const tpl = `
steps:
  - name: fan
    type: parallel
    foreach: "[1, 2, 3]"
    concurrency: { max: 1, count-waiting: %s }
    steps:
      - { name: call, type: workflow.execute, with: { workflow-id: slow } }
`
	for _, tc := range []struct {
		countWaiting string
		offsets      []float64
	}{
		{"true", []float64{0, 10000, 20000}},
		{"false", []float64{0, 0, 0}},
	} {
		r := runDef(t, strings.Replace(tpl, "%s", tc.countWaiting, 1), runOpts{defs: defs})
		if r.status() != interpreter.StatusCompleted {
			t.Fatalf("count-waiting %s: status %s (%+v)", tc.countWaiting, r.status(), r.errorOf())
		}
		res := branchResults(t, parallelOut(t, r, "fan"))
		for i, want := range tc.offsets {
			if got := res[i]["startedAt"].(float64) - res[0]["startedAt"].(float64); got != want || res[i]["output"] != "done" {
				t.Errorf("count-waiting %s: branch %d started at +%vms (want +%v), output %v", tc.countWaiting, i, got, want, res[i]["output"])
			}
		}
	}
}
