package flowtest

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// matcherKinds are the keys that make a one-key mapping a matcher.
var matcherKinds = []string{"contains", "matches", "exists", "equals"}

// matcher is `{contains: v}`, `{matches: re}`, `{exists: bool}` or
// `{equals: v}` in an expectation.
type matcher struct {
	kind string
	arg  any
	re   *regexp.Regexp
	pos  Pos
}

// String renders the matcher as it reads in a diff.
func (m *matcher) String() string {
	switch m.kind {
	case "matches":
		return "matches /" + m.arg.(string) + "/"
	case "exists":
		if m.arg.(bool) {
			return "exists"
		}
		return "absent"
	}
	return m.kind + " " + show(m.arg)
}

// Failure is one difference between what a case expected and what the run
// did.
type Failure struct {
	// Step is the step the failure is about ("" for run-level checks).
	Step string
	// Field is the path of the value inside the step or run
	// ("input.message", "output.case.id", "status", "ran").
	Field string
	// Expected and Got describe the two sides ("" when not applicable).
	Expected string
	Got      string
	// Msg is a free-form explanation used instead of Expected/Got.
	Msg string
	// Pos is where the expectation is written in the test file.
	Pos Pos
}

// String renders the failure on one line: step, field path, expected, got.
func (f Failure) String() string {
	var b strings.Builder
	if f.Step != "" {
		fmt.Fprintf(&b, "step %q ", f.Step)
	}
	if f.Field != "" {
		b.WriteString(f.Field)
		b.WriteString(": ")
	}
	if f.Msg != "" {
		b.WriteString(f.Msg)
	} else {
		fmt.Fprintf(&b, "expected %s, got %s", f.Expected, f.Got)
	}
	return b.String()
}

// absent is the "got" text of a value that does not exist.
const absent = "nothing (absent)"

// match compares want (an expectation tree) with got, a subset match:
// every key of an expected mapping must match the same key of got (other
// keys of got are ignored), lists match element by element and must have
// the same length, scalars must be equal (numbers numerically). present
// says whether got exists at all. Every difference is returned with its
// field path.
func match(field string, want, got any, present bool) []Failure {
	if m, ok := want.(*matcher); ok {
		return m.match(field, got, present)
	}
	if !present {
		return []Failure{{Field: field, Expected: show(want), Got: absent}}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []Failure{{Field: field, Expected: "an object " + show(w), Got: show(got)}}
		}
		var out []Failure
		for _, k := range sortedKeys(w) {
			gv, has := g[k]
			out = append(out, match(join(field, k), w[k], gv, has)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []Failure{{Field: field, Expected: "a list " + show(w), Got: show(got)}}
		}
		if len(g) != len(w) {
			return []Failure{{Field: field, Expected: fmt.Sprintf("%d element(s) %s", len(w), show(w)),
				Got: fmt.Sprintf("%d element(s) %s", len(g), show(g))}}
		}
		var out []Failure
		for i := range w {
			out = append(out, match(fmt.Sprintf("%s[%d]", field, i), w[i], g[i], true)...)
		}
		return out
	}
	if !scalarEqual(want, got) {
		return []Failure{{Field: field, Expected: show(want), Got: show(got)}}
	}
	return nil
}

// match applies a matcher.
func (m *matcher) match(field string, got any, present bool) []Failure {
	fail := func() []Failure {
		g := absent
		if present {
			g = show(got)
		}
		return []Failure{{Field: field, Expected: m.String(), Got: g}}
	}
	switch m.kind {
	case "exists":
		if present != m.arg.(bool) {
			return fail()
		}
		return nil
	case "equals":
		if !present || !deepEqual(m.arg, got) {
			return fail()
		}
		return nil
	case "matches":
		if !present || m.re == nil || !m.re.MatchString(text(got)) {
			return fail()
		}
		return nil
	}
	// contains
	if !present {
		return fail()
	}
	switch g := got.(type) {
	case string:
		if s, ok := m.arg.(string); ok && strings.Contains(g, s) {
			return nil
		}
		if _, ok := m.arg.(string); !ok && strings.Contains(g, text(m.arg)) {
			return nil
		}
	case []any:
		for _, e := range g {
			if len(match("", m.arg, e, true)) == 0 {
				return nil
			}
		}
	case map[string]any:
		if _, ok := m.arg.(map[string]any); ok && len(match("", m.arg, g, true)) == 0 {
			return nil
		}
	}
	return fail()
}

// join appends a key to a field path.
func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// scalarEqual compares scalars, numbers numerically.
func scalarEqual(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

// deepEqual compares JSON-like values exactly (numbers numerically).
func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, has := y[k]
			if !has || !deepEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return scalarEqual(a, b)
}
