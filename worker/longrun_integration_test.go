package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/worker"
)

// Long runs on the real embedded server: large outputs kept out of
// history, events passed by reference, continue-as-new. With
// -update-histories, the continued-as-new and blob histories are written
// to interpreter/testdata/histories (representative.json is left alone).

// bigItems is a ~1 MiB step output.
func bigItems() map[string]any {
	items := make([]any, 2048)
	for i := range items {
		items[i] = map[string]any{"id": float64(i), "name": fmt.Sprintf("n%d", i), "pad": strings.Repeat("x", 480)}
	}
	return map[string]any{"count": float64(len(items)), "items": items}
}

// longRegistry is the side-effects registry plus test.big.
func longRegistry(fx *sideEffects) *step.Registry {
	reg := fx.registry()
	reg.MustAdd(&step.Spec{Type: "test.big", Kind: step.KindActivity, OpenWith: true,
		Activity: func(context.Context, step.Runtime, step.Input) (any, error) { return bigItems(), nil }})
	return reg
}

// startLongWorker runs a worker with a blob store and a continue-as-new
// threshold.
func startLongWorker(t *testing.T, env *testenv.Env, tq string, reg *step.Registry, blobs blobstore.Store, canAfter int) {
	t.Helper()
	w, err := worker.New(worker.Config{Client: env.Client, TaskQueue: tq, Namespace: env.Namespace, Registry: reg,
		UIBaseURL: env.UIURL, Blobs: blobs, ContinueAsNewAfterEvents: canAfter})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
}

// runLong runs in as workflow id on tq with operator recovery off and
// returns its result (Get follows continue-as-new) and the history of every
// run of the chain, first to last.
func runLong(t *testing.T, env *testenv.Env, tq, id string, in interpreter.RunInput) (interpreter.RunResult, []*historypb.History) {
	t.Helper()
	in.Engine = &interpreter.EngineOptions{OperatorRecovery: new(bool)}
	run, err := env.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: tq}, in.Definition.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	firstRunID := run.GetRunID() // Get moves it to the last run
	var res interpreter.RunResult
	if err := run.Get(context.Background(), &res); err != nil {
		t.Fatal(err)
	}
	var chain []*historypb.History
	for runID := firstRunID; runID != ""; {
		h := testenv.History(t, env.Client, id, runID)
		chain = append(chain, h)
		runID = h.Events[len(h.Events)-1].GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
	}
	return res, chain
}

// replay replays a copy of h with a fresh replayer and the given registry
// (the SDK updates the search attributes of the started event in place as
// the replayed run upserts them).
func replay(t *testing.T, name string, h *historypb.History, reg *step.Registry) {
	t.Helper()
	r := sdkworker.NewWorkflowReplayer()
	r.RegisterDynamicWorkflow(interpreter.Workflow(interpreter.Options{Registry: reg}), workflow.DynamicRegisterOptions{})
	if err := r.ReplayWorkflowHistory(nil, proto.Clone(h).(*historypb.History)); err != nil {
		t.Fatalf("replaying %s: %v", name, err)
	}
}

// replayLoopChain fails the test unless a loop was cut by continue-as-new
// into three runs or more, replays every run and saves the second (which
// resumes inside the loop) as name.
func replayLoopChain(t *testing.T, name string, chain []*historypb.History, reg *step.Registry) {
	t.Helper()
	t.Logf("%d runs", len(chain))
	if len(chain) < 3 {
		t.Fatalf("%d runs, want the loop cut several times", len(chain))
	}
	for i, h := range chain {
		replay(t, fmt.Sprintf("run %d", i+1), h, reg)
	}
	saveHistory(t, name, chain[1])
}

// saveHistory writes h to interpreter/testdata/histories/<name>.json when
// -update-histories is given.
func saveHistory(t *testing.T, name string, h *historypb.History) {
	t.Helper()
	if !*updateHistories {
		return
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("..", "interpreter", "testdata", "histories", name+".json")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// historyBytes is the encoded size of h.
func historyBytes(h *historypb.History) int { return proto.Size(h) }

// TestBlobOutputOnServer: a 1 MiB activity output and a 300 KiB event by
// reference leave a history of a few KiB; later steps read fields of both;
// the history replays.
func TestBlobOutputOnServer(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	reg := longRegistry(&sideEffects{})
	blobs, err := blobstore.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	startLongWorker(t, env, tq, reg, blobs, 0)
	ev := map[string]any{"rule": map[string]any{"id": "r1", "name": "Big event"},
		"alerts": []any{map[string]any{"_id": "a1", "message": strings.Repeat("m", 300<<10)}}}
	b, _ := json.Marshal(ev)
	evRef, err := blobs.Put(context.Background(), "event", b)
	if err != nil {
		t.Fatal(err)
	}
	def := load(t, "blob-output", `
steps:
  - { name: big, type: test.big }
  - { name: pick, type: test.echo, with: { name: "{{ steps.big.output.items[3].name }}", rule: "{{ event.rule.name }}" } }
  - name: many
    type: if
    condition: "steps.big.output.count > 100"
    steps:
      - { name: yes, type: console, with: { message: many } }
  - { name: out, type: workflow.output, with: { name: "{{ steps.pick.output.name }}", rule: "{{ steps.pick.output.rule }}", alert: "{{ event.alerts[0]._id }}" } }
`, reg)
	res, chain := runLong(t, env, tq, "blob-output-"+tq, interpreter.RunInput{Definition: def, EventRef: evRef})
	if res.Output["name"] != "n3" || res.Output["rule"] != "Big event" || res.Output["alert"] != "a1" {
		t.Fatalf("output %+v", res.Output)
	}
	if len(chain) != 1 {
		t.Fatalf("%d runs, want 1", len(chain))
	}
	h := chain[0]
	n := historyBytes(h)
	t.Logf("history: %d events, %d bytes (1 MiB output and 300 KiB event kept in the blob store)", len(h.Events), n)
	if n > 32<<10 {
		t.Errorf("history is %d bytes, want the large values out of it", n)
	}
	replay(t, "blob-output", h, reg)
	saveHistory(t, "blob-output", h)
}

// TestContinueAsNewOnServer: a 24-step run with a low event threshold
// continues as new several times on the server and ends as a single run
// would; the first and the last run replay.
func TestContinueAsNewOnServer(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	reg := longRegistry(&sideEffects{})
	startLongWorker(t, env, tq, reg, nil, 40)
	var b strings.Builder
	b.WriteString("settings: { timeout: 1h }\nsteps:\n  - { name: s0, type: data.set, with: { n: 0 } }\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "  - { name: s%d, type: test.echo, with: { i: %d, prev: \"{{ steps.s%d.output.i }}\" } }\n", i, i, i-1)
		if i%5 == 0 {
			fmt.Fprintf(&b, "  - { name: v%d, type: data.set, with: { n: \"${{ variables.n | plus: 1 }}\" } }\n", i)
		}
	}
	b.WriteString("  - { name: out, type: workflow.output, with: { n: \"{{ variables.n }}\", last: \"{{ steps.s20.output.prev }}\", first: \"{{ steps.s1.output.i }}\" } }\n")
	def := load(t, "continued-as-new", b.String(), reg)
	res, chain := runLong(t, env, tq, "continued-as-new-"+tq, interpreter.RunInput{Definition: def})
	if res.Status != interpreter.StatusCompleted || res.Output["n"] != 4.0 || res.Output["last"] != "19" || res.Output["first"] != 1.0 {
		t.Fatalf("result %+v", res)
	}
	if len(chain) < 3 {
		t.Fatalf("%d runs, want several; the first has %d events, last %v", len(chain), len(chain[0].Events), chain[0].Events[len(chain[0].Events)-1].GetEventType())
	}
	for i, h := range chain {
		t.Logf("run %d: %d events", i+1, len(h.Events))
		if len(h.Events) > 60 {
			t.Errorf("run %d has %d events, want the threshold (40) plus one step", i+1, len(h.Events))
		}
	}
	first, last := chain[0], chain[len(chain)-1]
	replay(t, "first run", first, reg)
	replay(t, "last run", last, reg)
	saveHistory(t, "continued-as-new-first", first)
	saveHistory(t, "continued-as-new-last", last)
}

// TestContinueAsNewInsideLoopOnServer: a top-level foreach of 24 items is
// cut between iterations on the server; a run that resumes inside the loop
// and continues again replays (checked in as continued-as-new-loop.json).
func TestContinueAsNewInsideLoopOnServer(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	reg := longRegistry(&sideEffects{})
	startLongWorker(t, env, tq, reg, nil, 40)
	def := load(t, "continued-as-new-loop", `
steps:
  - { name: init, type: data.set, with: { seen: "" } }
  - name: each
    type: foreach
    foreach: "${{ (1..24) | join: ',' | split: ',' }}"
    steps:
      - { name: call, type: test.echo, with: { item: "{{ foreach.item }}" } }
      - { name: note, type: data.set, with: { seen: "{{ variables.seen }}{{ steps.call.output.item }}," } }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}", total: "{{ steps.each.total }}" } }
`, reg)
	res, chain := runLong(t, env, tq, "continued-as-new-loop-"+tq, interpreter.RunInput{Definition: def})
	var want strings.Builder
	for i := 1; i <= 24; i++ {
		fmt.Fprintf(&want, "%d,", i)
	}
	if res.Output["seen"] != want.String() || res.Output["total"] != 24.0 {
		t.Fatalf("result %+v", res)
	}
	replayLoopChain(t, "continued-as-new-loop", chain, reg)
}
