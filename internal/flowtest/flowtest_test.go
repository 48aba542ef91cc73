package flowtest

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown top-level key", "workflow: x.yaml\ncasez: []\ncases:\n  - name: a\n",
			[]string{`t.test.yaml:2:1: unknown key "casez" in the test file`}},
		{"unknown case key", "workflow: x.yaml\ncases:\n  - name: a\n    expekt: {}\n",
			[]string{`t.test.yaml:4:5: unknown key "expekt" in a case`}},
		{"unknown expect key", "workflow: x.yaml\ncases:\n  - name: a\n    expect:\n      ran: [a]\n      not_run: [b]\n",
			[]string{`t.test.yaml:6:7: unknown key "not_run" in expect`}},
		{"unknown mock entry key", "workflow: x.yaml\ncases:\n  - name: a\n    mocks:\n      s:\n        outptu: {}\n",
			[]string{`t.test.yaml:6:9: unknown key "outptu" in mocks.s`}},
		{"bad status", "workflow: x.yaml\ncases:\n  - name: a\n    expect: { status: done }\n",
			[]string{`t.test.yaml:4:23: unknown status "done"`}},
		{"bad regexp", "workflow: x.yaml\ncases:\n  - name: a\n    expect:\n      output: { x: { matches: \"(\" } }\n",
			[]string{`t.test.yaml:5:31: expect.output.x.matches: invalid regular expression`}},
		{"bad calls", "workflow: x.yaml\ncases:\n  - name: a\n    expect: { calls: { s: many } }\n",
			[]string{`t.test.yaml:4:27: expect.calls.s must be a number`}},
		{"bad now", "workflow: x.yaml\ncases:\n  - name: a\n    now: yesterday\n",
			[]string{`t.test.yaml:4:10: now must be an RFC 3339 time`}},
		{"duplicate case", "workflow: x.yaml\ncases:\n  - name: a\n  - name: a\n",
			[]string{`t.test.yaml:4:5: duplicate case name "a"`}},
		{"event and inputs", "workflow: x.yaml\ncases:\n  - name: a\n    event: {}\n    inputs: {}\n",
			[]string{`t.test.yaml:3:5: case "a": give event (alert run) or inputs (manual run), not both`}},
		{"missing workflow and cases", "description: x\n",
			[]string{`t.test.yaml:1:1: missing workflow`, `t.test.yaml:1:1: missing cases`}},
		{"engine key", "workflow: x.yaml\nengine: { transient_retry: true }\ncases:\n  - name: a\n",
			[]string{`t.test.yaml:2:11: unknown key "transient_retry" in engine`}},
		{"trigger not an event trigger id", "workflow: x.yaml\ncases:\n  - name: a\n    trigger: alert\n    event: {}\n",
			[]string{`t.test.yaml:4:14: trigger "alert" is not an event trigger id such as cases.caseCreated`}},
		{"trigger and inputs", "workflow: x.yaml\ncases:\n  - name: a\n    trigger: cases.caseCreated\n    inputs: {}\n",
			[]string{`t.test.yaml:3:5: case "a": a trigger case runs on its event`}},
		{"triggered without trigger", "workflow: x.yaml\ncases:\n  - name: a\n    event: {}\n    expect: { triggered: false }\n",
			[]string{`t.test.yaml:3:5: case "a": expect.triggered needs trigger`}},
		{"triggered false with other expectations", "workflow: x.yaml\ncases:\n  - name: a\n    trigger: cases.caseCreated\n    expect: { triggered: false, ran: [x] }\n",
			[]string{`t.test.yaml:3:5: case "a": with expect.triggered: false nothing runs`}},
		{"output and error", "workflow: x.yaml\ncases:\n  - name: a\n    mocks:\n      s: { output: 1, error: { type: E } }\n",
			[]string{`t.test.yaml:5:10: mocks.s: an entry has output or error, not both`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.test.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d:\n got %s\nwant prefix %s", i, lines[i], w)
				}
			}
		})
	}
}

func TestParseModel(t *testing.T) {
	src := `
workflow: wf.yaml
engine: { transient-retry: true }
mocks:
  base: &m { output: { ok: true } }
cases:
  - name: c1
    event: { alerts: [ { n: 1 } ] }
    now: "2026-01-15T10:00:00Z"
    mocks:
      s1: *m
      s2:
        - output: 1
        - error: { type: HttpRequestError, message: "Request failed with status code 503" }
      base: null
    expect:
      ran: [a, b]
      calls: { a: 2 }
      steps:
        a: { input: { x: { exists: true } }, status: completed }
`
	f, err := Parse("t.test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Workflow != "wf.yaml" || !f.Engine.TransientRetry || f.Engine.OperatorRecovery {
		t.Errorf("file %+v", f)
	}
	c := f.Cases[0]
	if c.Now.Format("15:04") != "10:00" || c.Event["alerts"].([]any)[0].(map[string]any)["n"] != 1.0 {
		t.Errorf("case %+v", c)
	}
	if m := c.Mocks["s1"]; !m.Repeat || len(m.Entries) != 1 {
		t.Errorf("s1 %+v", m)
	}
	s2 := c.Mocks["s2"]
	if s2.Repeat || len(s2.Entries) != 2 || s2.Entries[0].Output != 1.0 || s2.Entries[1].Error.Type != "HttpRequestError" {
		t.Errorf("s2 %+v", s2)
	}
	if !s2.Entries[1].Error.stepError().Retryable {
		t.Error("a 503 mock error should be transient")
	}
	if !c.Mocks["base"].Unset {
		t.Error("base: null should unset the file mock")
	}
	if len(c.Expect.Ran) != 2 || c.Expect.Calls[0].N != 2 || c.Expect.Steps[0].Status != "completed" {
		t.Errorf("expect %+v", c.Expect)
	}
	if _, ok := c.Expect.Steps[0].Input.(map[string]any)["x"].(*matcher); !ok {
		t.Error("exists is not parsed as a matcher")
	}
}

func TestMatch(t *testing.T) {
	re := regexp.MustCompile(`^a\d+$`)
	tests := []struct {
		name    string
		want    any
		got     any
		present bool
		fails   []string
	}{
		{"subset map", map[string]any{"a": 1.0}, map[string]any{"a": 1, "b": 2.0}, true, nil},
		{"missing key", map[string]any{"c": 1.0}, map[string]any{"a": 1.0}, true, []string{`f.c: expected 1, got nothing (absent)`}},
		{"scalar differs", map[string]any{"a": "x"}, map[string]any{"a": "y"}, true, []string{`f.a: expected "x", got "y"`}},
		{"list length", []any{1.0}, []any{1.0, 2.0}, true, []string{`f: expected 1 element(s) [1], got 2 element(s) [1,2]`}},
		{"list elements subset", []any{map[string]any{"a": 1.0}}, []any{map[string]any{"a": 1.0, "b": 1.0}}, true, nil},
		{"contains string", &matcher{kind: "contains", arg: "case-1"}, "see case-1 now", true, nil},
		{"contains string fails", &matcher{kind: "contains", arg: "case-9"}, "see case-1", true, []string{`f: expected contains "case-9", got "see case-1"`}},
		{"contains list element", &matcher{kind: "contains", arg: map[string]any{"id": 2.0}}, []any{map[string]any{"id": 1.0}, map[string]any{"id": 2.0, "x": 1.0}}, true, nil},
		{"contains absent", &matcher{kind: "contains", arg: "x"}, nil, false, []string{`f: expected contains "x", got nothing (absent)`}},
		{"matches number", &matcher{kind: "matches", arg: `^a\d+$`, re: re}, "a12", true, nil},
		{"matches fails", &matcher{kind: "matches", arg: `^a\d+$`, re: re}, "b12", true, []string{`f: expected matches /^a\d+$/, got "b12"`}},
		{"exists", &matcher{kind: "exists", arg: true}, nil, true, nil},
		{"exists fails", &matcher{kind: "exists", arg: true}, nil, false, []string{`f: expected exists, got nothing (absent)`}},
		{"absent fails", &matcher{kind: "exists", arg: false}, 3.0, true, []string{`f: expected absent, got 3`}},
		{"equals is exact", &matcher{kind: "equals", arg: map[string]any{"a": 1.0}}, map[string]any{"a": 1.0, "b": 1.0}, true, []string{`f: expected equals {"a":1}, got {"a":1,"b":1}`}},
		{"equals ok", &matcher{kind: "equals", arg: map[string]any{"a": 1.0}}, map[string]any{"a": 1}, true, nil},
		{"type mismatch", map[string]any{"a": 1.0}, "str", true, []string{`f: expected an object {"a":1}, got "str"`}},
		{"numbers print like JS", 0.30000000000000004, 1e21, true, []string{`f: expected 0.30000000000000004, got 1e+21`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range match("f", tt.want, tt.got, tt.present) {
				got = append(got, f.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.fails, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.fails, "\n"))
			}
		})
	}
}

// workflowDir copies the definition testdata/<name> into a fresh temporary
// directory, where a test writes the test files that name it, and returns
// the directory.
func workflowDir(tb testing.TB, name string) string {
	tb.Helper()
	dir := tb.TempDir()
	def, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	writeFile(tb, dir, name, string(def))
	return dir
}

// writeFile writes src to dir/name and returns the file's path.
func writeFile(tb testing.TB, dir, name, src string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// runText runs test files and returns the text report.
func runText(t *testing.T, opts Options, paths ...string) (string, Summary) {
	t.Helper()
	r := New(opts)
	defer r.Close()
	var b bytes.Buffer
	s := WriteText(&b, r.RunFiles(paths))
	return b.String(), s
}

func TestPassingFiles(t *testing.T) {
	out, s := runText(t, Options{}, "testdata/basic.test.yaml", "testdata/timeout.test.yaml", "testdata/hitl.test.yaml", "testdata/fallback.test.yaml")
	if !s.OK() || s.Cases != 11 {
		t.Fatalf("summary %+v\n%s", s, out)
	}
}

// TestWrongExpectations checks the diff of deliberately wrong
// expectations: each line names the step, the field path, the expected
// and the actual value.
func TestWrongExpectations(t *testing.T) {
	out, s := runText(t, Options{}, "testdata/wrong.test.yaml")
	if s.OK() || s.Failed != 2 {
		t.Fatalf("summary %+v", s)
	}
	for _, want := range []string{
		`FAIL  testdata/wrong.test.yaml: wrong expectations (`,
		`      status: expected failed, got completed`,
		`      step "open_case" ran: expected to run after "notify", but it ran only before it (steps that ran, in order: lookup, verdict, open_case, notify, each_ip, cool_down, done)`,
		`      step "lookup" not_ran: expected not to run, but it ran 1 time`,
		`      step "notify" calls: expected 2 times, got 1 time`,
		`      step "notify" input.message: expected contains "case-9", got "Malware abc123: case case-1"`,
		`      step "open_case" input.tags: expected 2 element(s) ["secflow","extra"], got 1 element(s) ["secflow"]`,
		`      step "open_case" input.title: expected "Malware detected: zzz", got "Malware detected: abc123"`,
		`      step "open_case" output.case.version: expected "v1", got nothing (absent)`,
		`FAIL  testdata/wrong.test.yaml: unmocked step (`,
		`      step "notify" (type slack) has no mock`,
		`FAIL: 0 passed, 2 failed (2 cases in 1 file, `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks\n%s\n--- output\n%s", want, out)
		}
	}
}

func TestRunFilter(t *testing.T) {
	out, s := runText(t, Options{Filter: regexp.MustCompile("clean")}, "testdata/basic.test.yaml")
	if s.Cases != 1 || !strings.Contains(out, "clean hash closes") {
		t.Fatalf("filter selected %d cases:\n%s", s.Cases, out)
	}
}

func TestJUnit(t *testing.T) {
	r := New(Options{})
	var b bytes.Buffer
	s, err := WriteJUnit(&b, r.RunFiles([]string{"testdata/wrong.test.yaml", "testdata/timeout.test.yaml"}))
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 3 || doc.Failures != 2 || len(doc.Suites) != 2 || s.Failed != 2 {
		t.Fatalf("junit %+v", doc)
	}
	f := doc.Suites[0].Cases[1].Failure
	if f == nil || !strings.Contains(f.Text, `step "notify" (type slack) has no mock`) {
		t.Errorf("failure %+v", f)
	}
}

// TestFileErrors checks that a test file naming an unknown step or mocking
// a pure step is rejected with the position of the mistake.
func TestFileErrors(t *testing.T) {
	dir := workflowDir(t, "basic.yaml")
	tests := []struct{ name, src, want string }{
		{"typo in expect", "workflow: basic\ncases:\n  - name: a\n    expect: { ran: [open_cas] }\n",
			`bad.test.yaml:4:21: expect.ran: the workflow has no step "open_cas" (did you mean "open_case"?)`},
		{"mock of a pure step", "workflow: basic.yaml\ncases:\n  - name: a\n    mocks: { close_fp: { output: x } }\n",
			`bad.test.yaml:4:14: mocks: step "close_fp" (type console) always runs for real and cannot be mocked`},
		{"missing workflow", "workflow: nope.yaml\ncases:\n  - name: a\n",
			`bad.test.yaml:1:11: workflow "nope.yaml": no such file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, "bad.test.yaml", tt.src)
			res := New(Options{}).RunFile(p)
			if res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) {
				t.Errorf("error %v\nwant %s", res.Err, tt.want)
			}
		})
	}
}

// TestSandbox answers the unmocked slack step from the sandbox fake.
func TestSandbox(t *testing.T) {
	dir := workflowDir(t, "basic.yaml")
	src := `workflow: basic.yaml
cases:
  - name: slack answered by the sandbox
    inputs: { hash: abc123 }
    mocks:
      lookup: { output: { data: { malicious: 9 } } }
      open_case: { output: { case: { id: case-7 } } }
    expect:
      ran: [notify]
      steps:
        notify: { input: { message: "Malware abc123: case case-7" }, output: { exists: true } }
`
	p := writeFile(t, dir, "sb.test.yaml", src)
	r := New(Options{Sandbox: true})
	defer r.Close()
	res := r.RunFile(p)
	if !res.Passed() {
		var b bytes.Buffer
		WriteText(&b, []*FileResult{res})
		t.Fatal(b.String())
	}
	got := r.sb.sb.ReceivedBy("slack")
	if len(got) != 1 || !strings.Contains(got[0].Body, "case-7") {
		t.Errorf("slack fake received %+v", got)
	}
}

func TestStepName(t *testing.T) {
	for path, want := range map[string]string{
		"a":                         "a",
		"loop/foreach[0]/enrich":    "enrich",
		"x/foreach[3]":              "x",
		"w/while[2]/y":              "y",
		"t/fallback/triage_unavail": "triage_unavail",
	} {
		if got := stepName(path); got != want {
			t.Errorf("stepName(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestMockExhausted checks that running past the end of a mock list fails
// the case with the mock's position.
func TestMockExhausted(t *testing.T) {
	dir := workflowDir(t, "basic.yaml")
	src := `workflow: basic.yaml
cases:
  - name: three iterations, two answers
    inputs: { hash: h, ips: [a, b, c] }
    mocks:
      lookup: { output: { data: { malicious: 0 } } }
      reputation:
        - output: 1
        - output: 2
`
	p := writeFile(t, dir, "x.test.yaml", src)
	res := New(Options{}).RunFile(p)
	if res.Err != nil || len(res.Cases) != 1 {
		t.Fatalf("result %+v", res)
	}
	got := res.Cases[0].Failures
	want := `step "reputation" mocks: called 3 times, but the mock at ` + p + `:7:7 lists 2 answer(s)`
	if len(got) == 0 || got[0].String() != want {
		t.Errorf("failures %v\nwant first %s", got, want)
	}
	if res.Cases[0].Status != "failed" {
		t.Errorf("status %s", res.Cases[0].Status)
	}
}

// TestUnobservedExecutions checks that a pure loop longer than the state
// query's record bound is reported instead of miscounted.
func TestUnobservedExecutions(t *testing.T) {
	dir := workflowDir(t, "fallback.yaml")
	n := make([]string, 250)
	for i := range n {
		n[i] = "1"
	}
	src := "workflow: fallback.yaml\nmocks:\n  each: { output: 1 }\n  alert_ops: { output: 1 }\n  boom: { output: 1 }\n" +
		"cases:\n  - name: long loop\n    inputs: { n: [" + strings.Join(n, ",") + "] }\n    expect:\n      calls: { tick: 250 }\n"
	p := writeFile(t, dir, "x.test.yaml", src)
	res := New(Options{}).RunFile(p)
	if res.Err != nil || len(res.Cases) != 1 {
		t.Fatalf("result %+v", res)
	}
	fs := res.Cases[0].Failures
	if len(fs) == 0 || !strings.Contains(fs[0].String(), "could not be observed") {
		t.Errorf("failures %v", fs)
	}
}

// TestEventTrigger runs cases that simulate an event trigger: the run gets
// the event the starter builds (payload, timestamp, spaceId) and
// execution.triggeredBy is the trigger id; on.condition decides whether a
// run starts (expect.triggered).
func TestEventTrigger(t *testing.T) {
	out, s := runText(t, Options{}, "testdata/event.test.yaml")
	if !s.OK() || s.Cases != 3 {
		t.Fatalf("summary %+v\n%s", s, out)
	}
}

// TestEventTriggerMismatch checks the failures of trigger cases: an
// unknown trigger type is a file error, and a condition that does not
// decide as expected fails the case without running it.
func TestEventTriggerMismatch(t *testing.T) {
	dir := workflowDir(t, "event.yaml")
	tests := []struct {
		name, src string
		fileErr   string // expected FileResult.Err
		failure   string // expected failure of the only case
	}{
		{"no such trigger", "workflow: event.yaml\ncases:\n  - name: a\n    trigger: cases.caseUpdated\n",
			`x.test.yaml:4:14: trigger: the workflow has no trigger of type "cases.caseUpdated" (its triggers: cases.caseCreated, manual)`, ""},
		{"condition does not match", "workflow: event.yaml\ncases:\n  - name: a\n    trigger: cases.caseCreated\n    event: { case: { id: c, severity: high } }\n",
			"", `triggered: expected the cases.caseCreated event to start a run, but on.condition "event.case.severity: \"critical\"" does not match it: the starter starts no run`},
		{"condition matches unexpectedly", "workflow: event.yaml\ncases:\n  - name: a\n    trigger: cases.caseCreated\n    event: { case: { id: c, severity: critical } }\n    expect: { triggered: false }\n",
			"", `triggered: expected the cases.caseCreated event to start no run, but on.condition "event.case.severity: \"critical\"" matches it`},
		{"event the starter refuses", "workflow: event.yaml\ncases:\n  - name: a\n    trigger: cases.caseCreated\n    event: { timestamp: yesterday }\n",
			"", `event: the starter refuses this cases.caseCreated event: timestamp "yesterday" is not an ISO-8601 date-time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, "x.test.yaml", tt.src)
			res := New(Options{}).RunFile(p)
			if tt.fileErr != "" {
				if res.Err == nil || !strings.Contains(res.Err.Error(), tt.fileErr) {
					t.Errorf("error %v\nwant %s", res.Err, tt.fileErr)
				}
				return
			}
			if res.Err != nil || len(res.Cases) != 1 {
				t.Fatalf("result %+v", res)
			}
			c := res.Cases[0]
			if len(c.Failures) != 1 || !strings.HasPrefix(c.Failures[0].String(), tt.failure) {
				t.Errorf("failures %v\nwant %s", c.Failures, tt.failure)
			}
			if c.Status != "" {
				t.Errorf("the case ran (status %s)", c.Status)
			}
		})
	}
}
