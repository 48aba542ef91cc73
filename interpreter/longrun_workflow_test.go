package interpreter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/worker"
)

// chainOpts tunes runChain.
type chainOpts struct {
	blobs     blobstore.Store
	threshold int
	// canAfter is Options.ContinueAsNewAfterEvents; eventsPerActivity is
	// how much each completed activity grows the simulated history length
	// (the test environment does not count events itself).
	canAfter          int
	eventsPerActivity int
	// suggestCAN makes GetContinueAsNewSuggested true in every run.
	suggestCAN bool
	event      map[string]any
	eventRef   string
	maxRuns    int
	reg        func(*step.Registry)
	// engine overrides kibanaEngine.
	engine *interpreter.EngineOptions
}

// chainResult is the outcome of a run and the runs it continued as.
type chainResult struct {
	runResult
	runs int
	// inputs are the RunInputs of the continued runs, in order.
	inputs []interpreter.RunInput
	// activityResults and localResults are the JSON sizes of every
	// activity and local activity result (what history records).
	activityResults map[string][]int
	localResults    []int
	localTypes      []string
}

// runChain executes a definition in the test environment and, when it
// continues as new, runs the continuation in a fresh environment, as the
// server would, until a run ends.
func runChain(t *testing.T, yaml string, o chainOpts) *chainResult {
	t.Helper()
	f := &fakes{failUntil: map[string]int{}}
	reg := f.registry()
	if o.reg != nil {
		o.reg(reg)
	}
	def := mustLoad(t, yaml, reg)
	engine := kibanaEngine
	if o.engine != nil {
		engine = o.engine
	}
	in := interpreter.RunInput{Definition: def, Event: o.event, EventRef: o.eventRef, Engine: engine}
	out := &chainResult{activityResults: map[string][]int{}}
	out.f = f
	maxRuns := o.maxRuns
	if maxRuns == 0 {
		maxRuns = 200
	}
	for {
		out.runs++
		if out.runs > maxRuns {
			t.Fatalf("more than %d runs", maxRuns)
		}
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		sa := true
		if err := worker.Register(env, worker.Config{Registry: reg, SearchAttributes: &sa, Definitions: mapDefs{def.ID: def},
			Blobs: o.blobs, BlobThreshold: o.threshold, ContinueAsNewAfterEvents: o.canAfter}); err != nil {
			t.Fatal(err)
		}
		length := 3
		env.SetCurrentHistoryLength(length)
		env.SetContinueAsNewSuggested(o.suggestCAN)
		env.SetOnActivityCompletedListener(func(info *activity.Info, res converter.EncodedValue, err error) {
			length += o.eventsPerActivity
			env.SetCurrentHistoryLength(length)
			var v any
			if err == nil && res != nil && res.HasValue() {
				_ = res.Get(&v)
			}
			out.activityResults[info.ActivityID] = append(out.activityResults[info.ActivityID], len(jsonOf(v)))
		})
		env.SetOnLocalActivityCompletedListener(func(info *activity.Info, res converter.EncodedValue, err error) {
			var v any
			if err == nil && res != nil && res.HasValue() {
				_ = res.Get(&v)
			}
			out.localResults = append(out.localResults, len(jsonOf(v)))
			out.localTypes = append(out.localTypes, info.ActivityType.Name)
		})
		env.ExecuteWorkflow(def.ID, in)
		if !env.IsWorkflowCompleted() {
			t.Fatal("workflow did not complete")
		}
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			if can.WorkflowType == nil || can.WorkflowType.Name != def.ID {
				t.Fatalf("continued as %+v, want type %s", can.WorkflowType, def.ID)
			}
			var next interpreter.RunInput
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
				t.Fatalf("decoding the continue-as-new input: %v", err)
			}
			if next.Resume == nil {
				t.Fatal("continue-as-new input carries no resume state")
			}
			out.inputs = append(out.inputs, next)
			in = next
			continue
		}
		out.collect(t, env)
		return out
	}
}

// bigOutput is a 1 MiB step output: 2048 items of ~512 bytes.
func bigOutput() map[string]any {
	items := make([]any, 2048)
	for i := range items {
		items[i] = map[string]any{"id": float64(i), "name": fmt.Sprintf("n%d", i), "pad": strings.Repeat("x", 480)}
	}
	return map[string]any{"count": float64(len(items)), "items": items}
}

func addBig(reg *step.Registry) {
	reg.MustAdd(&step.Spec{Type: "test.big", Kind: step.KindActivity, Category: "test", Summary: "big", OpenWith: true,
		Activity: func(context.Context, step.Runtime, step.Input) (any, error) { return bigOutput(), nil }})
}

const bigDef = `
steps:
  - { name: big, type: test.big }
  - name: pick
    type: test.echo
    with:
      name: "{{ steps.big.output.items[3].name }}"
      count: "${{ steps.big.output.count }}"
  - name: many
    type: if
    condition: "steps.big.output.count > 100"
    steps:
      - { name: yes, type: console, with: { message: "many" } }
  - { name: n, type: data.set, with: { n: "${{ steps.big.output.items | size }}" } }
  - name: names
    type: data.map
    items: "${{ steps.big.output.items }}"
    with:
      fields: { name: "{{ item.name }}" }
  - { name: small, type: test.echo, with: { plain: "no blob here" } }
  - name: out
    type: workflow.output
    with:
      name: "{{ steps.pick.output.name }}"
      n: "{{ variables.n }}"
      last: "{{ steps.names.output[2047].name }}"
`

// TestBlobOutputStaysOutOfHistory: a 1 MiB activity output is recorded as
// a reference; later templates, conditions and data steps read it through
// the fetch local activity, which records only what they computed.
func TestBlobOutputStaysOutOfHistory(t *testing.T) {
	blobs := blobstore.NewMemory()
	r := runChain(t, bigDef, chainOpts{blobs: blobs, reg: addBig})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s: %v", r.status(), r.err)
	}
	if blobs.Len() != 1 {
		t.Errorf("%d blobs stored, want 1", blobs.Len())
	}
	if got := r.activityResults["big"]; len(got) != 1 || got[0] > 200 {
		t.Errorf("recorded result of big = %v bytes, want one small reference", got)
	}
	ref, size, ok := interpreter.BlobRefOf(r.output("big"))
	if !ok || size < 1<<20 || !strings.HasPrefix(ref, "sha256:") {
		t.Errorf("steps.big.output = %s, want a reference to ≥ 1 MiB", jsonOf(r.output("big")))
	}
	pick := r.f.callsTo("test.echo")
	if len(pick) != 2 || pick[0].With["name"] != "n3" || pick[0].With["count"] != 2048.0 {
		t.Fatalf("pick got %s", jsonOf(pick))
	}
	if !r.ran("many/yes") {
		t.Error("the KQL condition over the blob was not true")
	}
	want := map[string]any{"name": "n3", "n": 2048.0, "last": "n2047"}
	if got := r.result().Output; jsonOf(got) != jsonOf(want) {
		t.Errorf("output = %s, want %s", jsonOf(got), jsonOf(want))
	}
	// pick's with, many's condition, n's with, names (data step): 4 local
	// activities, each recording its small result, except data.map whose
	// output (2048 names) is what it computed.
	if len(r.localResults) != 4 {
		t.Errorf("local activities %v (%v), want 4", r.localTypes, r.localResults)
	}
	for i, n := range r.localResults {
		if n > 64<<10 {
			t.Errorf("local activity %d recorded %d bytes", i, n)
		}
	}
}

// TestBlobMaxStepSizeUsesRealSize: max-step-size applies to the stored
// output's size, not to its reference.
func TestBlobMaxStepSizeUsesRealSize(t *testing.T) {
	r := runChain(t, `
steps:
  - { name: big, type: test.big, max-step-size: 512kb }
`, chainOpts{blobs: blobstore.NewMemory(), reg: addBig})
	e := r.errorOf()
	if e == nil || e.Type != "StepSizeLimitExceeded" {
		t.Fatalf("error %+v, want StepSizeLimitExceeded", e)
	}
}

// TestBlobMissingFailsTheStep: a reference whose blob is gone fails the
// step that reads it with BlobUnavailable (not the workflow task).
func TestBlobMissingFailsTheStep(t *testing.T) {
	r := runChain(t, `
steps:
  - { name: read, type: console, with: { message: "{{ event.rule.name }}" } }
`, chainOpts{blobs: blobstore.NewMemory(), eventRef: blobstore.RefOf([]byte(`{"gone":true}`))})
	e := r.errorOf()
	if e == nil || e.Type != interpreter.ErrTypeBlob || !strings.Contains(e.Message, "not found") {
		t.Fatalf("error %+v, want %s", e, interpreter.ErrTypeBlob)
	}
}

// TestEventRef: an event passed by reference reads as the event itself;
// steps that do not mention it render in workflow code.
func TestEventRef(t *testing.T) {
	blobs := blobstore.NewMemory()
	ev := map[string]any{"rule": map[string]any{"name": "Brute force"}, "alerts": []any{map[string]any{"_id": "a1"}}}
	b, _ := json.Marshal(ev)
	ref, err := blobs.Put(context.Background(), "event", b)
	if err != nil {
		t.Fatal(err)
	}
	r := runChain(t, `
steps:
  - { name: plain, type: test.echo, with: { x: "{{ execution.id }}" } }
  - { name: rule, type: test.echo, with: { rule: "{{ event.rule.name }}", first: "{{ event.alerts[0]._id }}" } }
  - name: cond
    type: if
    condition: "event.rule.name: \"Brute force\""
    steps:
      - { name: hit, type: console, with: { message: hit } }
`, chainOpts{blobs: blobs, eventRef: ref})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s: %v", r.status(), r.err)
	}
	calls := r.f.callsTo("test.echo")
	if len(calls) != 2 || calls[1].With["rule"] != "Brute force" || calls[1].With["first"] != "a1" {
		t.Fatalf("calls %s", jsonOf(calls))
	}
	if !r.ran("cond/hit") {
		t.Error("condition over the event was not true")
	}
	if len(r.localResults) != 2 {
		t.Errorf("%d local activities (%v), want 2: the step not reading the event renders in workflow code", len(r.localResults), r.localTypes)
	}
}

// longDef is a 50-step definition whose steps read earlier steps,
// variables and loop results across any continue-as-new boundary.
func longDef() string {
	var b strings.Builder
	b.WriteString("settings: { timeout: 1h }\nconsts: { tag: long }\nsteps:\n")
	b.WriteString("  - { name: s0, type: data.set, with: { count: 0 } }\n")
	for i := 1; i < 47; i++ {
		switch {
		case i%10 == 5:
			fmt.Fprintf(&b, "  - { name: s%d, type: data.set, with: { count: \"${{ variables.count | plus: 1 }}\", last: s%d } }\n", i, i)
		case i == 20:
			b.WriteString("  - name: s20\n    type: foreach\n    foreach: '[\"a\",\"b\",\"c\"]'\n    steps:\n")
			b.WriteString("      - { name: inner, type: test.echo, with: { item: \"{{ foreach.item }}\", prev: \"{{ steps.s19.output.i }}\" } }\n")
		case i == 30:
			b.WriteString("  - name: s30\n    type: http\n    with: { url: \"http://127.0.0.1:1/x\" }\n    on-failure:\n      fallback:\n        - { name: s30fb, type: test.echo, with: { caught: \"{{ error.message }}\" } }\n      continue: true\n")
		default:
			fmt.Fprintf(&b, "  - { name: s%d, type: test.echo, with: { i: %d, prev: \"{{ steps.s%d.output.i }}\", inner: \"{{ steps.inner.output.item }}\" } }\n", i, i, i-1)
		}
	}
	b.WriteString("  - { name: s47, type: console, with: { message: \"{{ variables.count }}\" } }\n")
	b.WriteString("  - { name: s48, type: test.echo, with: { all: \"{{ steps.s1.output.i }}-{{ steps.s46.output.prev }}-{{ steps.s44.output.prev }}-{{ steps.s20.total }}-{{ steps.s30.error.message }}-{{ consts.tag }}\" } }\n")
	b.WriteString("  - { name: s49, type: workflow.output, with: { count: \"{{ variables.count }}\", all: \"{{ steps.s48.output.all }}\", started: \"{{ execution.startedAt }}\", id: \"{{ execution.id }}\" } }\n")
	return b.String()
}

// records returns path/type/status/attempts of the step records.
func recordsOf(st interpreter.State) string {
	var out []string
	for _, r := range st.Steps {
		out = append(out, fmt.Sprintf("%s %s %s %d", r.Path, r.Type, r.Status, r.Attempts))
	}
	return strings.Join(out, "\n")
}

// TestContinueAsNewLongRun: with a low event threshold, a 50-step run
// continues as new several times and ends with the same result, step
// results, variables and step records as a run that never does.
func TestContinueAsNewLongRun(t *testing.T) {
	def := longDef()
	plain := runChain(t, def, chainOpts{})
	if plain.runs != 1 || plain.status() != interpreter.StatusCompleted {
		t.Fatalf("plain run: %d runs, status %s (%v)", plain.runs, plain.status(), plain.err)
	}
	long := runChain(t, def, chainOpts{canAfter: 40, eventsPerActivity: 6})
	t.Logf("%d runs", long.runs)
	if long.runs < 4 {
		t.Fatalf("%d runs, want the run to continue as new several times", long.runs)
	}
	if long.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s: %v", long.status(), long.err)
	}
	pr, lr := plain.result(), long.result()
	delete(pr.Output, "started")
	started := lr.Output["started"]
	delete(lr.Output, "started")
	if jsonOf(pr) != jsonOf(lr) {
		t.Errorf("result\n%s\nwant\n%s", jsonOf(lr), jsonOf(pr))
	}
	if want := "1--43-3-Connection refused to http://127.0.0.1:1-long"; lr.Output["all"] != want || lr.Output["count"] != 5.0 {
		t.Errorf("output %s, want all=%s count=5", jsonOf(lr.Output), want)
	}
	for name, v := range plain.steps.Steps {
		if name == "s49" { // holds execution.startedAt, compared below
			continue
		}
		if jsonOf(v) != jsonOf(long.steps.Steps[name]) {
			t.Errorf("steps.%s = %s, want %s", name, jsonOf(long.steps.Steps[name]), jsonOf(v))
		}
	}
	if len(plain.steps.Steps) != len(long.steps.Steps) || jsonOf(plain.steps.Variables) != jsonOf(long.steps.Variables) {
		t.Errorf("steps query: %d steps, variables %s; want %d, %s", len(long.steps.Steps), jsonOf(long.steps.Variables),
			len(plain.steps.Steps), jsonOf(plain.steps.Variables))
	}
	if recordsOf(plain.state) != recordsOf(long.state) {
		t.Errorf("records differ:\n%s\nwant\n%s", recordsOf(long.state), recordsOf(plain.state))
	}
	// Each run started at a top-level boundary and carried the first
	// run's start time.
	first := long.inputs[0].Resume.StartedAt
	for i, in := range long.inputs {
		if in.Resume.Runs != i+1 || !in.Resume.StartedAt.Equal(first) || in.Definition == nil {
			t.Errorf("continuation %d: runs=%d startedAt=%v (first %v), definition pinned=%v", i, in.Resume.Runs, in.Resume.StartedAt, first, in.Definition != nil)
		}
		if i > 0 && in.Resume.Next <= long.inputs[i-1].Resume.Next {
			t.Errorf("continuation %d does not progress: next %d after %d", i, in.Resume.Next, long.inputs[i-1].Resume.Next)
		}
	}
	if s, _ := started.(string); !strings.HasPrefix(s, first.UTC().Format("2006-01-02T15:04:05")) {
		t.Errorf("execution.startedAt = %v, want the first run's %v", started, first)
	}
	// Side effects happened once per step (no step re-ran after a boundary).
	if a, b := len(plain.f.callsTo("test.echo")), len(long.f.callsTo("test.echo")); a != b {
		t.Errorf("%d test.echo calls, want %d", b, a)
	}
}

// TestContinueAsNewSuggested: Temporal's suggestion alone makes the run
// continue as new after each step (each run makes progress).
func TestContinueAsNewSuggested(t *testing.T) {
	r := runChain(t, `
steps:
  - { name: a, type: test.echo, with: { v: 1 } }
  - { name: b, type: data.set, with: { x: "{{ steps.a.output.v }}" } }
  - { name: c, type: test.echo, with: { v: "{{ variables.x }}" } }
  - { name: d, type: workflow.output, with: { v: "{{ steps.c.output.v }}" } }
`, chainOpts{suggestCAN: true})
	if r.runs != 4 || r.status() != interpreter.StatusCompleted || r.result().Output["v"] != "1" {
		t.Fatalf("%d runs, status %s, output %s", r.runs, r.status(), jsonOf(r.result()))
	}
}

// TestContinueAsNewCarriesBlobs: large values cross the boundary as blob
// references (an activity output kept by the worker, a large pure output
// stored at continue-as-new) and read back correctly after it.
func TestContinueAsNewCarriesBlobs(t *testing.T) {
	blobs := blobstore.NewMemory()
	r := runChain(t, `
steps:
  - { name: big, type: test.big }
  - name: names
    type: data.map
    items: "${{ steps.big.output.items }}"
    with:
      fields: { name: "{{ item.name }}" }
  - { name: pad, type: test.echo, with: { v: 1 } }
  - { name: pick, type: test.echo, with: { a: "{{ steps.big.output.items[7].name }}", b: "{{ steps.names.output[9].name }}" } }
`, chainOpts{blobs: blobs, threshold: 1024, suggestCAN: true, reg: addBig})
	if r.status() != interpreter.StatusCompleted || r.runs != 4 {
		t.Fatalf("%d runs, status %s: %v", r.runs, r.status(), r.err)
	}
	calls := r.f.callsTo("test.echo")
	if got := calls[len(calls)-1].With; got["a"] != "n7" || got["b"] != "n9" {
		t.Fatalf("pick got %s", jsonOf(got))
	}
	last := r.inputs[len(r.inputs)-1]
	if _, _, ok := interpreter.BlobRefOf(last.Resume.Results["names"].Output); !ok {
		t.Errorf("the large data.map output was carried inline: %.100s", jsonOf(last.Resume.Results["names"].Output))
	}
	if n := len(jsonOf(last)); n > 16<<10 {
		t.Errorf("continue-as-new input is %d bytes", n)
	}
}

// TestContinueAsNewVersionGate: a history recorded before continue-as-new
// existed (GetVersion answers DefaultVersion) never continues.
func TestContinueAsNewVersionGate(t *testing.T) {
	f := &fakes{failUntil: map[string]int{}}
	reg := f.registry()
	def := mustLoad(t, `
steps:
  - { name: a, type: test.echo, with: { v: 1 } }
  - { name: b, type: test.echo, with: { v: 2 } }
`, reg)
	runVersionGated(t, def, reg, "continue-as-new")
	if n := len(f.callsTo("test.echo")); n != 2 {
		t.Fatalf("%d calls", n)
	}
}

// runVersionGated runs def in the test environment with continue-as-new
// suggested at every workflow task and GetVersion of changeID answering
// DefaultVersion (a history recorded before the change), and fails the
// test unless the run completes without continuing as new.
func runVersionGated(t *testing.T, def *interpreter.Definition, reg *step.Registry, changeID string) {
	t.Helper()
	if err := runSuggestingContinueAsNew(t, def, reg, changeID); err != nil {
		t.Fatalf("run ended with %v, want completion without continue-as-new", err)
	}
}

// runSuggestingContinueAsNew runs def in the test environment with
// continue-as-new suggested at every workflow task and, when gate is set,
// GetVersion of gate answering DefaultVersion; it returns the run's error
// (a *workflow.ContinueAsNewError when it continued as new).
func runSuggestingContinueAsNew(t *testing.T, def *interpreter.Definition, reg *step.Registry, gate string) error {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	sa := true
	if err := worker.Register(env, worker.Config{Registry: reg, SearchAttributes: &sa}); err != nil {
		t.Fatal(err)
	}
	env.SetContinueAsNewSuggested(true)
	if gate != "" {
		env.OnGetVersion(gate, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	}
	env.ExecuteWorkflow(def.ID, interpreter.RunInput{Definition: def, Engine: kibanaEngine})
	return env.GetWorkflowError()
}

// TestBlobWholeValueTooLarge: bringing a 2.5 MiB stored value whole into
// the workflow fails the step clearly instead of stalling the run on
// Temporal's payload limit; reading a field of it works.
func TestBlobWholeValueTooLarge(t *testing.T) {
	r := runChain(t, `
steps:
  - { name: huge, type: test.huge }
  - { name: field, type: test.echo, with: { n: "{{ steps.huge.output.count }}" } }
  - { name: all, type: test.echo, with: { items: "${{ steps.huge.output.items }}" } }
`, chainOpts{blobs: blobstore.NewMemory(), reg: func(reg *step.Registry) {
		reg.MustAdd(&step.Spec{Type: "test.huge", Kind: step.KindActivity, Category: "test", Summary: "huge", OpenWith: true,
			Activity: func(context.Context, step.Runtime, step.Input) (any, error) {
				out := bigOutput()
				items := out["items"].([]any)
				out["items"] = append(append(items, items...), items[:len(items)/2]...)
				return out, nil
			}})
	}})
	if calls := r.f.callsTo("test.echo"); len(calls) != 1 || calls[0].With["n"] != "2048" {
		t.Fatalf("calls %.300s", jsonOf(calls))
	}
	if e := r.errorOf(); e == nil || e.Type != interpreter.ErrTypeBlob || !strings.Contains(e.Message, "read fields of it") {
		t.Fatalf("error %+v", e)
	}
}

// loopDef has a top-level foreach of 30 iterations (with an if:, an
// iteration-on-failure and a loop.continue) between other steps.
const loopDef = `
steps:
  - { name: init, type: data.set, with: { seen: "" } }
  - name: each
    type: foreach
    if: "true"
    foreach: "${{ (1..30) | join: ',' | split: ',' }}"
    iteration-on-failure:
      continue: true
    steps:
      - { name: skip7, type: loop.continue, if: "foreach.item: 7" }
      - { name: call, type: test.echo, with: { item: "{{ foreach.item }}", index: "{{ foreach.index }}" } }
      - { name: fail, type: http, if: "foreach.item: 13", with: { url: "http://127.0.0.1:1/x" } }
      - { name: note, type: data.set, with: { seen: "{{ variables.seen }}{{ foreach.item }}," } }
  - name: nested
    type: foreach
    foreach: "[1,2]"
    steps:
      - name: inner
        type: foreach
        foreach: "[1,2,3]"
        steps:
          - { name: deep, type: test.echo, with: { v: "{{ foreach.item }}" } }
  - { name: after, type: test.echo, with: { last: "{{ steps.call.output.item }}", total: "{{ steps.each.total }}" } }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}", last: "{{ steps.after.output.last }}", total: "{{ steps.after.output.total }}" } }
`

// TestContinueAsNewInsideTopLevelForeach: a long top-level foreach is cut
// between iterations; the loop goes on with the next item (its if: not
// evaluated again, its record continued) and the run ends as one that
// never continued. Nested loops are not cut.
func TestContinueAsNewInsideTopLevelForeach(t *testing.T) {
	plain := runChain(t, loopDef, chainOpts{})
	long := runChain(t, loopDef, chainOpts{canAfter: 30, eventsPerActivity: 6})
	t.Logf("%d runs", long.runs)
	if long.runs < 4 {
		t.Fatalf("%d runs, want the loop to be cut several times", long.runs)
	}
	if plain.status() != interpreter.StatusCompleted || long.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s / %s: %v %v", plain.status(), long.status(), plain.err, long.err)
	}
	if jsonOf(plain.result()) != jsonOf(long.result()) {
		t.Errorf("result %s, want %s", jsonOf(long.result()), jsonOf(plain.result()))
	}
	if want := "1,2,3,4,5,6,8,9,10,11,12,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,"; long.result().Output["seen"] != want {
		t.Errorf("seen %v", long.result().Output["seen"])
	}
	if jsonOf(plain.steps) != jsonOf(long.steps) {
		t.Errorf("steps query differs:\n%s\nwant\n%s", jsonOf(long.steps), jsonOf(plain.steps))
	}
	if recordsOf(plain.state) != recordsOf(long.state) {
		t.Errorf("records differ:\n%s\nwant\n%s", recordsOf(long.state), recordsOf(plain.state))
	}
	inLoop := 0
	for _, in := range long.inputs {
		if in.Resume.Iteration > 0 {
			inLoop++
			if name := in.Definition.Steps[in.Resume.Next].Name; name != "each" {
				t.Errorf("continued inside %s, want only inside the top-level loop", name)
			}
		}
	}
	if inLoop < 3 {
		t.Errorf("%d continuations inside the loop, want several", inLoop)
	}
	if a, b := len(plain.f.callsTo("test.echo")), len(long.f.callsTo("test.echo")); a != b {
		t.Errorf("%d test.echo calls, want %d (no iteration ran twice)", b, a)
	}
}

// TestContinueAsNewDeclinedWhenStateTooLarge: when the carried state would
// not fit a Temporal payload (here: a 1.6 MB definition), the run goes on
// where it is, inside the loop too, and ends as a run that never tried.
func TestContinueAsNewDeclinedWhenStateTooLarge(t *testing.T) {
	runDeclinedTooLarge(t, loopDef, 30)
}

// runDeclinedTooLarge runs def as it is and with 1.6 MiB of consts (from
// 800 KiB of YAML, an alias, under the 1 MiB definition limit) that make
// the carried state too large for a Temporal payload, with a continue-as-new
// due every canAfter events; the padded run must stay one run and end as
// the plain one: same result, step records and test.echo calls. It returns
// the padded run.
func runDeclinedTooLarge(t *testing.T, def string, canAfter int) *chainResult {
	t.Helper()
	big := "consts: { pad: &pad \"" + strings.Repeat("p", 800<<10) + "\", again: *pad }\n" + def
	plain := runChain(t, def, chainOpts{})
	r := runChain(t, big, chainOpts{canAfter: canAfter, eventsPerActivity: 6})
	if r.runs != 1 || r.status() != interpreter.StatusCompleted {
		t.Fatalf("%d runs, status %s: %v", r.runs, r.status(), r.err)
	}
	if jsonOf(plain.result()) != jsonOf(r.result()) || recordsOf(plain.state) != recordsOf(r.state) {
		t.Errorf("result %s\nrecords\n%s\nwant %s\n%s", jsonOf(r.result()), recordsOf(r.state), jsonOf(plain.result()), recordsOf(plain.state))
	}
	if a, b := len(plain.f.callsTo("test.echo")), len(r.f.callsTo("test.echo")); a != b {
		t.Errorf("%d test.echo calls, want %d", b, a)
	}
	return r
}
