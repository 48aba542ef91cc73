package interpreter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/worker"
)

// fakes are the activity step types the workflow tests register in a fresh
// registry. They record every call.
type fakes struct {
	mu    sync.Mutex
	calls []step.Input
	infos []activity.Info
	// failUntil makes test.flaky fail while its call count for a path is
	// below the value (per path).
	failUntil map[string]int
	// fixed makes test.fixable succeed once set.
	fixed bool
}

func (f *fakes) record(ctx context.Context, in step.Input) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	f.infos = append(f.infos, activity.GetInfo(ctx))
	n := 0
	for _, c := range f.calls {
		if c.Path == in.Path && c.Type == in.Type {
			n++
		}
	}
	return n
}

// callsTo returns the recorded calls of step type typ.
func (f *fakes) callsTo(typ string) []step.Input {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []step.Input
	for _, c := range f.calls {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakes) registry() *step.Registry {
	reg := step.NewRegistry()
	add := func(typ string, fn step.ActivityFunc) {
		reg.MustAdd(&step.Spec{Type: typ, Kind: step.KindActivity, Category: "test", Summary: typ, OpenWith: true, Activity: fn})
	}
	// http: a stand-in that refuses 127.0.0.1:1 like Kibana's ECONNREFUSED.
	add("http", func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
		f.record(ctx, in)
		u := in.String("url")
		if strings.HasPrefix(u, "http://127.0.0.1:1") {
			return nil, &step.Error{Type: "ConnectionRefused", Message: "Connection refused to http://127.0.0.1:1", Retryable: true}
		}
		if strings.Contains(u, "/404") {
			return nil, &step.Error{Type: "HttpRequestError", Message: "Request failed with status code 404",
				Details: map[string]any{"status": 404.0, "statusText": "Not Found"}}
		}
		return map[string]any{"status": 200.0, "statusText": "OK", "data": map[string]any{"ok": true}}, nil
	})
	add("test.echo", func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
		f.record(ctx, in)
		return in.With, nil
	})
	add("test.flaky", func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
		n := f.record(ctx, in)
		f.mu.Lock()
		limit := f.failUntil[in.Path]
		f.mu.Unlock()
		if n <= limit {
			return nil, &step.Error{Type: "HttpRequestError", Message: fmt.Sprintf("attempt %d failed", n)}
		}
		return map[string]any{"attempt": float64(n)}, nil
	})
	add("test.fixable", func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
		f.record(ctx, in)
		f.mu.Lock()
		ok := f.fixed
		f.mu.Unlock()
		if !ok {
			return nil, &step.Error{Type: "HttpRequestError", Message: "downstream says no"}
		}
		return map[string]any{"fixed": true}, nil
	})
	add("test.transient", func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
		n := f.record(ctx, in)
		if n < 3 {
			return nil, &step.Error{Type: "ConnectionRefused", Message: "Connection refused", Retryable: true}
		}
		return map[string]any{"calls": float64(n)}, nil
	})
	add("cases.createCase", func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
		f.record(ctx, in)
		return map[string]any{"case": map[string]any{"id": "case-1", "title": in.String("title")}}, nil
	})
	return reg
}

// runResult is what a test run produced.
type runResult struct {
	res   *interpreter.RunResult
	err   error // the workflow error (failed / timed out runs)
	state interpreter.State
	steps interpreter.Results
	f     *fakes
	env   *testsuite.TestWorkflowEnvironment
}

// status returns the run status whether the run completed or failed.
func (r *runResult) status() string {
	if r.res != nil {
		return r.res.Status
	}
	if res, ok := interpreter.ResultFromError(r.err); ok {
		return res.Status
	}
	return "error: " + fmt.Sprint(r.err)
}

// result returns the RunResult whether the run completed or failed.
func (r *runResult) result() *interpreter.RunResult {
	if r.res != nil {
		return r.res
	}
	res, _ := interpreter.ResultFromError(r.err)
	return res
}

// records returns the step records of path.
func (r *runResult) records(path string) []interpreter.StepRecord {
	var out []interpreter.StepRecord
	for _, s := range r.state.Steps {
		if s.Path == path {
			out = append(out, s)
		}
	}
	return out
}

// ran reports whether a step record exists for path.
func (r *runResult) ran(path string) bool { return len(r.records(path)) > 0 }

// output returns steps.<name>.output (nil when absent).
func (r *runResult) output(name string) any {
	m, _ := r.steps.Steps[name].(map[string]any)
	return m["output"]
}

// stepValue returns steps.<name> (nil when the step has no result).
func (r *runResult) stepValue(name string) map[string]any {
	m, _ := r.steps.Steps[name].(map[string]any)
	return m
}

// runOpts tunes a test run.
type runOpts struct {
	inputs  map[string]any
	event   map[string]any
	engine  *interpreter.EngineOptions
	setup   func(env *testsuite.TestWorkflowEnvironment, f *fakes)
	fakes   *fakes
	noLoad  bool // do not pin the definition: load it through the local activity
	defs    worker.Definitions
	timeout time.Duration
	uiBase  string
	// blobs and blobThreshold are the worker's blob store and threshold.
	blobs         blobstore.Store
	blobThreshold int
}

func off() *bool { b := false; return &b }

// kibanaEngine turns both deliberate differences off, so a run behaves as
// Kibana's engine does.
var kibanaEngine = &interpreter.EngineOptions{TransientRetry: off(), OperatorRecovery: off()}

// mustLoad loads a YAML definition against reg and fails the test on errors.
func mustLoad(t *testing.T, yaml string, reg *step.Registry) *interpreter.Definition {
	t.Helper()
	src := yaml
	if !strings.Contains(src, "triggers:") {
		src = "name: t\ntriggers:\n  - type: manual\n" + src
	}
	def, probs := interpreter.LoadBytes("t.yaml", []byte(src), interpreter.LoadOptions{Registry: reg})
	if err := probs.Err(); err != nil {
		t.Fatalf("definition does not load: %v\n%s", err, src)
	}
	return def
}

// run executes a YAML definition in a TestWorkflowEnvironment.
func runDef(t *testing.T, yaml string, o runOpts) *runResult {
	t.Helper()
	f := o.fakes
	if f == nil {
		f = &fakes{failUntil: map[string]int{}}
	}
	reg := f.registry()
	def := mustLoad(t, yaml, reg)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	if o.timeout > 0 {
		env.SetTestTimeout(o.timeout)
	}
	sa := true
	defs := o.defs
	if defs == nil {
		defs = mapDefs{def.ID: def}
	}
	if err := worker.Register(env, worker.Config{Registry: reg, SearchAttributes: &sa, UIBaseURL: o.uiBase, Definitions: defs,
		Blobs: o.blobs, BlobThreshold: o.blobThreshold}); err != nil {
		t.Fatal(err)
	}
	if o.setup != nil {
		o.setup(env, f)
	}
	engine := o.engine
	if engine == nil {
		engine = kibanaEngine
	}
	in := interpreter.RunInput{Definition: def, Inputs: o.inputs, Event: o.event, Engine: engine}
	if o.noLoad {
		in.Definition = nil
	}
	env.ExecuteWorkflow(def.ID, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	out := &runResult{f: f}
	out.collect(t, env)
	return out
}

// collect records the outcome of the run completed in env: its result or
// error, and the answers of the state and steps queries.
func (r *runResult) collect(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	r.env = env
	if err := env.GetWorkflowError(); err != nil {
		r.err = err
	} else {
		var res interpreter.RunResult
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		r.res = &res
	}
	v, err := env.QueryWorkflow(interpreter.QueryState)
	if err != nil {
		t.Fatalf("query state: %v", err)
	}
	if err := v.Get(&r.state); err != nil {
		t.Fatal(err)
	}
	v, err = env.QueryWorkflow(interpreter.QuerySteps)
	if err != nil {
		t.Fatalf("query steps: %v", err)
	}
	if err := v.Get(&r.steps); err != nil {
		t.Fatal(err)
	}
}

// mapDefs is an in-memory definition store.
type mapDefs map[string]*interpreter.Definition

func (m mapDefs) Get(id string) (*interpreter.Definition, bool) { d, ok := m[id]; return d, ok }

// jsonOf renders v as JSON for comparisons and messages.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// errType returns the type of the run error.
func (r *runResult) errorOf() *step.Error {
	if res := r.result(); res != nil {
		return res.Error
	}
	var se *step.Error
	if errors.As(r.err, &se) {
		return se
	}
	return nil
}
