package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/worker"
)

// Integration tests against the real embedded Temporal server.

var updateHistories = flag.Bool("update-histories", false, "rewrite interpreter/testdata/histories from fresh runs")

func TestMain(m *testing.M) { testenv.Main(m) }

// sideEffects are the fake integrations of the end-to-end tests.
type sideEffects struct {
	fixed     atomic.Bool
	calls     atomic.Int32
	successes atomic.Int32
	started   atomic.Bool
	cancelled atomic.Bool
}

func (s *sideEffects) registry() *step.Registry {
	reg := step.NewRegistry()
	reg.MustAdd(&step.Spec{Type: "test.fixable", Kind: step.KindActivity, OpenWith: true,
		Activity: func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
			s.calls.Add(1)
			if !s.fixed.Load() {
				return nil, step.Errorf("HttpRequestError", "Request failed with status code 503 (not fixed yet)")
			}
			s.successes.Add(1)
			return map[string]any{"fixed": true, "key": in.IdempotencyKey}, nil
		}})
	reg.MustAdd(&step.Spec{Type: "test.echo", Kind: step.KindActivity, OpenWith: true,
		Activity: func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) { return in.With, nil }})
	reg.MustAdd(&step.Spec{Type: "test.block", Kind: step.KindActivity, OpenWith: true, Heartbeat: true,
		Activity: func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
			s.started.Store(true)
			for {
				activity.RecordHeartbeat(ctx)
				select {
				case <-ctx.Done():
					s.cancelled.Store(true)
					return nil, ctx.Err()
				case <-time.After(200 * time.Millisecond):
				}
			}
		}})
	reg.MustAdd(&step.Spec{Type: "cases.createCase", Kind: step.KindActivity, OpenWith: true,
		Activity: func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
			return map[string]any{"case": map[string]any{"id": "case-42"}}, nil
		}})
	return reg
}

type store map[string]*interpreter.Definition

func (m store) Get(id string) (*interpreter.Definition, bool) { d, ok := m[id]; return d, ok }

func load(t *testing.T, id, yaml string, reg *step.Registry) *interpreter.Definition {
	t.Helper()
	def, probs := interpreter.LoadBytes(id+".yaml", []byte("name: "+id+"\ntriggers:\n  - type: manual\n"+yaml), interpreter.LoadOptions{Registry: reg})
	if err := probs.Err(); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return def
}

// startWorker runs a secflow worker on a fresh task queue.
func startWorker(t *testing.T, env *testenv.Env, tq string, reg *step.Registry, defs worker.Definitions) func() {
	t.Helper()
	w, err := worker.New(worker.Config{Client: env.Client, TaskQueue: tq, Namespace: env.Namespace, Registry: reg,
		Definitions: defs, UIBaseURL: env.UIURL})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			w.Stop()
		}
	}
	t.Cleanup(stop)
	return stop
}

func queryState(ctx context.Context, c client.Client, id string) (interpreter.State, error) {
	var st interpreter.State
	v, err := c.QueryWorkflow(ctx, id, "", interpreter.QueryState)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}

// waitFor polls the state query until cond holds.
func waitFor(t *testing.T, c client.Client, id string, what string, cond func(interpreter.State) bool) interpreter.State {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st, err := queryState(context.Background(), c, id)
		if err == nil && cond(st) {
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, err := queryState(context.Background(), c, id)
	t.Fatalf("timed out waiting for %s: state %+v (%v)", what, st, err)
	return st
}

func control(ctx context.Context, c client.Client, id string, req interpreter.ControlRequest) error {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: interpreter.StepControl,
		Args: []any{req}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return err
	}
	var resp interpreter.ControlResponse
	return h.Get(ctx, &resp)
}

func keyword(t *testing.T, c client.Client, id string, key temporal.SearchAttributeKeyKeyword) string {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(context.Background(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	p := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[key.GetName()]
	if p == nil {
		return ""
	}
	var s string
	_ = json.Unmarshal(p.GetData(), &s)
	return s
}

const parkYAML = `
steps:
  - { name: first, type: console, with: { message: start } }
  - { name: enrich, type: test.fixable, with: { q: x } }
  - { name: report, type: console, with: { message: "fixed={{ steps.enrich.output.fixed }}" } }
`

// TestOperatorRecoveryEndToEnd: a step that fails until a flag is set
// parks; a retry before the fix parks again; the retry after the fix
// completes the run with exactly one successful side effect.
func TestOperatorRecoveryEndToEnd(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	fx := &sideEffects{}
	reg := fx.registry()
	def := load(t, "park-retry", parkYAML, reg)
	startWorker(t, env, tq, reg, store{def.ID: def})
	ctx := context.Background()
	id := "park-retry-" + tq
	// No definition in the input: the worker loads and pins it.
	run, err := env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, def.ID,
		interpreter.RunInput{Engine: &interpreter.EngineOptions{TransientRetry: new(bool)}})
	if err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, env.Client, id, "parking", func(s interpreter.State) bool { return s.Status == interpreter.StatusWaitingForOperator })
	if st.WaitingFor == nil || st.WaitingFor.Step != "enrich" || !strings.Contains(st.WaitingFor.Message, "step-control") {
		t.Errorf("waitingFor %+v", st.WaitingFor)
	}
	if got := keyword(t, env.Client, id, searchattr.StepStatus); got != interpreter.StatusWaitingForOperator {
		t.Errorf("StepStatus = %q", got)
	}
	if got := keyword(t, env.Client, id, searchattr.CurrentStep); got != "enrich" {
		t.Errorf("CurrentStep = %q", got)
	}
	if err := control(ctx, env.Client, id, interpreter.ControlRequest{Step: "nope", Action: "retry"}); err == nil {
		t.Error("the validator accepted an unknown step")
	}
	// Retry before the fix: parks again.
	if err := control(ctx, env.Client, id, interpreter.ControlRequest{Step: "enrich", Action: "retry"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, env.Client, id, "second parking", func(s interpreter.State) bool {
		return s.Status == interpreter.StatusWaitingForOperator && fx.calls.Load() == 2
	})
	fx.fixed.Store(true)
	if err := control(ctx, env.Client, id, interpreter.ControlRequest{Step: "enrich", Action: "retry"}); err != nil {
		t.Fatal(err)
	}
	var res interpreter.RunResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != interpreter.StatusCompleted || fx.successes.Load() != 1 || fx.calls.Load() != 3 {
		t.Errorf("result %+v, successes %d, calls %d", res, fx.successes.Load(), fx.calls.Load())
	}
	if got := keyword(t, env.Client, id, searchattr.StepStatus); got != interpreter.StatusCompleted {
		t.Errorf("final StepStatus = %q", got)
	}
	d, err := env.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	var rev string
	if p := d.GetWorkflowExecutionInfo().GetMemo().GetFields()[interpreter.MemoRevision]; p != nil {
		_ = json.Unmarshal(p.GetData(), &rev)
	}
	if rev != def.Revision {
		t.Errorf("memo revision %q, want %q", rev, def.Revision)
	}
}

// TestOperatorSkipSignalAndFail: skip (sent as a signal) continues with
// the given output; fail ends the run failed with the original error.
func TestOperatorSkipSignalAndFail(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	fx := &sideEffects{}
	reg := fx.registry()
	def := load(t, "park-skip", parkYAML, reg)
	startWorker(t, env, tq, reg, nil)
	ctx := context.Background()
	in := interpreter.RunInput{Definition: def, Engine: &interpreter.EngineOptions{TransientRetry: new(bool)}}

	id := "park-skip-" + tq
	run, err := env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, def.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, env.Client, id, "parking", func(s interpreter.State) bool { return s.Status == interpreter.StatusWaitingForOperator })
	if err := env.Client.SignalWorkflow(ctx, id, "", interpreter.StepControl,
		interpreter.ControlRequest{Step: "enrich", Action: "skip", Output: map[string]any{"fixed": "manually"}}); err != nil {
		t.Fatal(err)
	}
	var res interpreter.RunResult
	if err := run.Get(ctx, &res); err != nil || res.Status != interpreter.StatusCompleted {
		t.Fatalf("skip: %+v %v", res, err)
	}
	v, err := env.Client.QueryWorkflow(ctx, id, "", interpreter.QuerySteps)
	if err != nil {
		t.Fatal(err)
	}
	var steps interpreter.Results
	_ = v.Get(&steps)
	if out := steps.Steps["report"].(map[string]any)["output"]; out != "fixed=manually" {
		t.Errorf("report after skip = %v", out)
	}

	id = "park-fail-" + tq
	run, err = env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, def.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, env.Client, id, "parking", func(s interpreter.State) bool { return s.Status == interpreter.StatusWaitingForOperator })
	if err := control(ctx, env.Client, id, interpreter.ControlRequest{Step: "enrich", Action: "fail"}); err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	got, ok := interpreter.ResultFromError(err)
	if !ok || got.Status != interpreter.StatusFailed || got.Error == nil || got.Error.Type != "HttpRequestError" {
		t.Errorf("fail: %+v (%v)", got, err)
	}
	d, _ := env.Client.DescribeWorkflowExecution(ctx, id, "")
	if s := d.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
		t.Errorf("Temporal status %v", s)
	}
}

// TestCancelEndToEnd: `temporal workflow cancel` cancels the in-flight
// activity and the run ends cancelled.
func TestCancelEndToEnd(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	fx := &sideEffects{}
	reg := fx.registry()
	def := load(t, "cancel", "steps:\n  - { name: block, type: test.block }\n  - { name: never, type: console, with: { message: x } }\n", reg)
	startWorker(t, env, tq, reg, nil)
	ctx := context.Background()
	id := "cancel-" + tq
	run, err := env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, def.ID, interpreter.RunInput{Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !fx.started.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := env.Client.CancelWorkflow(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var ce *temporal.CanceledError
	if !errors.As(err, &ce) {
		t.Errorf("run error %v, want cancelled", err)
	}
	// The activity learns about the cancellation with its next heartbeat
	// (throttled to 0.8 × the 15 s heartbeat timeout).
	deadline = time.Now().Add(20 * time.Second)
	for !fx.cancelled.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !fx.cancelled.Load() {
		t.Error("the in-flight activity was not cancelled")
	}
}

// TestPinnedRevision: a run started, the definition file edited, the
// worker restarted: the running execution finishes on the old revision.
func TestPinnedRevision(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	fx := &sideEffects{}
	reg := fx.registry()
	dir := t.TempDir()
	file := filepath.Join(dir, "pinned.yaml")
	write := func(v string) {
		src := "name: pinned\ntriggers:\n  - type: manual\nsteps:\n  - { name: nap, type: wait, with: { duration: 3s } }\n" +
			"  - { name: out, type: workflow.output, with: { version: " + v + " } }\n"
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("v1")
	ds, err := defstore.Open(dir, reg)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := ds.Get("pinned")
	stop := startWorker(t, env, tq, reg, ds)
	ctx := context.Background()
	id := "pinned-" + tq
	run, err := env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, "pinned", interpreter.RunInput{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, env.Client, id, "the wait step", func(s interpreter.State) bool { return s.CurrentStep == "nap" })
	stop()
	write("v2")
	time.Sleep(10 * time.Millisecond) // a distinct mtime for the store's fingerprint
	if _, err := ds.Reload(); err != nil {
		t.Fatal(err)
	}
	if d, _ := ds.Get("pinned"); d.Revision == old.Revision {
		t.Fatal("the edit did not change the revision")
	}
	startWorker(t, env, tq, reg, ds)
	var res interpreter.RunResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Output["version"] != "v1" {
		t.Errorf("output %v, want the old revision's v1", res.Output)
	}
	st, _ := queryState(ctx, env.Client, id)
	if st.Revision != old.Revision {
		t.Errorf("state revision %s, want %s", st.Revision, old.Revision)
	}
}

func runToEnd(t *testing.T, env *testenv.Env, tq string, def *interpreter.Definition, id string, in interpreter.RunInput) *historypb.History {
	t.Helper()
	in.Definition = def
	run, err := env.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: tq}, def.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	_ = run.Get(context.Background(), nil)
	return testenv.History(t, env.Client, id, "")
}

// TestHistoryCost measures history events per simple step and, with
// -update-histories, writes the histories the interpreter's replay test
// replays (interpreter/testdata/histories).
func TestHistoryCost(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	fx := &sideEffects{}
	reg := fx.registry()
	startWorker(t, env, tq, reg, nil)
	steps := func(typ string, n int) string {
		var b strings.Builder
		b.WriteString("steps:\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "  - { name: s%d, type: %s, with: { message: \"m{{ execution.id }}\" } }\n", i, typ)
		}
		return b.String()
	}
	count := func(typ string, n int) int {
		def := load(t, fmt.Sprintf("cost-%s-%d", strings.ReplaceAll(typ, ".", "-"), n), steps(typ, n), reg)
		return len(runToEnd(t, env, tq, def, def.ID+"-"+tq, interpreter.RunInput{}).Events)
	}
	base := count("console", 1)
	cons := count("console", 5)
	act1 := count("test.echo", 1)
	act5 := count("test.echo", 5)
	perConsole := float64(cons-base) / 4
	perActivity := float64(act5-act1) / 4
	t.Logf("history events: run with 1 console step = %d; per extra console step = %.1f; run with 1 activity step = %d; per extra activity step = %.1f",
		base, perConsole, act1, perActivity)
	if perConsole != 0 {
		t.Errorf("a console step costs %.1f events, want 0 (it runs in workflow code)", perConsole)
	}
	if perActivity > 6 {
		t.Errorf("an activity step costs %.1f events, want ≤ 6", perActivity)
	}

	// Representative runs for the replay test.
	reps := map[string]string{
		"representative": `
settings: { timeout: 1h }
steps:
  - { name: init, type: data.set, with: { hosts: [a, b] } }
  - name: each
    type: foreach
    foreach: "${{ variables.hosts }}"
    steps:
      - { name: lookup, type: test.echo, timeout: 30s, with: { host: "{{ foreach.item }}" } }
      - name: maybe
        type: if
        condition: "foreach.item: b"
        steps:
          - { name: nap, type: wait, with: { duration: 1s } }
  - name: flaky
    type: test.fixable
    on-failure:
      retry: { max-attempts: 1, delay: 1s }
      fallback:
        - { name: note, type: console, with: { message: "failed: {{ error.message }}" } }
      continue: true
  - { name: open_case, type: cases.createCase, with: { title: t } }
  - name: route
    type: switch
    expression: "{{ steps.open_case.output.case.id }}"
    cases:
      - { match: case-42, steps: [ { name: routed, type: test.echo, with: { ok: true } } ] }
  - { name: done, type: workflow.output, with: { case: "{{ steps.open_case.output.case.id }}" } }
`,
	}
	for name, yaml := range reps {
		def := load(t, name, yaml, reg)
		h := runToEnd(t, env, tq, def, name+"-"+tq, interpreter.RunInput{Engine: &interpreter.EngineOptions{OperatorRecovery: new(bool)}})
		t.Logf("%s: %d events", name, len(h.Events))
		if last := h.Events[len(h.Events)-1]; last.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
			t.Errorf("%s ended with %v", name, last.GetEventType())
		}
		if got := keyword(t, env.Client, name+"-"+tq, searchattr.CaseID); got != "case-42" {
			t.Errorf("%s: CaseId = %q", name, got)
		}
		if *updateHistories {
			b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join("..", "interpreter", "testdata", "histories", name+".json")
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestConformanceOnServer runs the loop, retry, timeout and HITL cases on
// the real server (the test environment covers them in detail).
func TestConformanceOnServer(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	fx := &sideEffects{}
	reg := fx.registry()
	startWorker(t, env, tq, reg, nil)
	ctx := context.Background()
	kibana := &interpreter.EngineOptions{TransientRetry: new(bool), OperatorRecovery: new(bool)}
	start := func(name, yaml string) (client.WorkflowRun, string) {
		def := load(t, name, yaml, reg)
		id := name + "-" + tq
		run, err := env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, def.ID,
			interpreter.RunInput{Definition: def, Engine: kibana})
		if err != nil {
			t.Fatal(err)
		}
		return run, id
	}

	t.Run("C27 loop", func(t *testing.T) {
		run, _ := start("loop", `
steps:
  - name: loop
    type: foreach
    foreach: "[1,2,3,4]"
    steps:
      - { name: skip2, type: loop.continue, if: "foreach.item: 2" }
      - { name: stop4, type: loop.break, if: "foreach.item: 4" }
      - { name: log, type: data.set, with: { seen: "${{ variables.seen | default: '' | append: foreach.item }}" } }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}" } }
`)
		var res interpreter.RunResult
		if err := run.Get(ctx, &res); err != nil || res.Output["seen"] != "13" {
			t.Errorf("result %+v %v", res, err)
		}
	})
	t.Run("C30 retry", func(t *testing.T) {
		before := fx.calls.Load()
		run, _ := start("retry", "steps:\n  - { name: s, type: test.fixable, on-failure: { retry: { max-attempts: 2, delay: 200ms } } }\n")
		res, ok := interpreter.ResultFromError(run.Get(ctx, nil))
		if !ok || res.Status != interpreter.StatusFailed || fx.calls.Load()-before != 3 {
			t.Errorf("result %+v, %d calls", res, fx.calls.Load()-before)
		}
	})
	t.Run("C34 workflow timeout", func(t *testing.T) {
		run, id := start("wftimeout", "settings: { timeout: 1s }\nsteps:\n  - { name: nap, type: wait, with: { duration: 30s } }\n")
		res, ok := interpreter.ResultFromError(run.Get(ctx, nil))
		if !ok || res.Status != interpreter.StatusTimedOut || res.Error != nil {
			t.Errorf("result %+v", res)
		}
		st, _ := queryState(ctx, env.Client, id)
		if len(st.Steps) != 1 || st.Steps[0].Error == nil || st.Steps[0].Error.Message != "Failed due to workflow timeout" {
			t.Errorf("steps %+v", st.Steps)
		}
	})
	t.Run("C41 waitForInput", func(t *testing.T) {
		run, id := start("hitl", `
steps:
  - { name: ask, type: waitForInput, with: { message: "ok?", schema: { properties: { ok: { type: boolean } }, required: [ok] } } }
  - { name: out, type: workflow.output, with: { ok: "{{ steps.ask.output.input.ok }}" } }
`)
		waitFor(t, env.Client, id, "waiting for input", func(s interpreter.State) bool { return s.Status == interpreter.StatusWaitingForInput })
		upd := func(in map[string]any) error {
			h, err := env.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: interpreter.Resume,
				Args: []any{interpreter.ResumeRequest{Input: in}}, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err != nil {
				return err
			}
			return h.Get(ctx, nil)
		}
		if err := upd(map[string]any{"ok": "not a bool"}); err == nil {
			t.Error("invalid input accepted")
		}
		if err := upd(map[string]any{"ok": true}); err != nil {
			t.Fatal(err)
		}
		var res interpreter.RunResult
		if err := run.Get(ctx, &res); err != nil || res.Output["ok"] != true {
			t.Errorf("result %+v %v", res, err)
		}
	})
}
