package interpreter_test

import (
	"testing"

	"github.com/secflow/secflow/interpreter"
)

// nestedCases are definitions whose long loops (a top-level while, loops
// nested in if/foreach/while) are cut by continue-as-new between
// iterations.
var nestedCases = []struct {
	name string
	def  string
	// want is the expected workflow output.
	want map[string]any
	// volatile names steps whose results hold timestamps (left out of the
	// comparison of the steps query).
	volatile []string
	// depth is the number of frames of a continuation inside the
	// innermost loop (0: no continuation may carry frames).
	depth int
}{
	{
		name: "top-level while",
		def: `
steps:
  - { name: init, type: data.set, with: { n: 0, seen: "" } }
  - name: poll
    type: while
    condition: "${{ variables.n < 25 }}"
    max-iterations: 100
    steps:
      - { name: call, type: test.echo, with: { it: "{{ while.iteration }}", prev: "{{ steps.call.output.it }}" } }
      - { name: bump, type: data.set, with: { n: "${{ variables.n | plus: 1 }}", seen: "{{ variables.seen }}{{ while.iteration }}," } }
  - { name: out, type: workflow.output, with: { n: "{{ variables.n }}", last: "{{ steps.call.output.it }}", prev: "{{ steps.call.output.prev }}", iteration: "{{ steps.poll.iteration }}", seen: "{{ variables.seen }}" } }
`,
		want: map[string]any{"n": 25.0, "last": "24", "prev": "", "iteration": 24.0,
			"seen": "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,"},
		depth: 1,
	},
	{
		name: "while with loop.break",
		def: `
steps:
  - { name: init, type: data.set, with: { n: 0 } }
  - name: poll
    type: while
    condition: "${{ true }}"
    max-iterations: 1000
    steps:
      - { name: call, type: test.echo, with: { it: "{{ while.iteration }}" } }
      - { name: bump, type: data.set, with: { n: "${{ variables.n | plus: 1 }}" } }
      - { name: stop, type: loop.break, if: "${{ variables.n >= 17 }}" }
      - { name: after, type: console, with: { message: "{{ while.iteration }}" } }
  - { name: out, type: workflow.output, with: { n: "{{ variables.n }}", iteration: "{{ steps.poll.iteration }}", after: "{{ steps.after.output }}" } }
`,
		want:  map[string]any{"n": 17.0, "iteration": 16.0, "after": "15"},
		depth: 1,
	},
	{
		name: "foreach in if",
		def: `
steps:
  - { name: init, type: data.set, with: { seen: "" } }
  - name: gate
    type: if
    condition: "${{ true }}"
    steps:
      - { name: pre, type: test.echo, with: { v: pre } }
      - name: each
        type: foreach
        foreach: "${{ (1..20) | join: ',' | split: ',' }}"
        steps:
          - { name: call, type: test.echo, with: { item: "{{ foreach.item }}", pre: "{{ steps.pre.output.v }}" } }
          - { name: note, type: data.set, with: { seen: "{{ variables.seen }}{{ foreach.item }}," } }
      - { name: post, type: test.echo, with: { total: "{{ steps.each.total }}", last: "{{ steps.call.output.item }}" } }
    else:
      - { name: never, type: test.echo, with: { v: never } }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}", post: "{{ steps.post.output.total }}/{{ steps.post.output.last }}" } }
`,
		want:  map[string]any{"seen": "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,", "post": "20/20"},
		depth: 2,
	},
	{
		name: "foreach in else",
		def: `
steps:
  - { name: init, type: data.set, with: { seen: "" } }
  - name: gate
    type: if
    condition: "${{ false }}"
    steps:
      - { name: never, type: test.echo, with: { v: never } }
    else:
      - name: each
        type: foreach
        foreach: "${{ (1..20) | join: ',' | split: ',' }}"
        steps:
          - { name: call, type: test.echo, with: { item: "{{ foreach.item }}" } }
          - { name: note, type: data.set, with: { seen: "{{ variables.seen }}{{ foreach.item }}," } }
      - { name: post, type: test.echo, with: { total: "{{ steps.each.total }}" } }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}", post: "{{ steps.post.output.total }}", never: "{{ steps.never.output.v }}" } }
`,
		want:  map[string]any{"seen": "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,", "post": "20", "never": nil},
		depth: 2,
	},
	{
		name: "foreach in foreach",
		def: `
steps:
  - { name: init, type: data.set, with: { seen: "" } }
  - name: outer
    type: foreach
    foreach: '["a","b","c","d"]'
    steps:
      - { name: head, type: test.echo, with: { o: "{{ foreach.item }}" } }
      - name: inner
        type: foreach
        foreach: "[1,2,3,4,5,6]"
        steps:
          - { name: deep, type: test.echo, with: { v: "{{ foreach.item }}", o: "{{ steps.outer.item }}", h: "{{ steps.head.output.o }}" } }
          - { name: note, type: data.set, with: { seen: "{{ variables.seen }}{{ steps.outer.item }}{{ foreach.item }}," } }
      - { name: tail, type: test.echo, with: { o: "{{ foreach.item }}", idx: "{{ foreach.index }}", last: "{{ steps.deep.output.v }}", n: "{{ steps.inner.total }}" } }
      - { name: tails, type: data.set, with: { tails: "{{ variables.tails }}{{ steps.tail.output.o }}{{ steps.tail.output.idx }}{{ steps.tail.output.last }}{{ steps.tail.output.n }}," } }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}", tails: "{{ variables.tails }}", total: "{{ steps.outer.total }}" } }
`,
		want: map[string]any{"total": 4.0, "tails": "a066,b166,c266,d366,",
			"seen": "a1,a2,a3,a4,a5,a6,b1,b2,b3,b4,b5,b6,c1,c2,c3,c4,c5,c6,d1,d2,d3,d4,d5,d6,"},
		depth: 2,
	},
	{
		name: "foreach in while",
		def: `
steps:
  - { name: init, type: data.set, with: { seen: "" } }
  - name: rounds
    type: while
    condition: "${{ steps.rounds.iteration < 2 }}"
    steps:
      - name: each
        type: foreach
        foreach: "[1,2,3,4,5,6,7]"
        steps:
          - { name: call, type: test.echo, with: { r: "{{ while.iteration }}", v: "{{ foreach.item }}" } }
          - { name: note, type: data.set, with: { seen: "{{ variables.seen }}{{ steps.call.output.r }}{{ steps.call.output.v }}," } }
      - { name: round, type: console, with: { message: "{{ while.iteration }}" } }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}", round: "{{ steps.round.output }}" } }
`,
		want: map[string]any{"round": "2",
			"seen": "01,02,03,04,05,06,07,11,12,13,14,15,16,17,21,22,23,24,25,26,27,"},
		depth: 2,
	},
	{
		name: "step-level foreach",
		def: `
steps:
  - { name: init, type: data.set, with: { seen: "" } }
  - name: call
    type: test.echo
    foreach: "${{ (1..20) | join: ',' | split: ',' }}"
    timeout: 1h
    with: { item: "{{ foreach.item }}", idx: "{{ foreach.index }}" }
  - name: gate
    type: if
    condition: "${{ true }}"
    steps:
      - name: ping
        type: test.echo
        foreach: '["x","y","z","w","v","u","t"]'
        with: { v: "{{ foreach.item }}", last: "{{ steps.call.output.item }}" }
      - { name: note, type: data.set, with: { seen: "{{ steps.ping.output.v }}" } }
  - { name: out, type: workflow.output, with: { seen: "{{ variables.seen }}", last: "{{ steps.call.output.item }}", total: "{{ steps.foreach_call.total }}" } }
`,
		want:  map[string]any{"seen": "t", "last": "20", "total": 20.0},
		depth: 1,
	},
	{
		// A while with a timeout is not cut (the timeout would span the
		// boundary): the run continues only at top-level boundaries.
		name: "while with timeout is not cut",
		def: `
steps:
  - { name: init, type: data.set, with: { n: 0 } }
  - name: poll
    type: while
    timeout: 1h
    condition: "${{ variables.n < 12 }}"
    steps:
      - { name: call, type: test.echo, with: { it: "{{ while.iteration }}" } }
      - { name: bump, type: data.set, with: { n: "${{ variables.n | plus: 1 }}" } }
  - { name: pad, type: test.echo, with: { v: 1 } }
  - { name: out, type: workflow.output, with: { n: "{{ variables.n }}" } }
`,
		want: map[string]any{"n": 12.0},
	},
	{
		// iteration-on-failure spans an iteration: the inner loop is not
		// cut (the outer top-level foreach is, between its iterations).
		name: "loop under iteration-on-failure is not cut",
		def: `
steps:
  - name: outer
    type: foreach
    foreach: "[1,2,3]"
    iteration-on-failure: { continue: true }
    steps:
      - name: inner
        type: foreach
        foreach: "[1,2,3,4,5,6]"
        steps:
          - { name: deep, type: test.echo, with: { v: "{{ steps.outer.item }}{{ foreach.item }}" } }
  - { name: out, type: workflow.output, with: { last: "{{ steps.deep.output.v }}" } }
`,
		want: map[string]any{"last": "36"},
	},
	{
		name: "loop in a parallel branch is not cut",
		def: `
steps:
  - { name: before, type: test.echo, with: { v: 0 } }
  - name: fan
    type: parallel
    branches:
      - name: a
        steps:
          - name: each
            type: foreach
            foreach: "[1,2,3,4,5,6,7,8,9]"
            steps:
              - { name: call, type: test.echo, with: { v: "{{ foreach.item }}" } }
  - { name: out, type: workflow.output, with: { last: "{{ steps.call.output.v }}" } }
`,
		want:     map[string]any{"last": "9"},
		volatile: []string{"fan"},
	},
	{
		// settings.on-failure wraps an action step with foreach:.
		name: "step-level foreach under settings.on-failure is not cut",
		def: `
settings:
  on-failure: { continue: true }
steps:
  - { name: init, type: data.set, with: { v: 0 } }
  - name: call
    type: test.echo
    foreach: "[1,2,3,4,5,6,7,8,9]"
    with: { v: "{{ foreach.item }}" }
  - { name: out, type: workflow.output, with: { last: "{{ steps.call.output.v }}" } }
`,
		want: map[string]any{"last": "9"},
	},
}

// runCutAndCompare runs def once without continuing as new (its output
// must be want) and once continuing as new after every 3 activities, and
// checks that both end with the same result, steps.* results (but for the
// volatile steps), step records and test.echo inputs. It returns the cut
// run.
func runCutAndCompare(t *testing.T, def string, want map[string]any, volatile []string) *chainResult {
	t.Helper()
	plain := runChain(t, def, chainOpts{})
	if plain.runs != 1 || plain.status() != interpreter.StatusCompleted {
		t.Fatalf("plain run: %d runs, status %s (%v)", plain.runs, plain.status(), plain.err)
	}
	if got := plain.result().Output; jsonOf(got) != jsonOf(want) {
		t.Fatalf("plain output %s, want %s", jsonOf(got), jsonOf(want))
	}
	// Due after 3 activities (each adds 6 events to 3).
	long := runChain(t, def, chainOpts{canAfter: 21, eventsPerActivity: 6})
	t.Logf("%d runs", long.runs)
	if long.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s: %v", long.status(), long.err)
	}
	if jsonOf(plain.result()) != jsonOf(long.result()) {
		t.Errorf("result\n%s\nwant\n%s", jsonOf(long.result()), jsonOf(plain.result()))
	}
	for _, name := range volatile {
		delete(plain.steps.Steps, name)
		delete(long.steps.Steps, name)
	}
	if jsonOf(plain.steps) != jsonOf(long.steps) {
		t.Errorf("steps query differs:\n%s\nwant\n%s", jsonOf(long.steps), jsonOf(plain.steps))
	}
	if recordsOf(plain.state) != recordsOf(long.state) {
		t.Errorf("records differ:\n%s\nwant\n%s", recordsOf(long.state), recordsOf(plain.state))
	}
	if a, b := len(plain.f.callsTo("test.echo")), len(long.f.callsTo("test.echo")); a != b {
		t.Errorf("%d test.echo calls, want %d (no step ran twice)", b, a)
	}
	if jsonOf(plain.f.callsTo("test.echo")) != jsonOf(long.f.callsTo("test.echo")) {
		t.Errorf("test.echo inputs differ:\n%s\nwant\n%s", jsonOf(long.f.callsTo("test.echo")), jsonOf(plain.f.callsTo("test.echo")))
	}
	return long
}

// TestContinueAsNewInsideNestedLoops: forced to continue as new every few
// iterations, a top-level while and loops nested in if/foreach/while end
// with the same result, steps.* results, variables and step records as a
// run that never continues, with no step run twice.
func TestContinueAsNewInsideNestedLoops(t *testing.T) {
	for _, tc := range nestedCases {
		t.Run(tc.name, func(t *testing.T) {
			long := runCutAndCompare(t, tc.def, tc.want, tc.volatile)
			deep := 0
			for i, in := range long.inputs {
				rs := in.Resume
				if len(rs.Frames) > 0 {
					if rs.Frames[0].Step != rs.Next || rs.Iteration != 0 {
						t.Errorf("continuation %d: next %d, iteration %d, frames %+v", i, rs.Next, rs.Iteration, rs.Frames)
					}
					if len(rs.Frames) >= tc.depth {
						deep++
					}
				}
				if i > 0 && rs.OutputBytes < long.inputs[i-1].Resume.OutputBytes {
					t.Errorf("continuation %d: output budget went back from %d to %d", i, long.inputs[i-1].Resume.OutputBytes, rs.OutputBytes)
				}
			}
			switch {
			case tc.depth == 0 && deep > 0:
				t.Errorf("%d continuations inside the loop, want none", deep)
			case tc.depth > 0 && deep < 3:
				t.Errorf("%d continuations with %d frames, want several (%d runs)", deep, tc.depth, long.runs)
			}
		})
	}
}

// TestContinueAsNewNestedVersionGate: a history recorded before nested
// continue-as-new existed (GetVersion of continue-as-new-nested answers
// DefaultVersion) never continues inside a while, even when Temporal
// suggests it at every iteration.
func TestContinueAsNewNestedVersionGate(t *testing.T) {
	f := &fakes{failUntil: map[string]int{}}
	reg := f.registry()
	def := mustLoad(t, `
steps:
  - name: poll
    type: while
    condition: "${{ steps.poll.iteration < 5 }}"
    steps:
      - { name: call, type: test.echo, with: { it: "{{ while.iteration }}" } }
`, reg)
	runVersionGated(t, def, reg, "continue-as-new-nested")
	if n := len(f.callsTo("test.echo")); n != 6 {
		t.Fatalf("%d calls, want 6", n)
	}
}

// TestContinueAsNewNestedDeclinedWhenStateTooLarge: inside a while too,
// a run whose carried state would not fit a Temporal payload goes on where
// it is and ends as a run that never tried.
func TestContinueAsNewNestedDeclinedWhenStateTooLarge(t *testing.T) {
	// The first boundary is inside the loop: the walk goes on from the
	// cut in the same run.
	def := `
steps:
  - name: poll
    type: while
    condition: "${{ steps.poll.iteration < 20 }}"
    steps:
      - { name: call, type: test.echo, with: { it: "{{ while.iteration }}", prev: "{{ steps.call.output.it }}" } }
  - { name: out, type: workflow.output, with: { last: "{{ steps.call.output.it }}", prev: "{{ steps.call.output.prev }}" } }
`
	r := runDeclinedTooLarge(t, def, 21)
	if r.result().Output["last"] != "20" {
		t.Errorf("output %s", jsonOf(r.result().Output))
	}
}
