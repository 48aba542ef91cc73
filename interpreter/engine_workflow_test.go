package interpreter_test

import (
	"go/build"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/worker"
)

// Engine behaviour beyond Kibana's: activity options, idempotency keys,
// the default transient retry, pinned definitions, context variables.

func TestActivityOptionsAndIdempotencyKey(t *testing.T) {
	r := runDef(t, `
steps:
  - name: enrich
    type: foreach
    foreach: "[1,2]"
    steps:
      - { name: lookup, type: test.echo, timeout: 45s, with: { n: "${{ foreach.item }}" } }
  - { name: once, type: test.echo, with: { q: 1 } }
`, runOpts{})
	calls := r.f.callsTo("test.echo")
	if len(calls) != 3 {
		t.Fatalf("%d calls", len(calls))
	}
	wantPaths := []string{"enrich/foreach[0]/lookup", "enrich/foreach[1]/lookup", "once"}
	for i, c := range calls {
		info := r.f.infos[i]
		if c.Path != wantPaths[i] || info.ActivityID != wantPaths[i] {
			t.Errorf("call %d: path %q activity id %q, want %q", i, c.Path, info.ActivityID, wantPaths[i])
		}
		if c.IdempotencyKey != "default-test-workflow-id/"+wantPaths[i] {
			t.Errorf("call %d: idempotency key %q", i, c.IdempotencyKey)
		}
		if c.Name == "" || c.Type != "test.echo" || c.SpaceID != "default" {
			t.Errorf("call %d: input %+v", i, c)
		}
	}
	if d := r.f.infos[0].StartToCloseTimeout; d != 45*time.Second {
		t.Errorf("StartToClose of a step with timeout: %v", d)
	}
	if d := r.f.infos[2].StartToCloseTimeout; d != interpreter.DefaultActivityTimeout {
		t.Errorf("default StartToClose: %v", d)
	}
	if calls[1].With["n"] != 2.0 {
		t.Errorf("rendered with %v", calls[1].With)
	}
}

func TestTransientRetry(t *testing.T) {
	const def = `
steps:
  - { name: flaky, type: test.transient }
`
	// Default engine: retried by Temporal, succeeds on the 3rd call.
	r := runDef(t, def, runOpts{engine: &interpreter.EngineOptions{OperatorRecovery: off()}})
	if r.status() != interpreter.StatusCompleted || len(r.f.callsTo("test.transient")) != 3 {
		t.Errorf("default: status %s, %d calls", r.status(), len(r.f.callsTo("test.transient")))
	}
	// Kibana behaviour: no retry.
	r = runDef(t, def, runOpts{})
	if r.status() != interpreter.StatusFailed || len(r.f.callsTo("test.transient")) != 1 {
		t.Errorf("off: status %s, %d calls", r.status(), len(r.f.callsTo("test.transient")))
	}
	// A permanent error is not retried even with the default on.
	f := &fakes{failUntil: map[string]int{"p": 10}}
	r = runDef(t, "steps:\n  - { name: p, type: test.flaky }\n", runOpts{fakes: f, engine: &interpreter.EngineOptions{OperatorRecovery: off()}})
	if r.status() != interpreter.StatusFailed || len(f.callsTo("test.flaky")) != 1 {
		t.Errorf("permanent: status %s, %d calls", r.status(), len(f.callsTo("test.flaky")))
	}
	// A step with on-failure gets no engine retry (its own policy rules).
	r = runDef(t, "steps:\n  - { name: flaky, type: test.transient, on-failure: { continue: true } }\n",
		runOpts{engine: &interpreter.EngineOptions{OperatorRecovery: off()}})
	if r.status() != interpreter.StatusCompleted || len(r.f.callsTo("test.transient")) != 1 {
		t.Errorf("on-failure: status %s, %d calls", r.status(), len(r.f.callsTo("test.transient")))
	}
}

func TestDefinitionLoadedThroughLocalActivity(t *testing.T) {
	r := runDef(t, "steps:\n  - { name: s, type: console, with: { message: \"{{ workflow.name }}/{{ workflow.id }}\" } }\n",
		runOpts{noLoad: true})
	if r.status() != interpreter.StatusCompleted || r.output("s") != "t/t" {
		t.Errorf("status %s output %v", r.status(), r.output("s"))
	}
	if r.state.Definition != "t" || r.state.Revision == "" {
		t.Errorf("state %+v", r.state)
	}
	r = runDef(t, "steps:\n  - { name: s, type: console, with: { message: x } }\n", runOpts{noLoad: true, defs: mapDefs{}})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || e.Type != interpreter.ErrTypeDefinitionNotFound {
		t.Errorf("missing: status %s error %+v", r.status(), e)
	}
}

func TestContextVariables(t *testing.T) {
	r := runDef(t, `
consts: { team: soc }
steps:
  - name: s
    type: console
    with:
      message:
        exec: "${{ execution.id }}"
        url: "{{ execution.url }}"
        by: "{{ execution.triggeredBy }}"
        team: "{{ consts.team }}"
        rule: "{{ event.rule.name }}"
        space: "{{ workflow.spaceId }}"
        enabled: "${{ workflow.enabled }}"
`, runOpts{uiBase: "http://ui:8233", event: map[string]any{"rule": map[string]any{"name": "R"}}})
	want := map[string]any{
		"exec": "default-test-workflow-id", "url": "http://ui:8233/namespaces/default-test-namespace/workflows/default-test-workflow-id/default-test-run-id/history",
		"by": "manual", "team": "soc", "rule": "R", "space": "default", "enabled": true,
	}
	if got := r.output("s"); !reflect.DeepEqual(got, want) {
		t.Errorf("context:\n got %v\nwant %v", jsonOf(got), jsonOf(want))
	}
}

func TestStepsVisibility(t *testing.T) {
	// A step after the if sees the branch that ran; a step inside else does
	// not see the then branch; a loop body does not see later steps.
	r := runDef(t, `
steps:
  - name: gate
    type: if
    condition: "${{ true }}"
    steps:
      - { name: a, type: console, with: { message: A } }
    else:
      - { name: b, type: console, with: { message: "[{{ steps.a.output }}]" } }
  - name: c
    type: console
    with: { message: "[{{ steps.a.output }}][{{ steps.b.output }}]" }
`, runOpts{})
	if got := r.output("c"); got != "[A][]" {
		t.Errorf("c = %v", got)
	}
	r = runDef(t, `
steps:
  - name: loop
    type: foreach
    foreach: "[1,2]"
    steps:
      - { name: first, type: console, with: { message: "[{{ steps.second.output }}]" } }
      - { name: second, type: console, with: { message: "S{{ foreach.item }}" } }
  - { name: after, type: console, with: { message: "{{ steps.first.output }}|{{ steps.second.output }}" } }
`, runOpts{})
	if got := r.output("first"); got != "[]" {
		t.Errorf("first sees a later step: %v", got)
	}
	if got := r.output("after"); got != "[]|S2" {
		t.Errorf("after = %v", got)
	}
}

func TestWorkflowLevelOnFailure(t *testing.T) {
	r := runDef(t, `
settings:
  on-failure:
    fallback:
      - { name: note, type: console, with: { message: "caught {{ error.type }}" } }
    continue: true
steps:
  - { name: boom, type: http, with: { url: "http://127.0.0.1:1/" } }
  - { name: after, type: console, with: { message: "after" } }
`, runOpts{})
	if r.status() != interpreter.StatusCompleted || !r.ran("after") {
		t.Fatalf("status %s, records %+v", r.status(), r.state.Steps)
	}
	if got := r.output("workflow-level-on-failure_boom_note"); got != "caught ConnectionRefused" {
		t.Errorf("fallback output %v (steps %v)", got, jsonOf(r.steps.Steps))
	}
}

func TestStepLevelForeachAndIterationOnFailure(t *testing.T) {
	r := runDef(t, `
steps:
  - name: ping
    type: test.echo
    foreach: '["a","b"]'
    with: { host: "{{ foreach.item }}" }
  - name: loop
    type: foreach
    foreach: "[1,2,3]"
    iteration-on-failure: { continue: true }
    steps:
      - { name: fails, type: http, if: "foreach.item: 2", with: { url: "http://127.0.0.1:1/" } }
      - { name: ok, type: test.echo, with: { i: "${{ foreach.item }}" } }
`, runOpts{})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s %+v", r.status(), r.errorOf())
	}
	var hosts []string
	for _, c := range r.f.callsTo("test.echo") {
		if h, ok := c.With["host"].(string); ok {
			hosts = append(hosts, h+"@"+c.Path)
		}
	}
	if want := []string{"a@ping/foreach[0]", "b@ping/foreach[1]"}; !reflect.DeepEqual(hosts, want) {
		t.Errorf("step-level foreach calls %q", hosts)
	}
	if st := r.stepValue("foreach_ping"); st["total"] != 2.0 {
		t.Errorf("foreach_ping state %v", jsonOf(st))
	}
	var is []float64
	for _, c := range r.f.callsTo("test.echo") {
		if i, ok := c.With["i"].(float64); ok {
			is = append(is, i)
		}
	}
	if want := []float64{1, 3}; !reflect.DeepEqual(is, want) {
		t.Errorf("iterations that reached ok: %v", is)
	}
}

// TestNoIntegrationImports keeps the interpreter free of integrations: it
// dispatches activities by name only (architecture §7.5).
func TestNoIntegrationImports(t *testing.T) {
	const mod = "github.com/secflow/secflow/"
	seen := map[string]bool{}
	var walk func(path string)
	walk = func(path string) {
		if seen[path] || !strings.HasPrefix(path, mod) {
			return
		}
		seen[path] = true
		rel := strings.TrimPrefix(path, mod)
		if strings.HasPrefix(rel, "activities/") || rel == "activities" || strings.HasPrefix(rel, "internal/connectors") {
			t.Errorf("interpreter imports %s", path)
			return
		}
		pkg, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("importing %s: %v", path, err)
		}
		for _, imp := range pkg.Imports {
			walk(imp)
		}
	}
	walk(mod + "interpreter")
	if len(seen) < 3 {
		t.Fatalf("walked only %v", seen)
	}
}

func TestUnimplementedTypeFailsBeforeAnyStep(t *testing.T) {
	f := &fakes{failUntil: map[string]int{}}
	reg := f.registry()
	// A flow type whose spec exists (validation passes) but that has no
	// executor: the run fails before any step, naming it.
	reg.MustAdd(&step.Spec{Type: "future.flow", Kind: step.KindFlow, OpenWith: true})
	def := mustLoad(t, "steps:\n  - { name: a, type: console, with: { message: x } }\n  - { name: b, type: future.flow }\n", reg)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	no := false
	if err := worker.Register(env, worker.Config{Registry: reg, SearchAttributes: &no}); err != nil {
		t.Fatal(err)
	}
	env.ExecuteWorkflow(def.ID, interpreter.RunInput{Definition: def, Engine: kibanaEngine})
	res, ok := interpreter.ResultFromError(env.GetWorkflowError())
	if !ok || res.Error == nil || res.Error.Type != "ValidationError" || !strings.Contains(res.Error.Message, "b (type future.flow is not implemented") {
		t.Errorf("result %+v", res)
	}
}

func TestMaxStepSize(t *testing.T) {
	r := runDef(t, `
settings: { max-step-size: 1kb }
steps:
  - { name: small, type: test.echo, with: { s: "x" } }
  - { name: big, type: test.echo, max-step-size: 10b, with: { s: "more than ten bytes" } }
`, runOpts{})
	e := r.errorOf()
	if r.status() != interpreter.StatusFailed || e == nil || e.Type != "StepSizeLimitExceeded" || !strings.Contains(e.Message, "big") {
		t.Errorf("status %s error %+v", r.status(), e)
	}
	if r.output("small") == nil {
		t.Error("small output missing")
	}
}
