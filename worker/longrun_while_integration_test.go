package worker_test

import (
	"fmt"
	"testing"

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
	res, chain := runLong(t, env, tq, "continued-as-new-while-"+tq, interpreter.RunInput{Definition: def})
	want := ""
	for i := 0; i < 28; i++ {
		want += fmt.Sprintf("%d,", i)
	}
	if res.Output["seen"] != want || res.Output["n"] != 28.0 || res.Output["iteration"] != 27.0 {
		t.Fatalf("result %+v", res)
	}
	replayLoopChain(t, "continued-as-new-while", chain, reg)
}
