package interpreter

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestLoadFullModel(t *testing.T) {
	const file = "testdata/valid/full.yaml"
	def, probs := loadTest(t, file)
	if len(probs) > 0 {
		t.Fatalf("problems:\n%s", probs)
	}
	data, _ := os.ReadFile(file)
	sum := sha256.Sum256(data)
	checks := []struct {
		name      string
		got, want any
	}{
		{"ID", def.ID, "full"},
		{"Revision", def.Revision, hex.EncodeToString(sum[:])},
		{"File", def.File, file},
		{"Version", def.Version, "1"},
		{"Name", def.Name, "Full featured"},
		{"Enabled", def.Enabled, false},
		{"Tags", def.Tags, []string{"test", "full"}},
		{"trigger count", len(def.Triggers), 5},
		{"trigger 0 type", def.Triggers[0].Type, "manual"},
		{"trigger 0 pos", def.Triggers[0].Pos, Pos{File: file, Line: 7, Col: 5}},
		{"every", def.Triggers[1].With["every"], "15m"},
		{"rrule", def.Triggers[2].With["rrule"], map[string]any{
			"freq": "WEEKLY", "interval": 1.0, "tzid": "Europe/Paris", "dtstart": "2026-01-05T09:00:00Z",
			"byhour": []any{9.0}, "byminute": []any{0.0}, "byweekday": []any{"MO", "WE"}, "bymonthday": []any{1.0, 15.0}}},
		{"alert with", def.Triggers[3].With, map[string]any{"rule_id": "abc"}},
		{"alert condition", def.Triggers[3].Condition, `event.rule.name: "High severity"`},
		{"custom trigger", def.Triggers[4].Type, "cases.caseCreated"},
		{"custom condition", def.Triggers[4].Condition, "event.case.severity: critical"},
		{"custom workflowEvents", def.Triggers[4].With["workflowEvents"], "avoid-loop"},
		{"consts", def.Consts, map[string]any{"threshold": 10.0, "ratio": 0.5, "names": []any{"a", "b"},
			"nested": map[string]any{"k": "v"}}},
		{"inputs declared", def.Inputs != nil, true},
		{"outputs declared", def.Outputs != nil, true},
		{"settings.timeout", def.Settings.Timeout, "10m"},
		{"settings.max-step-size", def.Settings.MaxStepSize, "20mb"},
		{"settings.timezone", def.Settings.Timezone, "Europe/Paris"},
		{"settings.operator-timeout", def.Settings.OperatorTimeout, "0"},
		{"settings.liquid", *def.Settings.Liquid, LiquidLimits{ParseLimit: 1000, RenderLimit: 500, MemoryLimit: 100000}},
		{"settings.concurrency", def.Settings.Concurrency, map[string]any{"key": "{{ inputs.ip }}", "max": 1.0,
			"strategy": "queue", "queue-size": 10.0, "queue-ttl": "1h"}},
		{"settings.retry", *def.Settings.OnFailure.Retry, Retry{MaxAttempts: 2, Delay: "5s", Strategy: "exponential",
			Multiplier: 2, MaxDelay: "1m", Jitter: true}},
		{"settings.fallback", def.Settings.OnFailure.Fallback[0].Name, "wl_notify"},
		{"step count", len(def.Steps), 24},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	byName := map[string]*Step{}
	var index func([]*Step)
	index = func(list []*Step) {
		for _, s := range list {
			byName[s.Name] = s
			index(s.Steps)
			index(s.Else)
			index(s.Default)
			for _, c := range s.Cases {
				index(c.Steps)
			}
			for _, b := range s.Branches {
				index(b.Steps)
			}
			if s.OnFailure != nil {
				index(s.OnFailure.Fallback)
			}
		}
	}
	index(def.Steps)
	st := func(name string) *Step {
		s, ok := byName[name]
		if !ok {
			t.Fatalf("no step %q", name)
		}
		return s
	}
	lookup := st("lookup")
	loop := st("loop")
	route := st("route")
	steps := []struct {
		name      string
		got, want any
	}{
		{"init pos", st("init").Pos, Pos{File: file, Line: 71, Col: 5}},
		{"init with", st("init").With, map[string]any{"total": 0.0, "host": "{{ inputs.ip }}"}},
		{"lookup connector", lookup.ConnectorID, "my-http"},
		{"lookup timeout", lookup.Timeout, "30s"},
		{"lookup max-step-size", lookup.MaxStepSize, "1mb"},
		{"lookup retry", lookup.OnFailure.Retry.MaxAttempts, 3},
		{"lookup retry condition", lookup.OnFailure.Retry.Condition, "${{ error.type == 'HttpRequestError' }}"},
		{"lookup continue", lookup.OnFailure.Continue, "steps.init.output.total >= 0"},
		{"lookup fallback", lookup.OnFailure.Fallback[0].Name, "lookup_failed"},
		{"gate condition", st("gate").Condition, "steps.lookup.output.status >= 200 and inputs.severity: high"},
		{"gate then", len(st("gate").Steps), 2},
		{"gate else", st("gate").Else[0].Name, "low"},
		{"high if", st("high").If, "inputs.severity: high"},
		{"loop foreach", loop.Foreach, "{{ consts.names }}"},
		{"loop max-iterations", *loop.MaxIterations, MaxIterations{Limit: 5, OnLimit: "continue"}},
		{"loop iteration-timeout", loop.IterationTimeout, "1m"},
		{"loop iteration-on-failure", loop.IterationOnFailure.Continue, true},
		{"route expression", route.Expression, "{{ foreach.item }}"},
		{"route cases", route.Cases[0].Match, "a"},
		{"route numeric case", route.Cases[1].Match, 200.0},
		{"route default", route.Default[0].Name, "case_default"},
		{"poll max-iterations", *st("poll").MaxIterations, MaxIterations{Limit: 3}},
		{"wait with", st("poll_wait").With, map[string]any{"duration": "1h30m"}},
		{"fan mode", st("fan").Mode, "settled"},
		{"fan branches", st("fan").Branches[1].Name, "two"},
		{"fan_out concurrency", st("fan_out").Concurrency, map[string]any{"max": 2.0, "count-waiting": true}},
		{"fan_out branch-timeout", st("fan_out").BranchTimeout, "30s"},
		{"approve timeout", st("approve").Timeout, "4h"},
		{"mapped items", st("mapped").Config, map[string]any{"items": "${{ consts.names }}"}},
		{"parsed source", st("parsed").Config["source"], `{"a": 1}`},
		{"deduped config", st("deduped").Config, map[string]any{"items": "${{ steps.mapped.output }}", "strategy": "keep_last"}},
		{"joined arrays", st("joined").Config["arrays"], []any{"${{ consts.names }}", []any{"c"}}},
		{"extracted config", st("extracted").Config["errorIfNoMatch"], true},
		{"done status", st("done").Status, "completed"},
		{"never if", st("never").If, false},
	}
	for _, c := range steps {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// TestDefinitionJSONRoundTrip: the pinned definition survives a JSON
// round-trip without changing any value's type (numbers are float64).
func TestDefinitionJSONRoundTrip(t *testing.T) {
	def, probs := loadTest(t, "testdata/valid/full.yaml")
	if probs.Err() != nil {
		t.Fatal(probs)
	}
	b, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	var back Definition
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(def.Consts, back.Consts) {
		t.Errorf("consts changed: %#v -> %#v", def.Consts, back.Consts)
	}
	for i := range def.Steps {
		if !reflect.DeepEqual(def.Steps[i].With, back.Steps[i].With) || !reflect.DeepEqual(def.Steps[i].Config, back.Steps[i].Config) {
			t.Errorf("step %s changed: %#v -> %#v", def.Steps[i].Name, def.Steps[i].With, back.Steps[i].With)
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	def, probs := LoadBytes("dir/My-Flow.yml", []byte("name: x\ntriggers: [{type: manual}]\nsteps: [{name: a, type: console}]\n"), LoadOptions{})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if def.ID != "My-Flow" || !def.Enabled || def.Version != "1" || def.Inputs != nil {
		t.Errorf("defaults: %+v", def)
	}
}

func TestLoadInputsPrecedence(t *testing.T) {
	// Top-level legacy inputs apply when the manual trigger declares none.
	def, probs := loadTest(t, "testdata/valid/legacy_inputs.yaml")
	if len(probs) > 0 || def.Inputs == nil {
		t.Fatalf("legacy inputs: %v %v", def.Inputs, probs)
	}
	// Both: the trigger's inputs win and the top-level ones are flagged.
	src := `name: x
inputs: [{name: top, type: string}]
triggers:
  - type: manual
    inputs: [{name: trig, type: string}]
steps: [{name: a, type: console}]
`
	_, probs = LoadBytes("x.yaml", []byte(src), LoadOptions{Registry: testRegistry()})
	if len(probs) != 1 || probs[0].Severity != SeverityWarning || probs[0].Line != 2 {
		t.Errorf("want one warning on line 2, got %v", probs)
	}
}

func TestLoadInstallPlaceholders(t *testing.T) {
	data, err := os.ReadFile("testdata/invalid/install.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def, probs := LoadBytes("install.yaml", data, LoadOptions{Registry: testRegistry(),
		Install: map[string]string{"max-age": "7", "suffix": "prod"}})
	if len(probs) > 0 {
		t.Fatalf("problems: %s", probs)
	}
	want := map[string]any{"maxAge": 7.0, "index": "logs-prod-*"}
	if !reflect.DeepEqual(def.Steps[0].With, want) {
		t.Errorf("with = %#v, want %#v", def.Steps[0].With, want)
	}
	// Only one value given: the other placeholder is still reported.
	_, probs = LoadBytes("install.yaml", data, LoadOptions{Registry: testRegistry(), Install: map[string]string{"max-age": "7"}})
	if len(probs) != 1 || probs[0].Code != CodeNotInstalled || !strings.Contains(probs[0].Msg, "suffix") {
		t.Errorf("got %v", probs)
	}
}

func TestLoadYAMLFeatures(t *testing.T) {
	src := `name: anchors
triggers: [{type: manual}]
consts:
  base: &base { a: 1, b: two }
  merged:
    <<: *base
    b: three
  when: 2026-01-05T09:00:00Z
  big: 12345678901234567890
  hex: 0x1F
steps:
  - &s { name: a, type: console, with: { message: *base } }
`
	def, probs := LoadBytes("x.yaml", []byte(src), LoadOptions{Registry: testRegistry()})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	want := map[string]any{
		"base":   map[string]any{"a": 1.0, "b": "two"},
		"merged": map[string]any{"a": 1.0, "b": "three"},
		"when":   "2026-01-05T09:00:00Z",
		"big":    12345678901234567890.0,
		"hex":    31.0,
	}
	if !reflect.DeepEqual(def.Consts, want) {
		t.Errorf("consts = %#v\nwant %#v", def.Consts, want)
	}
	if !reflect.DeepEqual(def.Steps[0].With, map[string]any{"message": map[string]any{"a": 1.0, "b": "two"}}) {
		t.Errorf("alias in with: %#v", def.Steps[0].With)
	}
}

func TestLoadRejects(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"empty", "", "x.yaml: empty definition"},
		{"only comment", "# nothing\n", "empty definition"},
		{"two documents", "name: a\ntriggers: [{type: manual}]\nsteps: [{name: a, type: console}]\n---\nname: b\n", "4:1: a definition file holds one YAML document"},
		{"scalar", "hello", "1:1: a definition must be a YAML mapping"},
		{"inf", "name: a\ntriggers: [{type: manual}]\nconsts: { x: .inf }\nsteps: [{name: a, type: console}]\n", "3:14: .inf is not a finite number"},
		{"custom tag", "name: a\ntriggers: [{type: manual}]\nconsts: { x: !foo bar }\nsteps: [{name: a, type: console}]\n", "3:14: unsupported YAML tag !foo"},
		{"billion laughs", laughs(), "definition too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, probs := LoadBytes("x.yaml", []byte(c.src), LoadOptions{Registry: testRegistry()})
			if probs.Err() == nil || !strings.Contains(probs.String(), c.want) {
				t.Errorf("want %q in\n%s", c.want, probs)
			}
		})
	}
}

// laughs builds an exponential alias expansion ("billion laughs").
func laughs() string {
	var b strings.Builder
	b.WriteString("name: x\ntriggers: [{type: manual}]\nconsts:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("  l" + string(rune('0'+i)) + ": &l" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*l" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("steps: [{name: a, type: console}]\n")
	return b.String()
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"a/b/demo-alert-triage.yaml": "demo-alert-triage",
		"x.yml":                      "x",
		"noext":                      "noext",
		"dir.yaml/file.test.yaml":    "file.test",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkLoadFull measures loading and validating a definition that uses
// every step type (about 50 steps).
func BenchmarkLoadFull(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	reg := testRegistry()
	b.ReportAllocs()
	for b.Loop() {
		if _, probs := LoadBytes("full.yaml", data, LoadOptions{Registry: reg}); len(probs) > 0 {
			b.Fatal(probs)
		}
	}
}

// stepsDef is a definition with n top-level console steps (line 4 + i for
// step i) and nested more steps inside an if.
func stepsDef(n, nested int) string {
	var b strings.Builder
	b.WriteString("name: many\ntriggers: [{type: manual}]\nsteps:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - { name: s%d, type: console, with: { message: x } }\n", i)
	}
	if nested > 0 {
		b.WriteString("  - name: box\n    type: if\n    condition: \"true\"\n    steps:\n")
		for i := 0; i < nested; i++ {
			fmt.Fprintf(&b, "      - { name: n%d, type: console, with: { message: x } }\n", i)
		}
	}
	return b.String()
}

// TestLoadSizeLimits: the save-time limits of §7.7, a definition over
// 1 MiB of YAML and one over 150 steps (nested ones included), are load
// errors with a position.
func TestLoadSizeLimits(t *testing.T) {
	pad := func(size int) string {
		head := "name: big\ntriggers: [{type: manual}]\nsteps: [{name: a, type: console}]\nconsts: { pad: \""
		return head + strings.Repeat("p", size-len(head)-3) + "\" }"
	}
	cases := []struct {
		name, src string
		want      string // "" for a definition that loads
	}{
		{name: "exactly 1 MiB", src: pad(MaxDefinitionBytes)},
		{name: "one byte over 1 MiB", src: pad(MaxDefinitionBytes + 1),
			want: "x.yaml:1:1: definition too large: 1048577 bytes of YAML, more than the 1048576 (1 MiB)"},
		{name: "150 steps", src: stepsDef(150, 0)},
		{name: "151 steps", src: stepsDef(151, 0),
			want: "x.yaml:154:5: WorkflowStepCountExceeded: the workflow has 151 steps, more than the maximum of 150"},
		{name: "nested steps count", src: stepsDef(148, 3), // 148 + box + 3
			want: "x.yaml:157:9: WorkflowStepCountExceeded: the workflow has 152 steps"},
		{name: "decoding stops at 2000 steps", src: stepsDef(2100, 0),
			want: "x.yaml:154:5: WorkflowStepCountExceeded: the workflow has at least 2001 steps"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def, probs := LoadBytes("x.yaml", []byte(c.src), LoadOptions{Registry: testRegistry()})
			if c.want == "" {
				if err := probs.Err(); err != nil || def == nil {
					t.Fatalf("does not load: %v", err)
				}
				return
			}
			if probs.Err() == nil || !strings.Contains(probs.String(), c.want) {
				t.Errorf("want %q in\n%s", c.want, probs)
			}
			if n := strings.Count(probs.String(), "WorkflowStepCountExceeded"); n > 1 {
				t.Errorf("%d step count problems, want one", n)
			}
		})
	}
}

// TestLoadFileTooLarge: LoadFile does not read past the limit.
func TestLoadFileTooLarge(t *testing.T) {
	path := t.TempDir() + "/big.yaml"
	if err := os.WriteFile(path, []byte("name: x\n"+strings.Repeat("#", 2<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	def, probs := LoadFile(path, LoadOptions{Registry: testRegistry()})
	if def != nil || len(probs) != 1 || !strings.Contains(probs[0].Msg, "definition too large") || probs[0].File != path {
		t.Errorf("def %v problems %s", def != nil, probs)
	}
}
