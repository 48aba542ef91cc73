package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	_ "github.com/secflow/secflow/activities/email"
	_ "github.com/secflow/secflow/activities/jira"
	_ "github.com/secflow/secflow/activities/pagerduty"
	_ "github.com/secflow/secflow/activities/slack"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
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

// TestNotifyOutputsMatchExamples runs one call of every notification step
// type against the sandbox and checks that the output has the shape (key
// paths and JSON types) of the spec's Output.Example.
func TestNotifyOutputsMatchExamples(t *testing.T) {
	sb, err := sandbox.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	urls := map[string]string{}
	for _, n := range []string{"slack", "pagerduty", "jira", "smtp"} {
		urls[n] = sb.URL(n)
	}
	rt := connectors.NewRuntime(connectors.ForSandbox(urls), nil, nil)
	push := map[string]any{"incident": map[string]any{"summary": "s"}, "comments": []any{map[string]any{"comment": "c", "commentId": "c1"}}}
	cases := []struct {
		typ, connector string
		with           map[string]any
	}{
		{"slack", "soc-slack", map[string]any{"message": "m"}},
		{"slack_api", "slack-api", map[string]any{"subAction": "postMessage", "subActionParams": map[string]any{"channelIds": []any{"C0SECOPS"}, "text": "t"}}},
		{"slack_api.postMessage", "slack-api", map[string]any{"channelIds": []any{"C0SECOPS"}, "text": "t"}},
		{"slack2.sendMessage", "slack-api", map[string]any{"channel": "C0SECOPS", "text": "t"}},
		{"pagerduty", "pagerduty-oncall", map[string]any{"summary": "s"}},
		{"jira", "jira", map[string]any{"subAction": "pushToService", "subActionParams": push}},
		{"jira.pushToService", "jira", push},
		{"email", "email", map[string]any{"to": "a@example.com", "subject": "s", "message": "m"}},
	}
	for i, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			spec, ok := step.Default().Lookup(c.typ)
			if !ok {
				t.Fatalf("%s not registered", c.typ)
			}
			in := step.Input{Type: c.typ, Name: "s", Path: "s", IdempotencyKey: fmt.Sprintf("wf/%d", i), ConnectorID: c.connector, With: c.with}
			out, err := spec.Activity(context.Background(), rt, in)
			if err != nil {
				t.Fatal(err)
			}
			var example any
			if err := json.Unmarshal([]byte(spec.Output.Example), &example); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(out)
			var actual any
			_ = json.Unmarshal(b, &actual)
			if err := sameShape("output", example, actual); err != nil {
				t.Fatalf("%v\nexample: %s\nactual:  %s", err, spec.Output.Example, b)
			}
		})
	}
}

// sameShape reports the first key path of example missing from actual or
// holding another JSON type.
func sameShape(path string, example, actual any) error {
	switch ex := example.(type) {
	case map[string]any:
		act, ok := actual.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", path, actual)
		}
		for k, v := range ex {
			a, present := act[k]
			if !present {
				return fmt.Errorf("%s.%s: missing", path, k)
			}
			if err := sameShape(path+"."+k, v, a); err != nil {
				return err
			}
		}
	case []any:
		act, ok := actual.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array, got %T", path, actual)
		}
		if len(ex) > 0 {
			for i, a := range act {
				if err := sameShape(fmt.Sprintf("%s[%d]", path, i), ex[0], a); err != nil {
					return err
				}
			}
		}
	default:
		if fmt.Sprintf("%T", example) != fmt.Sprintf("%T", actual) {
			return fmt.Errorf("%s: want %T, got %T", path, example, actual)
		}
	}
	return nil
}
