package interpreter_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/secflow/secflow/interpreter"
)

// Audit of the walker against the semantics spec §2–§7: each case runs a
// definition in the test environment and checks one documented behaviour.

// auditCase is one behaviour of the spec, checked on a run.
type auditCase struct {
	name   string
	def    string
	inputs map[string]any
	status string
	// errMsg, when set, is the exact run error message.
	errMsg string
	// outputs, when set, are the expected steps.<name>.output values.
	outputs map[string]any
	// calls, when set, are the expected numbers of calls per fake step type.
	calls map[string]int
	check func(t *testing.T, r *runResult)
}

func runAudit(t *testing.T, cases []auditCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runDef(t, tc.def, runOpts{inputs: tc.inputs})
			if tc.status != "" && r.status() != tc.status {
				t.Fatalf("status %s, want %s (error %+v)", r.status(), tc.status, r.errorOf())
			}
			if tc.errMsg != "" {
				if e := r.errorOf(); e == nil || e.Message != tc.errMsg {
					t.Errorf("error %+v\nwant message %q", e, tc.errMsg)
				}
			}
			for name, want := range tc.outputs {
				if got := r.output(name); !reflect.DeepEqual(got, want) {
					t.Errorf("steps.%s.output = %v, want %v", name, jsonOf(got), jsonOf(want))
				}
			}
			for typ, want := range tc.calls {
				if n := len(r.f.callsTo(typ)); n != want {
					t.Errorf("%d %s calls, want %d", n, typ, want)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestAuditErrorTexts checks error texts of §5.1 and §6.1 that quote a
// user string: JavaScript template literals insert it verbatim (no
// escaping of inner quotes).
func TestAuditErrorTexts(t *testing.T) {
	runAudit(t, []auditCase{{
		name: "foreach expression with quotes (§6.1.2)",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: '{{ inputs.obj | default: "x" }}'
    steps: [ { name: log, type: console, with: { message: hi } } ]
`,
		inputs: map[string]any{"obj": map[string]any{"a": 1.0}},
		status: interpreter.StatusFailed,
		errMsg: `Foreach expression must evaluate to an array. Expression "{{ inputs.obj | default: "x" }}" resolved to object: {"a":1}.`,
	}, {
		name: "condition syntax error with quotes (§5.1)",
		def: `
steps:
  - name: gate
    type: if
    condition: '{{ inputs.c }}'
    steps: [ { name: log, type: console, with: { message: hi } } ]
`,
		inputs: map[string]any{"c": `inputs.x: "a`},
		status: interpreter.StatusFailed,
		check: func(t *testing.T, r *runResult) {
			if e := r.errorOf(); e == nil || !strings.HasPrefix(e.Message, `Syntax error in condition "inputs.x: "a" for step gate: `) {
				t.Errorf("error %+v", e)
			}
		},
	}, {
		name: "invalid condition type (§5.1)",
		def: `
steps:
  - name: gate
    type: if
    condition: "${{ inputs.n }}"
    steps: [ { name: log, type: console, with: { message: hi } } ]
`,
		inputs: map[string]any{"n": 5.0},
		status: interpreter.StatusFailed,
		errMsg: "Invalid condition type for step gate. Got 5 (type: number), but expected boolean or string (KQL expression).",
	}, {
		name: "step-level if: reports the synthetic if_<name> (§2.1)",
		def: `
steps:
  - name: s
    type: console
    if: "${{ inputs.arr }}"
    with: { message: hi }
`,
		inputs: map[string]any{"arr": []any{1.0}},
		status: interpreter.StatusFailed,
		errMsg: "Invalid condition type for step if_s. Got [1] (type: object), but expected boolean or string (KQL expression).",
	}, {
		name: "foreach max-iterations fail (§6.1.2)",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: "[1,2,3,4]"
    max-iterations: { limit: 2, on-limit: fail }
    steps: [ { name: log, type: console, with: { message: "{{ foreach.item }}" } } ]
`,
		status: interpreter.StatusFailed,
		errMsg: `Foreach step "loop" exceeded max-iterations limit of 2. Processed 2 of 4 items.`,
	}, {
		name: "step timeout text (§7.6)",
		def: `
steps:
  - name: slow
    type: wait
    timeout: 1s
    with: { duration: 1m }
`,
		status: interpreter.StatusFailed,
		errMsg: "Step execution exceeded the configured timeout of 1s.",
	}})
}

// TestAuditState checks the loop and switch state merged into steps.<name>
// (§3, §6.1.2–§6.1.4) and the "latest execution" rule.
func TestAuditState(t *testing.T) {
	runAudit(t, []auditCase{{
		name: "foreach state and latest inner output",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: '["a","b","c"]'
    steps:
      - { name: inner, type: console, with: { message: "{{ foreach.index }}:{{ steps.loop.item }}/{{ steps.loop.total }}" } }
  - name: after
    type: console
    with: { message: "{{ steps.loop.index }} {{ steps.loop.item }} {{ steps.loop.total }} {{ steps.loop.items | size }} {{ steps.inner.output }}" }
`,
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"after": "2 c 3 3 2:c/3"},
	}, {
		name: "while iteration",
		def: `
steps:
  - name: w
    type: while
    condition: "${{ steps.w.iteration < 2 }}"
    steps:
      - { name: b, type: console, with: { message: "{{ while.iteration }}/{{ steps.w.iteration }}" } }
  - name: after
    type: console
    with: { message: "{{ steps.w.iteration }} {{ steps.b.output }}" }
`,
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"after": "2 2/2"},
	}, {
		name: "switch matchedValue and matchedIndex",
		def: `
steps:
  - name: route
    type: switch
    expression: "${{ inputs.code }}"
    cases:
      - { match: "x", steps: [ { name: a, type: console, with: { message: a } } ] }
      - { match: "404", steps: [ { name: b, type: console, with: { message: b } } ] }
  - name: after
    type: console
    with: { message: "${{ steps.route }}" }
`,
		inputs: map[string]any{"code": 404.0},
		status: interpreter.StatusCompleted,
		check: func(t *testing.T, r *runResult) {
			m, _ := r.output("after").(map[string]any)
			if m["matchedValue"] != "404" || m["matchedIndex"] != 1.0 {
				t.Errorf("steps.route = %v", jsonOf(m))
			}
			in, _ := m["input"].(map[string]any)
			if in["rawExpression"] != "${{ inputs.code }}" || in["expression"] != 404.0 {
				t.Errorf("steps.route.input = %v", jsonOf(in))
			}
			if _, ok := m["status"]; ok {
				t.Errorf("steps.route has a status field")
			}
		},
	}, {
		name: "console ${{ obj }} output is the object (§6.2)",
		def: `
steps:
  - name: c
    type: console
    with: { message: "${{ inputs.obj }}" }
`,
		inputs:  map[string]any{"obj": map[string]any{"a": []any{1.0, "x"}}},
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"c": map[string]any{"a": []any{1.0, "x"}}},
	}, {
		name: "visibility: other branch and later steps absent (§3)",
		def: `
steps:
  - name: early
    type: console
    with: { message: "[{{ steps.late.output }}]" }
  - name: gate
    type: if
    condition: "${{ true }}"
    steps:
      - { name: yes, type: console, with: { message: "[{{ steps.no.output }}]" } }
    else:
      - { name: no, type: console, with: { message: no } }
  - name: late
    type: console
    with: { message: late }
`,
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"early": "[]", "yes": "[]"},
	}, {
		name: "variables visible to non-successors (§6.3.1)",
		def: `
steps:
  - name: gate
    type: if
    condition: "${{ true }}"
    steps:
      - { name: set1, type: data.set, with: { a: 1, b: "x" } }
  - name: set2
    type: data.set
    with: { b: "y" }
  - name: out
    type: console
    with: { message: "${{ variables }}" }
`,
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"out": map[string]any{"a": 1.0, "b": "y"}},
	}})
}

// statusOf returns the statuses of the records of path, in order.
func statusOf(r *runResult, path string) []string {
	var out []string
	for _, rec := range r.records(path) {
		out = append(out, rec.Status)
	}
	return out
}

// TestAuditOnFailure checks §7.3–§7.4: retry condition with `error`,
// fallback re-raise, continue conditions and the workflow-level policy.
func TestAuditOnFailure(t *testing.T) {
	const retryDef = `
steps:
  - name: fetch
    type: http
    with: { url: "%s" }
    on-failure:
      retry:
        max-attempts: 2
        condition: "${{ error.type == 'HttpRequestError' }}"
`
	runAudit(t, []auditCase{{
		name:   "retry condition true retries max-attempts times",
		def:    strings.Replace(retryDef, "%s", "http://h/404", 1),
		status: interpreter.StatusFailed,
		errMsg: "Request failed with status code 404",
		calls:  map[string]int{"http": 3},
	}, {
		name:   "retry condition false propagates at once",
		def:    strings.Replace(retryDef, "%s", "http://127.0.0.1:1", 1),
		status: interpreter.StatusFailed,
		errMsg: "Connection refused to http://127.0.0.1:1",
		calls:  map[string]int{"http": 1},
	}, {
		name: "fallback sees error and re-raises the original error",
		def: `
steps:
  - name: fetch
    type: http
    with: { url: "http://h/404" }
    on-failure:
      fallback:
        - { name: note, type: console, with: { message: "fb: {{ error.type }} {{ error.message }}" } }
  - name: after
    type: console
    with: { message: after }
`,
		status:  interpreter.StatusFailed,
		errMsg:  "Request failed with status code 404",
		outputs: map[string]any{"note": "fb: HttpRequestError Request failed with status code 404"},
		check: func(t *testing.T, r *runResult) {
			if r.ran("after") {
				t.Errorf("after ran")
			}
		},
	}, {
		name: "a failing fallback step propagates its own error",
		def: `
steps:
  - name: fetch
    type: http
    with: { url: "http://h/404" }
    on-failure:
      fallback:
        - { name: fb, type: http, with: { url: "http://127.0.0.1:1" } }
`,
		status: interpreter.StatusFailed,
		errMsg: "Connection refused to http://127.0.0.1:1",
	}, {
		name: "step-level on-failure wraps the synthetic foreach (§2.1)",
		def: `
steps:
  - name: fetch
    type: http
    foreach: '["404", "ok"]'
    with: { url: "http://h/{{ foreach.item }}" }
    on-failure:
      continue: true
`,
		status: interpreter.StatusCompleted,
		calls:  map[string]int{"http": 1},
	}, {
		name: "retry re-runs the timed step with a full timeout (§2.1, §7.6)",
		def: `
steps:
  - name: slow
    type: wait
    timeout: 1s
    with: { duration: 1m }
    on-failure:
      retry: { max-attempts: 1 }
`,
		status: interpreter.StatusFailed,
		errMsg: "Step execution exceeded the configured timeout of 1s.",
		check: func(t *testing.T, r *runResult) {
			if got := statusOf(r, "slow"); !reflect.DeepEqual(got, []string{"failed", "failed"}) {
				t.Errorf("records %v", got)
			}
		},
	}, {
		name: "an inner failure fails the foreach and the run (§7.3)",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: "[1,2]"
    steps:
      - { name: fetch, type: http, with: { url: "http://h/404" } }
  - name: after
    type: console
    with: { message: after }
`,
		status: interpreter.StatusFailed,
		errMsg: "Request failed with status code 404",
		check: func(t *testing.T, r *runResult) {
			if got := statusOf(r, "loop"); !reflect.DeepEqual(got, []string{"failed"}) {
				t.Errorf("loop records %v", got)
			}
			if r.ran("after") || len(r.f.callsTo("http")) != 1 {
				t.Errorf("after ran %v, calls %d", r.ran("after"), len(r.f.callsTo("http")))
			}
		},
	}, {
		name: "workflow timeout is not catchable (§7.6)",
		def: `
settings:
  timeout: 2s
steps:
  - name: slow
    type: wait
    with: { duration: 1m }
    on-failure:
      continue: true
  - name: after
    type: console
    with: { message: after }
`,
		status: interpreter.StatusTimedOut,
		check: func(t *testing.T, r *runResult) {
			if r.ran("after") {
				t.Errorf("after ran")
			}
			recs := r.records("slow")
			if len(recs) != 1 || recs[0].Status != interpreter.StatusFailed || recs[0].Error == nil ||
				recs[0].Error.Message != "Failed due to workflow timeout" {
				t.Errorf("slow records %+v", recs)
			}
		},
	}})
}

// TestAuditContinueCondition checks continue: "<expr>" both ways (§7.4).
func TestAuditContinueCondition(t *testing.T) {
	const def = `
steps:
  - name: fetch
    type: http
    with: { url: "%s" }
    on-failure:
      continue: "${{ error.type == 'HttpRequestError' }}"
  - name: after
    type: console
    with: { message: "{{ steps.fetch.error.message }}|{{ steps.fetch.output }}" }
`
	r := runDef(t, strings.Replace(def, "%s", "http://h/404", 1), runOpts{})
	if r.status() != interpreter.StatusCompleted || r.output("after") != "Request failed with status code 404|" {
		t.Errorf("404: status %s after %v", r.status(), r.output("after"))
	}
	if got := statusOf(r, "fetch"); !reflect.DeepEqual(got, []string{"failed"}) {
		t.Errorf("fetch records %v", got)
	}
	r = runDef(t, strings.Replace(def, "%s", "http://127.0.0.1:1", 1), runOpts{})
	if r.status() != interpreter.StatusFailed || r.ran("after") {
		t.Errorf("refused: status %s, after ran %v", r.status(), r.ran("after"))
	}
}

// TestAuditWorkflowLevelOnFailure checks settings.on-failure (§7.4): it
// wraps atomic steps, not flow control, wait or fallback steps, and a
// step-level policy overrides it; its fallback steps are named
// workflow-level-on-failure_<stepId>_<name>.
func TestAuditWorkflowLevelOnFailure(t *testing.T) {
	const settings = `
settings:
  on-failure:
    fallback:
      - { name: note, type: console, with: { message: "fb {{ error.message }}" } }
    continue: true
`
	runAudit(t, []auditCase{{
		name: "atomic step wrapped, fallback renamed",
		def: settings + `
steps:
  - name: fetch
    type: http
    with: { url: "http://h/404" }
  - name: after
    type: console
    with: { message: "{{ steps.workflow-level-on-failure_fetch_note.output }}" }
`,
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"workflow-level-on-failure_fetch_note": "fb Request failed with status code 404"},
		check: func(t *testing.T, r *runResult) {
			if _, ok := r.steps.Steps["note"]; ok {
				t.Errorf("fallback stored under its plain name")
			}
		},
	}, {
		name: "inner step of a foreach wrapped, not the foreach",
		def: settings + `
steps:
  - name: loop
    type: foreach
    foreach: '["404","ok"]'
    steps:
      - { name: fetch, type: http, with: { url: "http://h/{{ foreach.item }}" } }
`,
		status: interpreter.StatusCompleted,
		calls:  map[string]int{"http": 2},
	}, {
		name: "if with a bad condition not wrapped",
		def: settings + `
steps:
  - name: gate
    type: if
    condition: "${{ 5 }}"
    steps: [ { name: x, type: console, with: { message: x } } ]
`,
		status: interpreter.StatusFailed,
	}, {
		name: "wait not wrapped",
		def: settings + `
steps:
  - name: pause
    type: wait
    timeout: 1s
    with: { duration: 1m }
`,
		status: interpreter.StatusFailed,
		errMsg: "Step execution exceeded the configured timeout of 1s.",
	}, {
		name: "step-level policy overrides",
		def: settings + `
steps:
  - name: fetch
    type: http
    with: { url: "http://h/404" }
    on-failure:
      retry: { max-attempts: 1 }
`,
		status: interpreter.StatusFailed,
		calls:  map[string]int{"http": 2},
		check: func(t *testing.T, r *runResult) {
			if _, ok := r.steps.Steps["workflow-level-on-failure_fetch_note"]; ok {
				t.Errorf("workflow-level fallback ran")
			}
		},
	}, {
		name: "steps in a step-level fallback not wrapped",
		def: settings + `
steps:
  - name: fetch
    type: http
    with: { url: "http://h/404" }
    on-failure:
      fallback:
        - { name: fb, type: http, with: { url: "http://127.0.0.1:1" } }
`,
		status: interpreter.StatusFailed,
		errMsg: "Connection refused to http://127.0.0.1:1",
	}})
}

// TestAuditLoops checks §6.1.2–§6.1.5 details.
func TestAuditLoops(t *testing.T) {
	runAudit(t, []auditCase{{
		name: "nested foreach: foreach is the innermost, outer via steps (§4.6)",
		def: `
steps:
  - name: outer
    type: foreach
    foreach: '["a","b"]'
    steps:
      - name: inner
        type: foreach
        foreach: "[1,2]"
        steps:
          - { name: log, type: test.echo, with: { m: "{{ steps.outer.item }}{{ foreach.item }}/{{ steps.outer.index }}{{ foreach.index }}" } }
`,
		status: interpreter.StatusCompleted,
		check: func(t *testing.T, r *runResult) {
			var got []string
			for _, c := range r.f.callsTo("test.echo") {
				got = append(got, c.With["m"].(string))
			}
			if want := []string{"a1/00", "a2/01", "b1/10", "b2/11"}; !reflect.DeepEqual(got, want) {
				t.Errorf("got %q", got)
			}
		},
	}, {
		name: "foreach YAML list is rendered (§6.1.2)",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: [ "{{ inputs.a }}", "${{ inputs.n }}" ]
    steps:
      - { name: log, type: test.echo, with: { v: "${{ foreach.item }}" } }
`,
		inputs: map[string]any{"a": "x", "n": 3.0},
		status: interpreter.StatusCompleted,
		check: func(t *testing.T, r *runResult) {
			calls := r.f.callsTo("test.echo")
			if len(calls) != 2 || calls[0].With["v"] != "x" || calls[1].With["v"] != 3.0 {
				t.Errorf("calls %v", jsonOf(calls))
			}
		},
	}, {
		name: "foreach over a number string fails with its type (§6.1.2)",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: "5"
    steps: [ { name: log, type: console, with: { message: x } } ]
`,
		status: interpreter.StatusFailed,
		errMsg: `Foreach expression must evaluate to an array. Expression "5" resolved to number: 5.`,
	}, {
		name: "legacy bare context path (§6.1.2)",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: inputs.list
    steps: [ { name: log, type: test.echo, with: { v: "${{ foreach.item }}" } } ]
`,
		inputs: map[string]any{"list": []any{"p", "q"}},
		status: interpreter.StatusCompleted,
		calls:  map[string]int{"test.echo": 2},
	}, {
		name: "step-level if: is evaluated once outside step-level foreach: (§2.1)",
		def: `
steps:
  - name: log
    type: test.echo
    if: "${{ foreach == undefined }}"
    foreach: "[1,2]"
    with: { v: "${{ foreach.item }}" }
`,
		status: interpreter.StatusCompleted,
		calls:  map[string]int{"test.echo": 2},
	}, {
		name: "while condition sees the body; loop.continue goes to the check (§6.1.3, §6.1.5)",
		def: `
steps:
  - name: w
    type: while
    condition: "${{ steps.b.output < 3 }}"
    steps:
      - { name: b, type: console, with: { message: "${{ while.iteration | plus: 1 }}" } }
      - { name: skip, type: loop.continue }
      - { name: never, type: console, with: { message: never } }
`,
		status: interpreter.StatusCompleted,
		check: func(t *testing.T, r *runResult) {
			if n := len(r.records("w/while[2]/b")); n != 1 || r.ran("w/while[3]/b") {
				t.Errorf("records %+v", r.state.Steps)
			}
			if r.ran("w/while[0]/never") {
				t.Errorf("never ran")
			}
			if got := statusOf(r, "w/while[0]/skip"); !reflect.DeepEqual(got, []string{"completed"}) {
				t.Errorf("skip records %v", got)
			}
		},
	}, {
		name: "loop.break inside an if inside a foreach (§6.1.5)",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: "[1,2,3]"
    steps:
      - name: gate
        type: if
        condition: "${{ foreach.item == 2 }}"
        steps: [ { name: stop, type: loop.break } ]
      - { name: log, type: test.echo, with: { v: "${{ foreach.item }}" } }
  - name: after
    type: console
    with: { message: "{{ steps.loop.index }}" }
`,
		status:  interpreter.StatusCompleted,
		calls:   map[string]int{"test.echo": 1},
		outputs: map[string]any{"after": "1"},
	}, {
		name: "switch on a boolean, no match leaves matchedValue undefined (§6.1.4)",
		def: `
steps:
  - name: route
    type: switch
    expression: "${{ inputs.flag }}"
    cases:
      - { match: true, steps: [ { name: a, type: console, with: { message: a } } ] }
  - name: after
    type: console
    with: { message: "[{{ steps.route.matchedValue }}]{{ steps.route.matchedIndex }}" }
`,
		inputs:  map[string]any{"flag": false},
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"after": "[]-1"},
		check: func(t *testing.T, r *runResult) {
			if r.ran("route/a") {
				t.Errorf("route/a ran")
			}
		},
	}, {
		name: "iteration-on-failure continue keeps the loop going",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: '["404","ok"]'
    iteration-on-failure: { continue: true }
    steps:
      - { name: fetch, type: http, with: { url: "http://h/{{ foreach.item }}" } }
  - name: after
    type: console
    with: { message: "{{ steps.fetch.output.status }}|{{ steps.fetch.error.message }}" }
`,
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"after": "200|"},
	}})
}

// TestAuditMisc checks §6.1.7, §6.1.11, §7.4 (latest attempt) and §7.6
// (enclosing scopes on a workflow timeout).
func TestAuditMisc(t *testing.T) {
	runAudit(t, []auditCase{{
		name: "wait with an invalid rendered duration (§6.1.7)",
		def: `
steps:
  - name: pause
    type: wait
    with: { duration: "{{ inputs.d }}" }
`,
		inputs: map[string]any{"d": "1m2h"},
		status: interpreter.StatusFailed,
		errMsg: `Invalid duration format: 1m2h. Use format like "1w2d3h4m5s6ms" with units in descending order.`,
	}, {
		name: "workflow timeout fails every enclosing scope (§7.6)",
		def: `
settings: { timeout: 2s }
steps:
  - name: loop
    type: foreach
    foreach: "[1,2]"
    steps:
      - name: gate
        type: if
        condition: "${{ true }}"
        steps:
          - { name: nap, type: wait, with: { duration: 10s } }
`,
		status: interpreter.StatusTimedOut,
		check: func(t *testing.T, r *runResult) {
			for _, p := range []string{"loop", "loop/foreach[0]/gate", "loop/foreach[0]/gate/nap"} {
				recs := r.records(p)
				if len(recs) != 1 || recs[0].Status != interpreter.StatusFailed || recs[0].Error == nil ||
					recs[0].Error.Message != "Failed due to workflow timeout" {
					t.Errorf("%s records %+v", p, recs)
				}
			}
		},
	}, {
		name: "workflow.fail closes enclosing steps failed (§6.1.11)",
		def: `
steps:
  - name: loop
    type: foreach
    foreach: "[1,2]"
    steps:
      - { name: stop, type: workflow.fail, with: { message: "nope" } }
  - { name: after, type: console, with: { message: x } }
`,
		status: interpreter.StatusFailed,
		errMsg: "nope",
		check: func(t *testing.T, r *runResult) {
			if got := statusOf(r, "loop"); !reflect.DeepEqual(got, []string{"failed"}) {
				t.Errorf("loop records %v", got)
			}
			if r.ran("after") || r.ran("loop/foreach[1]/stop") {
				t.Errorf("ran after the failure: %+v", r.state.Steps)
			}
		},
	}, {
		name: "workflow.output cancelled: step completed, run cancelled (§6.1.11)",
		def: `
steps:
  - name: gate
    type: if
    condition: "${{ true }}"
    steps:
      - { name: done, type: workflow.output, status: cancelled, with: { n: "{{ inputs.n }}" } }
  - { name: after, type: console, with: { message: x } }
`,
		inputs: map[string]any{"n": 4.0},
		status: interpreter.StatusCancelled,
		check: func(t *testing.T, r *runResult) {
			if got := statusOf(r, "gate/done"); !reflect.DeepEqual(got, []string{"completed"}) {
				t.Errorf("done records %v", got)
			}
			if got := statusOf(r, "gate"); !reflect.DeepEqual(got, []string{"completed"}) {
				t.Errorf("gate records %v", got)
			}
			if r.ran("after") {
				t.Errorf("after ran")
			}
			if res := r.result(); res == nil || !reflect.DeepEqual(res.Output, map[string]any{"n": 4.0}) {
				t.Errorf("result %+v", res)
			}
		},
	}})
}

// TestAuditRetryLatest checks that steps.<name> is the latest attempt
// after a successful retry (§3, §7.4).
func TestAuditRetryLatest(t *testing.T) {
	f := &fakes{failUntil: map[string]int{"s": 1}}
	r := runDef(t, `
steps:
  - name: s
    type: test.flaky
    on-failure: { retry: { max-attempts: 2 } }
  - name: after
    type: console
    with: { message: "[{{ steps.s.error }}] {{ steps.s.output.attempt }}" }
`, runOpts{fakes: f})
	if r.output("after") != "[] 2" {
		t.Errorf("after %v", r.output("after"))
	}
	if got := statusOf(r, "s"); !reflect.DeepEqual(got, []string{"failed", "completed"}) {
		t.Errorf("records %v", got)
	}
}

// TestAuditVariablesFromCompletedOnly checks that `variables` merges only
// completed data.set executions (§6.3.1): one that fails its
// max-step-size check (§7.7) contributes nothing.
func TestAuditVariablesFromCompletedOnly(t *testing.T) {
	r := runDef(t, `
steps:
  - name: ok
    type: data.set
    with: { a: 1 }
  - name: big
    type: data.set
    max-step-size: 20b
    with: { a: 2, b: "a value well over twenty bytes" }
    on-failure: { continue: true }
  - name: out
    type: console
    with: { message: "${{ variables }}" }
`, runOpts{})
	if got := statusOf(r, "big"); !reflect.DeepEqual(got, []string{"failed"}) {
		t.Fatalf("big records %v", got)
	}
	if got := r.output("out"); !reflect.DeepEqual(got, map[string]any{"a": 1.0}) {
		t.Errorf("variables %v", jsonOf(got))
	}
}

// TestAuditSyntheticNames checks the names Kibana's graph gives synthetic
// steps (§2.1, §6.1.2) and the visibility of fallback steps (§3, §7.4).
func TestAuditSyntheticNames(t *testing.T) {
	runAudit(t, []auditCase{{
		name: "step-level foreach state under foreach_<name>",
		def: `
steps:
  - name: log
    type: console
    foreach: '["x","y"]'
    with: { message: "{{ steps.foreach_log.index }}{{ foreach.item }}" }
  - name: after
    type: console
    with: { message: "{{ steps.foreach_log.total }} {{ steps.foreach_log.item }} {{ steps.log.output }}" }
`,
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"after": "2 y 1y"},
	}, {
		name: "fallback steps are visible to later steps",
		def: `
steps:
  - name: fetch
    type: http
    with: { url: "http://h/404" }
    on-failure:
      fallback: [ { name: fb, type: console, with: { message: "fb" } } ]
      continue: true
  - name: after
    type: console
    with: { message: "{{ steps.fb.output }} {{ steps.fetch.error.type }} [{{ error.type }}]" }
`,
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"after": "fb HttpRequestError []"},
	}})
}

// TestAuditErrorVariable checks the `error` variable (§4.6, §7.2): a KQL
// retry condition reads it, fallbacks see its details, and it is absent
// outside fallback paths.
func TestAuditErrorVariable(t *testing.T) {
	runAudit(t, []auditCase{{
		name: "KQL retry condition on error.type",
		def: `
steps:
  - name: fetch
    type: http
    with: { url: "http://h/404" }
    on-failure:
      retry: { max-attempts: 1, condition: "error.type: HttpRequestError and error.details.status >= 400" }
`,
		status: interpreter.StatusFailed,
		calls:  map[string]int{"http": 2},
	}, {
		name: "fallback sees error.details; error absent elsewhere",
		def: `
steps:
  - name: before
    type: console
    with: { message: "[{{ error }}]" }
  - name: fetch
    type: http
    with: { url: "http://h/404" }
    on-failure:
      fallback: [ { name: fb, type: console, with: { message: "{{ error.details.status }} {{ error.details.statusText }}" } } ]
      continue: true
`,
		status:  interpreter.StatusCompleted,
		outputs: map[string]any{"before": "[]", "fb": "404 Not Found"},
	}})
}
