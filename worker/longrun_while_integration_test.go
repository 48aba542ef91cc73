package worker_test

import (
	"context"
	"fmt"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
)

// TestContinueAsNewInsideWhileOnServer: a polling while of 30 iterations
// nested in an if is cut between iterations on the server (the resume
// cursor of frames); a run that resumes inside the loop and continues
// again replays (checked in as continued-as-new-while.json).
func TestContinueAsNewInsideWhileOnServer(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	reg := longRegistry(&sideEffects{})
	startLongWorker(t, env, tq, reg, nil, 40)
	def := load(t, "continued-as-new-while", `
steps:
  - { name: init, type: data.set, with: { n: 0, seen: "" } }
  - name: gate
    type: if
    condition: "${{ true }}"
    steps:
      - name: poll
        type: while
        condition: "${{ variables.n < 30 }}"
        max-iterations: 100
        steps:
          - { name: call, type: test.echo, with: { it: "{{ while.iteration }}" } }
          - { name: bump, type: data.set, with: { n: "${{ variables.n | plus: 1 }}", seen: "{{ variables.seen }}{{ steps.call.output.it }}," } }
          - { name: done, type: loop.break, if: "${{ variables.n >= 28 }}" }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}", n: "{{ variables.n }}", iteration: "{{ steps.poll.iteration }}" } }
`, reg)
	id := "continued-as-new-while-" + tq
	run, err := env.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: tq}, def.ID,
		interpreter.RunInput{Definition: def, Engine: &interpreter.EngineOptions{OperatorRecovery: new(bool)}})
	if err != nil {
		t.Fatal(err)
	}
	firstRunID := run.GetRunID()
	var res interpreter.RunResult
	if err := run.Get(context.Background(), &res); err != nil {
		t.Fatal(err)
	}
	want := ""
	for i := 0; i < 28; i++ {
		want += fmt.Sprintf("%d,", i)
	}
	if res.Output["seen"] != want || res.Output["n"] != 28.0 || res.Output["iteration"] != 27.0 {
		t.Fatalf("result %+v", res)
	}
	var chain []*historypb.History
	for runID := firstRunID; runID != ""; {
		h := runHistory(t, env.Client, id, runID)
		chain = append(chain, h)
		runID = h.Events[len(h.Events)-1].GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
	}
	t.Logf("%d runs", len(chain))
	if len(chain) < 3 {
		t.Fatalf("%d runs, want the loop cut several times", len(chain))
	}
	for i, h := range chain {
		replay(t, fmt.Sprintf("run %d", i+1), h, reg)
	}
	saveHistory(t, "continued-as-new-while", chain[1])
}
