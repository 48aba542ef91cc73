package interpreter_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/secflow/secflow/interpreter"
)

// Conformance cases C20–C41 of the semantics spec (§10) that exercise the
// workflow (not only templating), run in the Temporal test environment
// with time skipping.

func echoMessages(r *runResult, typ string) []string {
	var out []string
	for _, c := range r.f.callsTo(typ) {
		s, _ := c.With["message"].(string)
		out = append(out, s)
	}
	return out
}

func TestC20StepLevelIf(t *testing.T) {
	const def = `
steps:
  - name: maybe
    type: console
    if: "inputs.run: true"
    with: { message: "ran" }
  - name: after
    type: console
    with: { message: "[{{ steps.maybe.output }}]" }
`
	for _, tc := range []struct {
		run  bool
		want string
	}{{false, "[]"}, {true, "[ran]"}} {
		r := runDef(t, def, runOpts{inputs: map[string]any{"run": tc.run}})
		if r.status() != interpreter.StatusCompleted {
			t.Fatalf("run=%v: status %s", tc.run, r.status())
		}
		if got := r.output("after"); got != tc.want {
			t.Errorf("run=%v: after = %v, want %q", tc.run, got, tc.want)
		}
		if r.ran("maybe") != tc.run {
			t.Errorf("run=%v: maybe has a record: %v", tc.run, r.ran("maybe"))
		}
	}
}

func TestC12IfElseAndVisibility(t *testing.T) {
	const def = `
steps:
  - name: gate
    type: if
    condition: "inputs.status: active"
    steps: [ { name: "yes", type: console, with: { message: "yes" } } ]
    else:  [ { name: "no",  type: console, with: { message: "no" } } ]
`
	r := runDef(t, def, runOpts{inputs: map[string]any{"status": "active"}})
	if !r.ran("gate/yes") || r.ran("gate/no") {
		t.Errorf("active: records %+v", r.state.Steps)
	}
	if _, ok := r.steps.Steps["no"]; ok {
		t.Errorf("no must be absent from steps")
	}
	r = runDef(t, def, runOpts{inputs: map[string]any{"status": "inactive"}})
	if r.ran("gate/yes") || !r.ran("gate/no") {
		t.Errorf("inactive: records %+v", r.state.Steps)
	}
}

func TestC15C16C17Conditions(t *testing.T) {
	const tpl = `
steps:
  - name: gate
    type: if
    condition: %s
    steps: [ { name: "yes", type: console, with: { message: "yes" } } ]
    else:  [ { name: "no",  type: console, with: { message: "no" } } ]
`
	for _, tc := range []struct {
		name, cond string
		inputs     map[string]any
		branch     string // yes | no | fail
		errText    string
	}{
		{"C15 missing field", `"steps.nothing.output.x: 1"`, nil, "no", ""},
		{"C16 true", `"${{ inputs.flag }}"`, map[string]any{"flag": true}, "yes", ""},
		{"C16 false", `"${{ inputs.flag }}"`, map[string]any{"flag": false}, "no", ""},
		{"C16 absent", `"${{ inputs.flag }}"`, nil, "no", ""},
		{"C16 object", `"${{ inputs.cfg }}"`, map[string]any{"cfg": map[string]any{"a": 1.0}}, "fail", "Invalid condition type for step gate. Got {\"a\":1} (type: object)"},
		{"C16 syntax", `"{{ inputs.c }}"`, map[string]any{"c": "invalid ::::"}, "fail", "Syntax error in condition \"invalid ::::\" for step gate: "},
		{"C17 == is not KQL", `"inputs.n == 5"`, map[string]any{"n": 5.0}, "no", ""},
		{"C18 rendered true", `"{{ inputs.n > 3 }}"`, map[string]any{"n": 5.0}, "yes", ""},
		{"bool literal", `true`, nil, "yes", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runDef(t, strings.Replace(tpl, "%s", tc.cond, 1), runOpts{inputs: tc.inputs})
			switch tc.branch {
			case "fail":
				if r.status() != interpreter.StatusFailed {
					t.Fatalf("status %s, want failed", r.status())
				}
				if e := r.errorOf(); e == nil || !strings.Contains(e.Message, tc.errText) {
					t.Errorf("error %+v, want %q", e, tc.errText)
				}
			default:
				if r.status() != interpreter.StatusCompleted {
					t.Fatalf("status %s (%v)", r.status(), r.errorOf())
				}
				if !r.ran("gate/" + tc.branch) {
					t.Errorf("branch %s did not run: %+v", tc.branch, r.state.Steps)
				}
			}
		})
	}
}

func TestC21ForeachJSONString(t *testing.T) {
	r := runDef(t, `
steps:
  - name: loop
    type: foreach
    foreach: '["a","b","c"]'
    steps:
      - name: log
        type: test.echo
        with: { message: "{{ foreach.index }}/{{ foreach.total }}={{ foreach.item }}" }
  - name: after
    type: console
    with: { message: "${{ steps.log.output.message }}" }
`, runOpts{})
	if got := echoMessages(r, "test.echo"); !reflect.DeepEqual(got, []string{"0/3=a", "1/3=b", "2/3=c"}) {
		t.Errorf("log inputs %q", got)
	}
	if got := r.output("after"); got != "2/3=c" {
		t.Errorf("steps.log.output after the loop = %v", got)
	}
	loop := r.stepValue("loop")
	if loop["total"] != 3.0 || loop["index"] != 2.0 {
		t.Errorf("steps.loop = %v", jsonOf(loop))
	}
	// Activity IDs carry the iteration.
	var paths []string
	for _, c := range r.f.callsTo("test.echo") {
		paths = append(paths, c.Path)
	}
	if want := []string{"loop/foreach[0]/log", "loop/foreach[1]/log", "loop/foreach[2]/log"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
}

func TestC22ForeachItems(t *testing.T) {
	const def = `
steps:
  - name: loop
    type: foreach
    foreach: "{{ inputs.list }}"
    steps:
      - name: log
        type: test.echo
        with: { id: "${{ foreach.item.id }}" }
`
	r := runDef(t, def, runOpts{inputs: map[string]any{"list": []any{map[string]any{"id": 1.0}, map[string]any{"id": 2.0}}}})
	calls := r.f.callsTo("test.echo")
	if len(calls) != 2 || calls[0].With["id"] != 1.0 {
		t.Errorf("calls %v", jsonOf(calls))
	}
	r = runDef(t, def, runOpts{inputs: map[string]any{"list": []any{}}})
	if r.status() != interpreter.StatusCompleted || len(r.f.callsTo("test.echo")) != 0 {
		t.Errorf("empty: status %s, calls %d", r.status(), len(r.f.callsTo("test.echo")))
	}
	if l := r.stepValue("loop"); l["total"] != 0.0 || !reflect.DeepEqual(l["items"], []any{}) {
		t.Errorf("empty loop state %v", jsonOf(l))
	}
	r = runDef(t, def, runOpts{inputs: map[string]any{"list": map[string]any{"a": 1.0}}})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || !strings.HasPrefix(e.Message, "Foreach expression must evaluate to an array.") {
		t.Errorf("object: status %s error %+v", r.status(), e)
	}
	r = runDef(t, strings.Replace(def, `"{{ inputs.list }}"`, `"not json"`, 1), runOpts{})
	if e := r.errorOf(); e == nil || e.Message != "Unable to parse rendered value: not json" {
		t.Errorf("not json: error %+v", e)
	}
}

func TestC23FalsyItemsIterate(t *testing.T) {
	r := runDef(t, `
steps:
  - name: loop
    type: foreach
    foreach: "[1, 0, 2]"
    steps:
      - { name: log, type: test.echo, with: { i: "${{ foreach.item }}" } }
`, runOpts{})
	if n := len(r.f.callsTo("test.echo")); n != 3 {
		t.Errorf("%d iterations, want 3", n)
	}
}

func TestC24Variables(t *testing.T) {
	r := runDef(t, `
steps:
  - name: a
    type: data.set
    with: { x: 1, y: "{{ inputs.v }}" }
  - name: loop
    type: foreach
    foreach: "[10,20]"
    steps:
      - name: b
        type: data.set
        with: { x: "${{ foreach.item }}" }
  - name: out
    type: console
    with: { message: "${{ variables }}" }
`, runOpts{inputs: map[string]any{"v": "q"}})
	if got := r.output("out"); !reflect.DeepEqual(got, map[string]any{"x": 20.0, "y": "q"}) {
		t.Errorf("variables %v", jsonOf(got))
	}
	if got := r.output("a"); !reflect.DeepEqual(got, map[string]any{"x": 1.0, "y": "q"}) {
		t.Errorf("steps.a.output %v", jsonOf(got))
	}
	r = runDef(t, `
steps:
  - name: bad
    type: data.set
    with: "${{ inputs.list }}"
`, runOpts{inputs: map[string]any{"list": []any{1.0}}})
	if e := r.errorOf(); e == nil || e.Message != "Input must be an object with key-value pairs" {
		t.Errorf("non-object data.set: %+v", e)
	}
}

func TestC25Switch(t *testing.T) {
	const def = `
steps:
  - name: route
    type: switch
    expression: "{{ inputs.code }}"
    cases:
      - { match: 200, steps: [ { name: ok, type: console, with: { message: ok } } ] }
      - { match: "404", steps: [ { name: nf, type: console, with: { message: nf } } ] }
    default: [ { name: other, type: console, with: { message: other } } ]
`
	for code, want := range map[float64]string{200: "route/ok", 404: "route/nf", 500: "route/other"} {
		r := runDef(t, def, runOpts{inputs: map[string]any{"code": code}})
		if !r.ran(want) || len(r.state.Steps) != 2 {
			t.Errorf("code %v: records %+v, want %s", code, r.state.Steps, want)
		}
	}
	noDefault := def[:strings.Index(def, "    default:")]
	r := runDef(t, noDefault, runOpts{inputs: map[string]any{"code": 500.0}})
	if r.status() != interpreter.StatusCompleted || len(r.state.Steps) != 1 {
		t.Errorf("no default: status %s records %+v", r.status(), r.state.Steps)
	}
	if idx := r.stepValue("route")["matchedIndex"]; idx != -1.0 {
		t.Errorf("matchedIndex = %v", idx)
	}
}

func TestC26While(t *testing.T) {
	r := runDef(t, `
steps:
  - name: w
    type: while
    condition: "${{ false }}"
    steps: [ { name: body, type: test.echo, with: { message: "i={{ while.iteration }}" } } ]
`, runOpts{})
	if got := echoMessages(r, "test.echo"); !reflect.DeepEqual(got, []string{"i=0"}) {
		t.Errorf("do-while body: %q", got)
	}
	const limited = `
steps:
  - name: w
    type: while
    condition: "${{ true }}"
    max-iterations: { limit: 3, on-limit: %s }
    steps: [ { name: body, type: test.echo, with: { message: "i={{ while.iteration }}" } } ]
`
	r = runDef(t, strings.Replace(limited, "%s", "fail", 1), runOpts{})
	if n := len(r.f.callsTo("test.echo")); n != 3 {
		t.Errorf("fail: %d iterations", n)
	}
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil ||
		e.Message != `While step "w" exceeded max-iterations limit of 3. Completed 3 iterations.` {
		t.Errorf("fail: status %s error %+v", r.status(), e)
	}
	r = runDef(t, strings.Replace(limited, "%s", "continue", 1), runOpts{})
	if n := len(r.f.callsTo("test.echo")); n != 3 || r.status() != interpreter.StatusCompleted {
		t.Errorf("continue: %d iterations, status %s", n, r.status())
	}
}

func TestC27LoopBreakContinue(t *testing.T) {
	r := runDef(t, `
steps:
  - name: loop
    type: foreach
    foreach: "[1,2,3,4]"
    steps:
      - { name: skip2, type: loop.continue, if: "foreach.item: 2" }
      - { name: stop4, type: loop.break,    if: "foreach.item: 4" }
      - { name: log, type: test.echo, with: { message: "{{ foreach.item }}" } }
`, runOpts{})
	if got := echoMessages(r, "test.echo"); !reflect.DeepEqual(got, []string{"1", "3"}) {
		t.Errorf("log outputs %q", got)
	}
	if r.status() != interpreter.StatusCompleted {
		t.Errorf("status %s", r.status())
	}
}

func TestC28UnhandledFailure(t *testing.T) {
	r := runDef(t, `
steps:
  - { name: boom, type: http, with: { url: "http://127.0.0.1:1/" } }
  - { name: never, type: console, with: { message: x } }
`, runOpts{})
	e := r.errorOf()
	if r.status() != interpreter.StatusFailed || e == nil || e.Type != "ConnectionRefused" || e.Message != "Connection refused to http://127.0.0.1:1" {
		t.Fatalf("status %s error %+v", r.status(), e)
	}
	if r.ran("never") {
		t.Error("never ran")
	}
	if recs := r.records("boom"); len(recs) != 1 || recs[0].Status != interpreter.StatusFailed {
		t.Errorf("boom records %+v", recs)
	}
}

func TestC29Continue(t *testing.T) {
	r := runDef(t, `
steps:
  - name: boom
    type: http
    with: { url: "http://127.0.0.1:1/" }
    on-failure: { continue: true }
  - name: report
    type: console
    with: { message: "failed={{ steps.boom.error.type }} out=[{{ steps.boom.output }}]" }
`, runOpts{})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s", r.status())
	}
	if got := r.output("report"); got != "failed=ConnectionRefused out=[]" {
		t.Errorf("report = %v", got)
	}
}

func TestC30RetryCounting(t *testing.T) {
	// Always failing with max-attempts 2: 3 executions, run failed.
	f := &fakes{failUntil: map[string]int{"s": 100}}
	r := runDef(t, `
steps:
  - name: s
    type: test.flaky
    on-failure: { retry: { max-attempts: 2, delay: 1s } }
`, runOpts{fakes: f})
	if n := len(f.callsTo("test.flaky")); n != 3 {
		t.Errorf("%d executions, want 3", n)
	}
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || e.Message != "attempt 3 failed" {
		t.Errorf("status %s error %+v", r.status(), e)
	}
	if recs := r.records("s"); len(recs) != 3 || recs[2].Attempts != 3 {
		t.Errorf("records %+v", recs)
	}
	// Failing once then succeeding: 2 executions, completed.
	f = &fakes{failUntil: map[string]int{"s": 1}}
	r = runDef(t, `
steps:
  - name: s
    type: test.flaky
    on-failure: { retry: { max-attempts: 2 } }
`, runOpts{fakes: f})
	if n := len(f.callsTo("test.flaky")); n != 2 || r.status() != interpreter.StatusCompleted {
		t.Errorf("%d executions, status %s", n, r.status())
	}
	// A condition that does not hold stops retrying at once.
	f = &fakes{failUntil: map[string]int{"s": 100}}
	r = runDef(t, `
steps:
  - name: s
    type: test.flaky
    on-failure: { retry: { max-attempts: 5, condition: "${{ error.type == 'NetworkError' }}" } }
`, runOpts{fakes: f})
	if n := len(f.callsTo("test.flaky")); n != 1 || r.status() != interpreter.StatusFailed {
		t.Errorf("condition: %d executions, status %s", n, r.status())
	}
}

func TestC31Fallback(t *testing.T) {
	const def = `
steps:
  - name: primary
    type: http
    with: { url: "http://127.0.0.1:1/" }
    on-failure:
      fallback:
        - { name: fb, type: console, with: { message: "fb: {{ error.message }}" } }
      %s
  - { name: next, type: console, with: { message: n } }
`
	r := runDef(t, strings.Replace(def, "%s", "", 1), runOpts{})
	if got := r.output("fb"); got != "fb: Connection refused to http://127.0.0.1:1" {
		t.Errorf("fb = %v", got)
	}
	if r.ran("next") || r.status() != interpreter.StatusFailed || r.errorOf().Type != "ConnectionRefused" {
		t.Errorf("without continue: next ran=%v status %s error %+v", r.ran("next"), r.status(), r.errorOf())
	}
	r = runDef(t, strings.Replace(def, "%s", "continue: true", 1), runOpts{})
	if !r.ran("primary/fallback/fb") || !r.ran("next") || r.status() != interpreter.StatusCompleted {
		t.Errorf("with continue: records %+v status %s", r.state.Steps, r.status())
	}
}

func TestC32AllModifiers(t *testing.T) {
	// timeout per attempt, retry, fallback after retries, continue outermost.
	r := runDef(t, `
steps:
  - name: x
    type: while
    condition: "${{ true }}"
    timeout: 1s
    max-iterations: 100000
    steps:
      - { name: tick, type: wait, with: { duration: 600ms } }
    on-failure:
      retry: { max-attempts: 1 }
      fallback:
        - { name: fb, type: console, with: { message: "{{ error.type }}: {{ error.message }}" } }
      continue: true
  - { name: after, type: console, with: { message: done } }
`, runOpts{})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s (%+v)", r.status(), r.errorOf())
	}
	if recs := r.records("x"); len(recs) != 2 || recs[1].Error == nil || recs[1].Error.Type != "TimeoutError" {
		t.Errorf("x records %+v", recs)
	}
	if got := r.output("fb"); got != "TimeoutError: Step execution exceeded the configured timeout of 1s." {
		t.Errorf("fb = %v", got)
	}
	if !r.ran("after") {
		t.Error("after did not run")
	}
}

func TestC33StepTimeout(t *testing.T) {
	const def = `
steps:
  - name: slow
    type: foreach
    foreach: "[1,2,3]"
    timeout: 1s
    steps:
      - { name: nap, type: wait, with: { duration: 1s } }
    %s
`
	r := runDef(t, strings.Replace(def, "%s", "", 1), runOpts{})
	e := r.errorOf()
	if r.status() != interpreter.StatusFailed || e == nil || e.Type != "TimeoutError" || e.Message != "Step execution exceeded the configured timeout of 1s." {
		t.Errorf("status %s error %+v", r.status(), e)
	}
	r = runDef(t, strings.Replace(def, "%s", "on-failure: { continue: true }", 1), runOpts{})
	if r.status() != interpreter.StatusCompleted {
		t.Errorf("with continue: status %s", r.status())
	}
}

func TestC34WorkflowTimeout(t *testing.T) {
	r := runDef(t, `
settings: { timeout: 2s }
steps:
  - { name: nap, type: wait, with: { duration: 10s } }
  - { name: never, type: console, with: { message: x } }
`, runOpts{})
	if r.status() != interpreter.StatusTimedOut {
		t.Fatalf("status %s", r.status())
	}
	if res := r.result(); res.Error != nil {
		t.Errorf("run error must not be set: %+v", res.Error)
	}
	recs := r.records("nap")
	if len(recs) != 1 || recs[0].Status != interpreter.StatusFailed || recs[0].Error.Message != "Failed due to workflow timeout" {
		t.Errorf("nap records %+v", recs)
	}
	if r.ran("never") {
		t.Error("never ran")
	}
}

func TestC38WorkflowOutput(t *testing.T) {
	const def = `
outputs:
  - { name: count, type: number, required: true }
steps:
  - name: done
    type: workflow.output
    %s
    with: { count: "{{ inputs.n }}" }
  - { name: never, type: console, with: { message: x } }
`
	r := runDef(t, strings.Replace(def, "%s", "", 1), runOpts{inputs: map[string]any{"n": 3.0}})
	if r.status() != interpreter.StatusCompleted || !reflect.DeepEqual(r.result().Output, map[string]any{"count": 3.0}) {
		t.Errorf("status %s output %v", r.status(), jsonOf(r.result().Output))
	}
	if r.ran("never") {
		t.Error("never ran")
	}
	r = runDef(t, strings.Replace(def, "%s", "", 1), runOpts{inputs: map[string]any{"n": "abc"}})
	if e := r.errorOf(); r.status() != interpreter.StatusFailed || e == nil || !strings.HasPrefix(e.Message, "Output validation failed: count:") {
		t.Errorf("invalid: status %s error %+v", r.status(), e)
	}
	r = runDef(t, strings.Replace(def, "%s", "status: cancelled", 1), runOpts{inputs: map[string]any{"n": 3.0}})
	if r.status() != interpreter.StatusCancelled {
		t.Errorf("cancelled: status %s", r.status())
	}
}

func TestC39InputDefaultsAndValidation(t *testing.T) {
	const def = `
triggers:
  - type: manual
    inputs:
      - { name: ip, type: string, required: true }
      - { name: sev, type: choice, options: [low, high], default: low }
      - { name: hosts, type: array }
name: t
steps:
  - { name: s, type: console, with: { message: "${{ inputs }}" } }
`
	r := runDef(t, def, runOpts{inputs: map[string]any{"ip": "1.2.3.4"}})
	if got := r.output("s"); !reflect.DeepEqual(got, map[string]any{"ip": "1.2.3.4", "sev": "low", "hosts": []any{}}) {
		t.Errorf("inputs %v", jsonOf(got))
	}
	r = runDef(t, def, runOpts{})
	e := r.errorOf()
	if r.status() != interpreter.StatusFailed || e == nil || e.Type != "InputValidationError" || !strings.HasPrefix(e.Message, "Workflow input validation failed: ip") {
		t.Errorf("status %s error %+v", r.status(), e)
	}
	if len(r.state.Steps) != 0 {
		t.Errorf("steps ran: %+v", r.state.Steps)
	}
}

func TestC40DataMap(t *testing.T) {
	const def = `
steps:
  - name: m
    type: data.map
    items: "${{ inputs.u }}"
    with:
      fields: { userId: "${{ item.id }}", n: "${{ index }}", src: api }
`
	r := runDef(t, def, runOpts{inputs: map[string]any{"u": []any{map[string]any{"id": 1.0}, map[string]any{"id": 2.0}}}})
	want := []any{map[string]any{"userId": 1.0, "n": 0.0, "src": "api"}, map[string]any{"userId": 2.0, "n": 1.0, "src": "api"}}
	if got := r.output("m"); !reflect.DeepEqual(got, want) {
		t.Errorf("array: %v", jsonOf(got))
	}
	r = runDef(t, def, runOpts{inputs: map[string]any{"u": "str"}})
	if e := r.errorOf(); e == nil || !strings.HasPrefix(e.Message, "Expected items to be an array or object, but received string") {
		t.Errorf("string: %+v", e)
	}
}
