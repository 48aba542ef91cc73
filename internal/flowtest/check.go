package flowtest

import (
	"fmt"
	"strings"

	"github.com/secflow/secflow/interpreter/step"
)

// check compares a case's expectations with what the run did.
func check(e Expect, obs *observed) []Failure {
	var out []Failure
	want := e.Status
	if want == "" {
		want = "completed"
		if e.Error != nil {
			want = "failed"
		}
	}
	if obs.status != want {
		got := obs.status
		if obs.err != nil {
			got += fmt.Sprintf(" (%s: %s)", obs.err.Type, obs.err.Message)
		}
		for _, n := range obs.notes {
			got += " (" + n + ")"
		}
		out = append(out, Failure{Field: "status", Expected: want, Got: got, Pos: e.Pos})
	}
	if e.Error != nil {
		out = append(out, match("error", e.Error, errorValue(obs.err), obs.err != nil)...)
	}
	if e.Output != nil {
		out = append(out, match("output", e.Output, anyMap(obs.output), obs.output != nil)...)
	}

	counts := map[string]int{}
	for _, x := range obs.execs {
		counts[x.name]++
		if x.alias != "" {
			counts[x.alias]++
		}
	}
	if obs.gaps && (len(e.Ran) > 0 || len(e.NotRan) > 0 || len(e.Calls) > 0) {
		out = append(out, Failure{Field: "ran", Msg: "some step executions could not be observed (more than 200 in a row without an activity or timer); ran, not_ran and calls are incomplete"})
	}
	for _, ref := range e.Ran {
		if counts[ref.Step] == 0 {
			out = append(out, Failure{Step: ref.Step, Field: "ran", Msg: "expected to run, but it did not run" + ranSummary(obs), Pos: ref.Pos})
		}
	}
	out = append(out, checkOrder(e.Ran, counts, obs)...)
	for _, ref := range e.NotRan {
		if n := counts[ref.Step]; n > 0 {
			out = append(out, Failure{Step: ref.Step, Field: "not_ran", Msg: fmt.Sprintf("expected not to run, but it ran %s", times(n)), Pos: ref.Pos})
		}
	}
	for _, c := range e.Calls {
		if n := counts[c.Step]; n != c.N {
			out = append(out, Failure{Step: c.Step, Field: "calls", Expected: times(c.N), Got: times(n), Pos: c.Pos})
		}
	}
	for _, se := range e.Steps {
		out = append(out, checkStep(se, obs)...)
	}
	return out
}

// checkOrder checks that the steps of ran executed in that relative order:
// there is a sequence of executions, one per entry, in increasing order.
func checkOrder(ran []Ref, counts map[string]int, obs *observed) []Failure {
	i := 0
	for k, ref := range ran {
		if counts[ref.Step] == 0 {
			return nil // reported as not run
		}
		for i < len(obs.execs) && !obs.execs[i].is(ref.Step) {
			i++
		}
		if i == len(obs.execs) {
			return []Failure{{Step: ref.Step, Field: "ran", Pos: ref.Pos,
				Msg: fmt.Sprintf("expected to run after %q, but it ran only before it%s", ran[k-1].Step, ranSummary(obs))}}
		}
		i++
	}
	return nil
}

// ranSummary lists the steps that ran, in order, for a diff.
func ranSummary(obs *observed) string {
	var names []string
	for _, x := range obs.execs {
		if len(names) == 0 || names[len(names)-1] != x.name {
			names = append(names, x.name)
		}
	}
	s := strings.Join(names, ", ")
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return " (steps that ran, in order: " + s + ")"
}

// checkStep checks the last execution of one step.
func checkStep(se StepExpect, obs *observed) []Failure {
	v, ok := obs.steps[se.Step].(map[string]any)
	if !ok {
		return []Failure{{Step: se.Step, Pos: se.Pos, Msg: "has no result: it did not run" + ranSummary(obs)}}
	}
	var out []Failure
	add := func(fs []Failure) {
		for _, f := range fs {
			f.Step, f.Pos = se.Step, se.Pos
			out = append(out, f)
		}
	}
	for _, field := range []string{"input", "output", "error"} {
		if !se.has[field] {
			continue
		}
		want := map[string]any{"input": se.Input, "output": se.Output, "error": se.Error}[field]
		got, present := v[field]
		add(match(field, want, got, present))
	}
	if se.Status != "" {
		got := "not run"
		for _, x := range obs.execs {
			if x.is(se.Step) {
				got = x.status
			}
		}
		if got != se.Status {
			add([]Failure{{Field: "status", Expected: se.Status, Got: got}})
		}
	}
	return out
}

// errorValue is the expectation view of a run error.
func errorValue(e *step.Error) any {
	if e == nil {
		return nil
	}
	m := map[string]any{"type": e.Type, "message": e.Message}
	if e.Details != nil {
		m["details"] = anyMap(e.Details)
	}
	return m
}

// anyMap returns m as an any holding map[string]any (nil stays nil).
func anyMap(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// times formats an execution count.
func times(n int) string {
	if n == 1 {
		return "1 time"
	}
	return fmt.Sprintf("%d times", n)
}

// is reports whether x is an execution of the step called name.
func (x execution) is(name string) bool { return x.name == name || x.alias != "" && x.alias == name }
