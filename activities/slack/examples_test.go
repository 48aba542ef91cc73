package slack_test

import (
	"strings"
	"testing"

	_ "github.com/secflow/secflow/activities/email"
	_ "github.com/secflow/secflow/activities/jira"
	_ "github.com/secflow/secflow/activities/pagerduty"
	_ "github.com/secflow/secflow/activities/slack"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

// TestNotifyExamplesValidate checks that every example of the notification
// step types (slack, pagerduty, jira, email) is a valid step, and that the
// specs carry the documentation the docs generator needs.
func TestNotifyExamplesValidate(t *testing.T) {
	n := 0
	for _, spec := range step.Default().All() {
		if !strings.HasPrefix(spec.Source, "activities/slack/") && !strings.HasPrefix(spec.Source, "activities/pagerduty/") &&
			!strings.HasPrefix(spec.Source, "activities/jira/") && !strings.HasPrefix(spec.Source, "activities/email/") {
			continue
		}
		n++
		if spec.Summary == "" || spec.Doc == "" || spec.Output.Example == "" || len(spec.Examples) == 0 || spec.Activity == nil {
			t.Errorf("%s: incomplete spec", spec.Type)
		}
		for _, f := range append(append([]step.Field(nil), spec.With...), spec.Config...) {
			if f.Doc == "" {
				t.Errorf("%s: field %s has no doc", spec.Type, f.Name)
			}
		}
		for _, ex := range spec.Examples {
			// Examples may refer to earlier steps and alert fields: give them an alert trigger and stand-ins.
			doc := "name: example\ntriggers:\n  - type: alert\nsteps:\n"
			for _, name := range []string{"summary", "open_case", "triage", "ticket"} {
				if !strings.Contains(ex.YAML, "- name: "+name+"\n") {
					doc += "  - name: " + name + "\n    type: console\n    with: { message: x }\n"
				}
			}
			doc += indent(ex.YAML, "  ")
			_, probs := interpreter.LoadBytes("example.yaml", []byte(doc), interpreter.LoadOptions{})
			if errs := probs.Errors(); len(errs) > 0 {
				t.Errorf("%s example %q:\n%s\n%v", spec.Type, ex.Title, doc, errs)
			}
		}
	}
	if n < 7 {
		t.Fatalf("found %d notification specs, want at least 7", n)
	}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n") + "\n"
}
