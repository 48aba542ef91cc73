package interpreter

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow/interpreter/step"
)

var update = flag.Bool("update", false, "rewrite the golden *.want files of testdata/invalid")

// testRegistry is an isolated registry with one declared activity type
// (http) and the generic connector fallback "*".
func testRegistry() *step.Registry {
	reg := step.NewRegistry()
	noop := func(context.Context, step.Runtime, step.Input) (any, error) { return nil, nil }
	reg.MustAdd(&step.Spec{Type: "http", Kind: step.KindActivity, Category: "network", Summary: "HTTP request",
		Activity: noop,
		With: []step.Field{
			{Name: "url", Type: step.String, Required: true, Doc: "URL"},
			{Name: "method", Type: step.String, Enum: []string{"GET", "POST", "PUT", "PATCH", "DELETE"}, Doc: "method"},
			{Name: "headers", Type: step.Object, Doc: "headers"},
			{Name: "body", Type: step.Any, Doc: "body"},
		}})
	reg.MustAdd(&step.Spec{Type: "notify.*", Kind: step.KindActivity, Category: "notify", Summary: "needs a connector",
		OpenWith: true, NeedsConnector: true, Activity: noop})
	reg.MustAdd(&step.Spec{Type: "*", Kind: step.KindActivity, Category: "connector", Summary: "generic connector",
		OpenWith: true, Activity: noop})
	return reg
}

func loadTest(t *testing.T, file string) (*Definition, Problems) {
	t.Helper()
	return LoadFile(file, LoadOptions{Registry: testRegistry()})
}

// TestValidateInvalid checks every testdata/invalid/*.yaml against its
// golden *.want (all problems, file:line:col). Run with -update to rewrite.
func TestValidateInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			_, probs := loadTest(t, f)
			got := probs.String()
			want := strings.TrimSuffix(f, ".yaml") + ".want"
			if *update {
				if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("missing golden file (run go test -run TestValidateInvalid -update): %v", err)
			}
			if got != string(b) {
				t.Errorf("problems differ from %s\n--- got\n%s--- want\n%s", want, got, b)
			}
			if len(probs) == 0 {
				t.Errorf("%s: expected at least one problem", f)
			}
		})
	}
}

// TestValidateValid requires testdata/valid/*.yaml to load without any
// problem, warnings included.
func TestValidateValid(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no valid test files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			def, probs := loadTest(t, f)
			if len(probs) > 0 {
				t.Errorf("unexpected problems:\n%s", probs)
			}
			if def == nil {
				t.Fatal("nil definition")
			}
		})
	}
}

// TestThreeMistakes: one definition with three separate mistakes gives three
// errors, each with file:line:col, in one run.
func TestThreeMistakes(t *testing.T) {
	_, probs := loadTest(t, "testdata/invalid/three_mistakes.yaml")
	errs := probs.Errors()
	want := []string{
		`testdata/invalid/three_mistakes.yaml:6:11: unknown step type "consol" (did you mean "console"?)`,
		"testdata/invalid/three_mistakes.yaml:12:17: with.duration: Invalid duration format: 5 minutes.",
		`testdata/invalid/three_mistakes.yaml:15:5: unknown key "condtion" in step "gate" (type if) (did you mean "condition"?)`,
	}
	if len(errs) != 3 {
		t.Errorf("got %d errors, want 3:\n%s", len(errs), errs)
	}
	var lines []string
	for _, e := range errs {
		lines = append(lines, e.String())
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing problem %q in\n%s", w, strings.Join(lines, "\n"))
		}
	}
	for _, e := range errs {
		if e.Line == 0 || e.Col == 0 || e.File == "" {
			t.Errorf("problem without a full position: %+v", e)
		}
	}
}

func TestValidateModelWithoutNodes(t *testing.T) {
	def := &Definition{ID: "x", File: "x.yaml", Name: "x", Triggers: []Trigger{{Type: "manual"}},
		Steps: []*Step{
			{Name: "a", Type: "console", Pos: Pos{File: "x.yaml", Line: 4, Col: 5}, With: map[string]any{"mesage": "x"}},
			{Name: "a", Type: "kibana.nope", Pos: Pos{File: "x.yaml", Line: 7, Col: 5}},
		}}
	probs := Validate(def, testRegistry())
	got := probs.String()
	want := "x.yaml:4:5: unknown key \"mesage\" in with of step \"a\" (type console) (did you mean \"message\"?)\n" +
		"x.yaml:7:5: duplicate step name \"a\" (first used at line 4); step names must be unique in the whole workflow\n" +
		"x.yaml:7:5: unknown step type \"kibana.nope\"\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSuggest(t *testing.T) {
	cases := []struct {
		in   string
		cand []string
		want string
	}{
		{"condtion", []string{"condition", "steps"}, "condition"},
		{"consol", []string{"console", "if"}, "console"},
		{"xyz", []string{"console", "if"}, ""},
		{"Steps", []string{"steps"}, "steps"},
		{"timout", settingsKeys, "timeout"},
		{"a", []string{"b"}, "b"},
		{"ab", []string{"cd"}, ""},
	}
	for _, c := range cases {
		if got := suggest(c.in, c.cand); got != c.want {
			t.Errorf("suggest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if d := levenshtein("kitten", "sitting"); d != 3 {
		t.Errorf("levenshtein = %d, want 3", d)
	}
}

func TestParentPath(t *testing.T) {
	cases := map[string]string{
		"steps[2].with.title":    "steps[2].with",
		"steps[2].with":          "steps[2]",
		"steps[2]":               "steps",
		"steps":                  "",
		`with["a.b"]`:            "with",
		`with["a.b"].c`:          `with["a.b"]`,
		`with["x\"]y"].c[1]`:     `with["x\"]y"].c`,
		"triggers[0].with.rrule": "triggers[0].with",
	}
	for in, want := range cases {
		if got := parentPath(in); got != want {
			t.Errorf("parentPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTemplateCode(t *testing.T) {
	got := templateCode("a {{ steps.x.output }} b {% if steps.y %}c{% endif %} {{ unterminated")
	for _, want := range []string{"steps.x.output", "if steps.y", "endif", "unterminated"} {
		if !strings.Contains(got, want) {
			t.Errorf("templateCode missing %q: %q", want, got)
		}
	}
	if strings.Contains(got, " b ") {
		t.Errorf("templateCode kept literal text: %q", got)
	}
}
