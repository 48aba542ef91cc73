package interpreter_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/workflow"
)

// switchCases are definitions whose long loops sit in a switch case (or
// its default), cut by continue-as-new between iterations. Their loops
// change what the switch expression reads, so a switch that rendered its
// expression again after a continue-as-new would take another case.
var switchCases = []struct {
	name string
	def  string
	// file, when set, names the definition in testdata/shared (def unset).
	file string
	want map[string]any
	// depth is the number of frames of a continuation inside the
	// innermost loop (0: no continuation may carry frames).
	depth int
	// cases are the switch cases the frames must record (Case of the
	// frame after the switch's), when depth > 0.
	cases []int
}{
	{
		name: "foreach in a case",
		file: "switch-foreach",
		want: map[string]any{"seen": preSeen(24), "post": "24/24",
			"matched": "1:scan:scan", "idle": nil, "never": nil},
		depth: 2,
		cases: []int{1},
	},
	{
		name: "while in default",
		def: `
steps:
  - { name: init, type: data.set, with: { mode: other, n: 0 } }
  - name: route
    type: switch
    expression: "{{ variables.mode }}"
    cases:
      - match: poll
        steps:
          - { name: wrong, type: test.echo, with: { v: wrong } }
    default:
      - name: poll
        type: while
        condition: "${{ variables.n < 25 }}"
        max-iterations: 100
        steps:
          - { name: call, type: test.echo, with: { it: "{{ while.iteration }}" } }
          - { name: bump, type: data.set, with: { mode: poll, n: "${{ variables.n | plus: 1 }}" } }
  - name: out
    type: workflow.output
    with:
      n: "{{ variables.n }}"
      last: "{{ steps.call.output.it }}"
      matched: "{{ steps.route.matchedIndex }}"
      wrong: "{{ steps.wrong.output.v }}"
`,
		want:  map[string]any{"n": 25.0, "last": "24", "matched": -1.0, "wrong": nil},
		depth: 2,
		cases: []int{-1},
	},
	{
		name: "loops in a switch in a foreach",
		def: `
steps:
  - { name: init, type: data.set, with: { seen: "" } }
  - name: outer
    type: foreach
    foreach: '["a","b","c","a"]'
    steps:
      - name: route
        type: switch
        expression: "{{ foreach.item }}{{ variables.flip }}"
        cases:
          - match: a
            steps:
              - name: inner
                type: foreach
                foreach: "[1,2,3,4,5,6]"
                steps:
                  - { name: deep, type: test.echo, with: { v: "{{ steps.outer.item }}{{ foreach.item }}" } }
                  - { name: note, type: data.set, with: { flip: "!", seen: "{{ variables.seen }}{{ steps.deep.output.v }}," } }
          - match: b
            steps:
              - name: spin
                type: while
                condition: "${{ steps.spin.iteration < 5 }}"
                steps:
                  - { name: spun, type: test.echo, with: { v: "b{{ while.iteration }}" } }
                  - { name: note2, type: data.set, with: { flip: "!", seen: "{{ variables.seen }}{{ steps.spun.output.v }}," } }
        default:
          - { name: other, type: test.echo, with: { v: "{{ foreach.item }}" } }
      - { name: clear, type: data.set, with: { flip: "" } }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}", other: "{{ steps.other.output.v }}" } }
`,
		want: map[string]any{"other": "c",
			"seen": "a1,a2,a3,a4,a5,a6,b0,b1,b2,b3,b4,b5,a1,a2,a3,a4,a5,a6,"},
		depth: 3,
		cases: []int{0, 1},
	},
	{
		// A switch with a timeout is not cut through (the timeout would
		// span the boundary): the run continues at top-level boundaries.
		name: "switch with timeout is not cut",
		def: `
steps:
  - name: route
    type: switch
    timeout: 1h
    expression: "x"
    cases:
      - match: x
        steps:
          - name: each
            type: foreach
            foreach: "[1,2,3,4,5,6,7,8,9]"
            steps:
              - { name: call, type: test.echo, with: { v: "{{ foreach.item }}" } }
  - { name: pad, type: test.echo, with: { v: 1 } }
  - { name: out, type: workflow.output, with: { last: "{{ steps.call.output.v }}" } }
`,
		want: map[string]any{"last": "9"},
	},
}

// preSeen is "1pre,2pre,…,<n>pre,": the seen variable of switch-foreach
// after n iterations.
func preSeen(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%dpre,", i)
	}
	return b.String()
}

// sharedDef is the definition testdata/shared/<name>.yaml, shared with the
// worker's integration tests.
func sharedDef(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "shared", name+".yaml"))
	if err != nil {
		t.Fatalf("reading the shared definition: %v", err)
	}
	return string(b)
}

// TestContinueAsNewInsideSwitch: forced to continue as new every few
// iterations, loops in a switch case or default end with the same result,
// steps.* results, variables and step records as a run that never
// continues, with no step run twice and the switch taking its recorded
// case again (its expression, which the loops change, not rendered again).
func TestContinueAsNewInsideSwitch(t *testing.T) {
	for _, tc := range switchCases {
		t.Run(tc.name, func(t *testing.T) {
			def := tc.def
			if tc.file != "" {
				def = sharedDef(t, tc.file)
			}
			long := runCutAndCompare(t, def, tc.want, nil)
			deep := 0
			seenCase := map[int]bool{}
			for i, in := range long.inputs {
				rs := in.Resume
				if len(rs.Frames) > 0 && (rs.Frames[0].Step != rs.Next || rs.Iteration != 0) {
					t.Errorf("continuation %d: next %d, iteration %d, frames %+v", i, rs.Next, rs.Iteration, rs.Frames)
				}
				if tc.depth > 0 && len(rs.Frames) >= tc.depth {
					deep++
					seenCase[rs.Frames[tc.depth-2].Case] = true
				} else if tc.depth == 0 && len(rs.Frames) > 0 {
					deep++
				}
			}
			switch {
			case tc.depth == 0 && deep > 0:
				t.Errorf("%d continuations inside the switch, want none", deep)
			case tc.depth > 0 && deep < 3:
				t.Errorf("%d continuations with %d frames, want several (%d runs)", deep, tc.depth, long.runs)
			}
			for _, c := range tc.cases {
				if !seenCase[c] {
					t.Errorf("no continuation inside case %d (frames recorded cases %v)", c, seenCase)
				}
			}
		})
	}
}

// TestContinueAsNewSwitchVersionGate: a history recorded before loops in
// a switch were cut (GetVersion of continue-as-new-switch answers
// DefaultVersion) never continues inside a switch case, even when
// Temporal suggests it at every iteration; with the version, the same run
// does.
func TestContinueAsNewSwitchVersionGate(t *testing.T) {
	const def = `
steps:
  - name: route
    type: switch
    expression: "x"
    cases:
      - match: x
        steps:
          - name: poll
            type: while
            condition: "${{ steps.poll.iteration < 5 }}"
            steps:
              - { name: call, type: test.echo, with: { it: "{{ while.iteration }}" } }
`
	for _, gated := range []bool{true, false} {
		f := &fakes{failUntil: map[string]int{}}
		reg := f.registry()
		d := mustLoad(t, def, reg)
		gate := ""
		if gated {
			gate = "continue-as-new-switch"
		}
		err := runSuggestingContinueAsNew(t, d, reg, gate)
		var can *workflow.ContinueAsNewError
		switch {
		case gated && err != nil:
			t.Errorf("gated: run ended with %v, want completion without continue-as-new", err)
		case gated && len(f.callsTo("test.echo")) != 6:
			t.Errorf("gated: %d calls, want 6", len(f.callsTo("test.echo")))
		case !gated && !errors.As(err, &can):
			t.Errorf("not gated: run ended with %v, want a continue-as-new inside the switch", err)
		}
	}
}
