package interpreter_test

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/secflow/secflow/interpreter"
)

// The parallel step (§6.1.6): static and dynamic branches, fail-fast and
// settled, per-branch steps.* (Kibana #290309 done right), concurrency,
// branch-timeout and the step timeout.

// parallelOut returns steps.<name>.output as a map.
func parallelOut(t *testing.T, r *runResult, name string) map[string]any {
	t.Helper()
	m, ok := r.output(name).(map[string]any)
	if !ok {
		t.Fatalf("steps.%s.output = %s", name, jsonOf(r.output(name)))
	}
	return m
}

// branchResults returns output.results as maps.
func branchResults(t *testing.T, out map[string]any) []map[string]any {
	t.Helper()
	list, _ := out["results"].([]any)
	res := make([]map[string]any, len(list))
	for i, v := range list {
		res[i], _ = v.(map[string]any)
	}
	return res
}

func TestParallelStaticSettled(t *testing.T) {
	r := runDef(t, `
steps:
  - { name: before, type: console, with: { message: ip-1 } }
  - name: enrich
    type: parallel
    mode: settled
    branches:
      - name: vt
        steps:
          - { name: vt_lookup, type: test.echo, with: { ip: "{{ steps.before.output }}" } }
      - name: abuse
        steps:
          - { name: abuse_lookup, type: http, with: { url: "http://x/404", peek: "[{{ steps.vt_lookup.output.ip }}]" } }
  - { name: after, type: console, with: { message: "{{ steps.enrich.output.failed }}/{{ steps.enrich.output.total }} {{ steps.vt_lookup.output.ip }}" } }
`, runOpts{})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	out := parallelOut(t, r, "enrich")
	if out["total"] != 2.0 || out["succeeded"] != 1.0 || out["failed"] != 1.0 || out["status"] != "failed" {
		t.Errorf("aggregate %s", jsonOf(out))
	}
	res := branchResults(t, out)
	if len(res) != 2 || res[0]["key"] != "vt" || res[0]["status"] != "completed" || res[1]["key"] != "abuse" || res[1]["status"] != "failed" {
		t.Fatalf("results %s", jsonOf(res))
	}
	if got := jsonOf(res[0]["output"]); got != `{"ip":"ip-1"}` {
		t.Errorf("vt output %s (a branch sees the steps before the parallel step)", got)
	}
	if e, _ := res[1]["error"].(map[string]any); e["type"] != "HttpRequestError" || res[1]["output"] != nil {
		t.Errorf("abuse result %s", jsonOf(res[1]))
	}
	for _, k := range []string{"startedAt", "finishedAt", "durationMs"} {
		if _, ok := res[0][k].(float64); !ok {
			t.Errorf("result has no numeric %s: %s", k, jsonOf(res[0]))
		}
	}
	branches, _ := out["branches"].(map[string]any)
	vt, _ := branches["vt"].(map[string]any)
	if vt["status"] != "completed" || jsonOf(vt["output"]) != `{"ip":"ip-1"}` {
		t.Errorf("branches.vt %s", jsonOf(branches))
	}
	// The abuse branch cannot see the vt branch (another branch of the
	// same parallel step).
	calls := r.f.callsTo("http")
	if len(calls) != 1 || calls[0].With["peek"] != "[]" {
		t.Errorf("abuse saw vt: %+v", calls)
	}
	if got := r.output("after"); got != "1/2 ip-1" {
		t.Errorf("after = %q (branch results are visible after the step)", got)
	}
	if !r.ran("enrich/vt/vt_lookup") || !r.ran("enrich/abuse/abuse_lookup") {
		t.Errorf("branch step paths: %+v", r.state.Steps)
	}
}

func TestParallelFailFast(t *testing.T) {
	f := &fakes{failUntil: map[string]int{"fan/branch[1]/call": 99}}
	r := runDef(t, `
steps:
  - name: fan
    type: parallel
    foreach: "[1, 2, 3]"
    concurrency: 1
    steps:
      - { name: call, type: test.flaky, with: { n: "${{ foreach.item }}" } }
    on-failure: { continue: true }
  - { name: after, type: console, with: { message: "${{ steps.fan.output }}" } }
`, runOpts{fakes: f})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	fan := r.stepValue("fan")
	e, _ := fan["error"].(map[string]any)
	const want = `Parallel step "fan" failed (fail-fast): 1 of 3 branch(es) failed; first failure in branch 1: attempt 1 failed`
	if e["message"] != want || e["type"] != "Error" {
		t.Errorf("error %s\nwant %q", jsonOf(e), want)
	}
	// The aggregate stays readable on the failed step.
	out, _ := r.output("after").(map[string]any)
	res := branchResults(t, out)
	if len(res) != 3 {
		t.Fatalf("aggregate %s", jsonOf(out))
	}
	for i, st := range []string{"completed", "failed", "skipped"} {
		if res[i]["status"] != st || res[i]["key"] != float64(i+1) {
			t.Errorf("result %d: %s, want status %s", i, jsonOf(res[i]), st)
		}
	}
	if _, ok := res[2]["startedAt"]; ok {
		t.Errorf("a skipped branch has no startedAt: %s", jsonOf(res[2]))
	}
	if out["status"] != "failed" || out["succeeded"] != 1.0 || out["failed"] != 1.0 {
		t.Errorf("aggregate %s", jsonOf(out))
	}
	if _, ok := out["branches"]; ok {
		t.Errorf("dynamic mode has no branches map: %s", jsonOf(out))
	}
	if n := len(f.callsTo("test.flaky")); n != 2 {
		t.Errorf("%d calls, want 2 (the third branch never starts)", n)
	}
	if r.ran("fan/branch[2]/call") {
		t.Errorf("skipped branch ran")
	}

	// Without on-failure the run fails with the aggregate error.
	f = &fakes{failUntil: map[string]int{"p/b/x": 99}}
	r = runDef(t, `
steps:
  - name: p
    type: parallel
    branches:
      - { name: a, steps: [ { name: ok, type: test.echo, with: { v: 1 } } ] }
      - { name: b, steps: [ { name: x, type: test.flaky } ] }
`, runOpts{fakes: f})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil ||
		e.Message != `Parallel step "p" failed (fail-fast): 1 of 2 branch(es) failed; first failure in branch "b": attempt 1 failed` {
		t.Errorf("status %s error %+v", r.status(), r.errorOf())
	}
}

// TestParallelBranchIsolation is Kibana issue #290309: in a dynamic fan-out
// a branch reading an earlier step of its own branch must see its own
// value, however the branches interleave.
func TestParallelBranchIsolation(t *testing.T) {
	r := runDef(t, `
steps:
  - name: fan
    type: parallel
    foreach: '[{"v":"a","d":"30s"},{"v":"b","d":"10s"},{"v":"c","d":"20s"}]'
    steps:
      - { name: ctx, type: test.echo, with: { v: "{{ foreach.item.v }}" } }
      - { name: pause, type: wait, with: { duration: "{{ foreach.item.d }}" } }
      - { name: use, type: console, with: { message: "{{ foreach.index }}:{{ steps.ctx.output.v }}" } }
  - { name: after, type: console, with: { message: "{{ steps.use.output }}" } }
`, runOpts{})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	res := branchResults(t, parallelOut(t, r, "fan"))
	for i, want := range []string{"0:a", "1:b", "2:c"} {
		if len(res) != 3 || res[i]["output"] != want {
			t.Fatalf("results %s: branch %d should output %q", jsonOf(res), i, want)
		}
		if res[i]["key"] == nil {
			t.Errorf("dynamic branch %d has no key", i)
		}
	}
	// After the step the branches' results are merged in index order.
	if got := r.output("after"); got != "2:c" {
		t.Errorf("after = %q", got)
	}
	// All branches started together (default concurrency 5).
	for i := range res {
		if res[i]["startedAt"] != res[0]["startedAt"] {
			t.Errorf("branch %d started at %v, branch 0 at %v", i, res[i]["startedAt"], res[0]["startedAt"])
		}
	}
	if d := res[0]["durationMs"]; d != 30000.0 {
		t.Errorf("branch 0 durationMs %v, want 30000", d)
	}
}

func TestParallelConcurrency(t *testing.T) {
	r := runDef(t, `
steps:
  - name: fan
    type: parallel
    foreach: "[0, 1, 2, 3, 4]"
    concurrency: { max: 2 }
    steps:
      - { name: pause, type: wait, with: { duration: 10s } }
`, runOpts{})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	res := branchResults(t, parallelOut(t, r, "fan"))
	t0 := res[0]["startedAt"].(float64)
	for i, wantOffset := range []float64{0, 0, 10000, 10000, 20000} {
		if got := res[i]["startedAt"].(float64) - t0; got != wantOffset {
			t.Errorf("branch %d started %vms after branch 0, want %v", i, got, wantOffset)
		}
	}
}

func TestParallelTimeouts(t *testing.T) {
	r := runDef(t, `
steps:
  - name: fan
    type: parallel
    mode: settled
    foreach: '["1s", "1m"]'
    branch-timeout: 30s
    steps:
      - { name: pause, type: wait, with: { duration: "{{ foreach.item }}" } }
      - { name: done, type: console, with: { message: "done {{ foreach.item }}" } }
`, runOpts{})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	out := parallelOut(t, r, "fan")
	res := branchResults(t, out)
	if res[0]["status"] != "completed" || res[0]["output"] != "done 1s" {
		t.Errorf("branch 0 %s", jsonOf(res[0]))
	}
	e, _ := res[1]["error"].(map[string]any)
	if res[1]["status"] != "timed_out" || e["type"] != "TimeoutError" || e["message"] != "Parallel branch 1 was terminated by a timeout." {
		t.Errorf("branch 1 %s", jsonOf(res[1]))
	}
	if res[1]["durationMs"] != 30000.0 {
		t.Errorf("branch 1 ran %vms, want 30000", res[1]["durationMs"])
	}
	if out["failed"] != 1.0 || out["succeeded"] != 1.0 || out["status"] != "failed" {
		t.Errorf("aggregate %s", jsonOf(out))
	}
	if r.ran("fan/branch[1]/done") {
		t.Errorf("the timed-out branch went on")
	}

	// The step's own timeout bounds the whole step.
	r = runDef(t, `
steps:
  - name: fan
    type: parallel
    timeout: 10s
    branches:
      - { name: slow, steps: [ { name: pause, type: wait, with: { duration: 1m } } ] }
  - { name: after, type: console, with: { message: x } }
`, runOpts{})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || e.Type != "TimeoutError" ||
		e.Message != "Step execution exceeded the configured timeout of 10s." {
		t.Errorf("status %s error %+v", r.status(), r.errorOf())
	}
	if r.ran("after") {
		t.Errorf("after ran")
	}
}

func TestParallelEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, def, status, want string
	}{
		{"empty fan-out", `
steps:
  - name: fan
    type: parallel
    foreach: "[]"
    steps: [ { name: x, type: console, with: { message: x } } ]
  - { name: after, type: console, with: { message: "${{ steps.fan.output }}" } }
`, interpreter.StatusCompleted, `{"failed":0,"results":[],"status":"completed","succeeded":0,"total":0}`},
		{"not an array", `
steps:
  - name: fan
    type: parallel
    foreach: "{{ consts.x }}"
    steps: [ { name: x, type: console, with: { message: x } } ]
consts: { x: 5 }
`, interpreter.StatusFailed, `Parallel step "fan" foreach expression must evaluate to an array, but "{{ consts.x }}" did not. Provide a literal array or an expression that resolves to one.`},
		{"fan-out cap", `
steps:
  - name: fan
    type: parallel
    foreach: "${{ consts.many }}"
    steps: [ { name: x, type: console, with: { message: x } } ]
consts: { many: [` + strings.Repeat("0, ", 100) + `0] }
`, interpreter.StatusFailed, `Parallel step "fan" fan-out of 101 exceeds the maximum of 100. Reduce the size of the "foreach" list.`},
		{"workflow.output in a branch ends the run", `
steps:
  - name: fan
    type: parallel
    branches:
      - { name: a, steps: [ { name: stop, type: workflow.output, with: { verdict: done } } ] }
      - { name: b, steps: [ { name: pause, type: wait, with: { duration: 1h } }, { name: late, type: console, with: { message: late } } ] }
  - { name: after, type: console, with: { message: after } }
`, interpreter.StatusCompleted, `{"verdict":"done"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runDef(t, tc.def, runOpts{})
			if r.status() != tc.status {
				t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
			}
			var got string
			switch {
			case tc.status == interpreter.StatusFailed:
				got = r.errorOf().Message
			case r.ran("after"):
				got = jsonOf(r.output("after"))
			default:
				got = jsonOf(r.result().Output)
				if r.ran("after") || r.ran("fan/b/late") {
					t.Errorf("steps ran after workflow.output: %+v", r.state.Steps)
				}
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestParallelNestedFlow: branch bodies may hold flow control and
// on-failure (Kibana v1 rejects them; secflow runs them).
func TestParallelNestedFlow(t *testing.T) {
	f := &fakes{failUntil: map[string]int{"p/b/inner/foreach[1]/x": 99}}
	r := runDef(t, `
steps:
  - name: p
    type: parallel
    branches:
      - name: a
        steps:
          - name: gate
            type: if
            condition: "true"
            steps: [ { name: yes, type: console, with: { message: "yes" } } ]
      - name: b
        steps:
          - name: inner
            type: foreach
            foreach: "[1, 2]"
            steps:
              - { name: x, type: test.flaky, on-failure: { continue: true } }
          - { name: last, type: console, with: { message: "{{ steps.x.error.message }}" } }
`, runOpts{fakes: f})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	res := branchResults(t, parallelOut(t, r, "p"))
	if res[0]["status"] != "completed" || res[0]["output"] != nil {
		t.Errorf("branch a %s (an if step has no output)", jsonOf(res[0]))
	}
	if res[1]["status"] != "completed" || !strings.Contains(jsonOf(res[1]["output"]), "attempt 1 failed") {
		t.Errorf("branch b %s", jsonOf(res[1]))
	}
}

// TestParallelBranchesWaitForInput: two branches wait for a human at the
// same time; each is answered on its own path (one by update, one by the
// batch signal), and a bare name matching both is rejected.
func TestParallelBranchesWaitForInput(t *testing.T) {
	var ambiguous, early error
	var waiting interpreter.State
	r := runDef(t, `
steps:
  - name: p
    type: parallel
    branches:
      - { name: a, steps: [ { name: ask, type: waitForInput, with: { message: "a?" } } ] }
      - { name: b, steps: [ { name: ask2, type: waitForInput, with: { message: "b?" } } ] }
`, runOpts{setup: func(env *testsuite.TestWorkflowEnvironment, f *fakes) {
		resume(env, time.Minute, interpreter.ResumeRequest{Input: map[string]any{"v": "x"}}, &ambiguous, &waiting)
		resume(env, 2*time.Minute, interpreter.ResumeRequest{Step: "p/a/ask", Input: map[string]any{"v": "a"}, By: "alice"}, nil, nil)
		resume(env, 3*time.Minute, interpreter.ResumeRequest{Step: "p/a/ask", Input: map[string]any{"v": "again"}}, &early, nil)
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(interpreter.Resume, interpreter.ResumeRequest{Step: "p/b/ask2", Input: map[string]any{"v": "b"}})
		}, 4*time.Minute)
	}})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	if waiting.Status != interpreter.StatusWaitingForInput {
		t.Errorf("while both wait: status %s", waiting.Status)
	}
	if ambiguous == nil || !strings.Contains(ambiguous.Error(), "p/a/ask") || !strings.Contains(ambiguous.Error(), "p/b/ask2") {
		t.Errorf("a resume without step while two wait: %v", ambiguous)
	}
	if early == nil {
		t.Errorf("a second answer to the same step was accepted")
	}
	res := branchResults(t, parallelOut(t, r, "p"))
	a, _ := res[0]["output"].(map[string]any)
	b, _ := res[1]["output"].(map[string]any)
	if jsonOf(a["input"]) != `{"v":"a"}` || a["resumedBy"] != "alice" || jsonOf(b["input"]) != `{"v":"b"}` {
		t.Errorf("results %s", jsonOf(res))
	}
	if d := res[1]["durationMs"]; d != 240000.0 {
		t.Errorf("branch b answered after %vms, want 240000", d)
	}
}
