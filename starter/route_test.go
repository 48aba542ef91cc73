package starter

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/secflow/secflow/interpreter"
)

func def(id string, enabled bool, triggers ...interpreter.Trigger) *interpreter.Definition {
	return &interpreter.Definition{ID: id, Name: id, Enabled: enabled, Revision: "rev-" + id, Triggers: triggers}
}

func alertTrigger(with map[string]any) interpreter.Trigger {
	return interpreter.Trigger{Type: "alert", With: with}
}

func mustEvent(t *testing.T, body string) *Event {
	t.Helper()
	evs, _, err := Normalize([]byte(body), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return evs[0]
}

func TestRouteFilters(t *testing.T) {
	two := "[" + securityAlertDotted + "," + strings.ReplaceAll(securityAlertDotted, `"a-1"`, `"a-2"`) + "]"
	ev := mustEvent(t, two)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		defs  []*interpreter.Definition
		want  []string // workflow IDs
		modes []bool   // PerAlert per plan
	}{
		{name: "bare alert trigger matches", defs: []*interpreter.Definition{def("d", true, alertTrigger(nil))},
			want: []string{SummaryWorkflowID("d", "rule-so-1", []string{"a-1", "a-2"})}, modes: []bool{false}},
		{name: "disabled definition is skipped", defs: []*interpreter.Definition{def("d", false, alertTrigger(nil))}},
		{name: "manual trigger only: no match", defs: []*interpreter.Definition{def("d", true, interpreter.Trigger{Type: "manual"})}},
		{name: "rule_id equal to the saved-object id", defs: []*interpreter.Definition{def("d", true, alertTrigger(map[string]any{"rule_id": "rule-so-1"}))},
			want: []string{SummaryWorkflowID("d", "rule-so-1", []string{"a-1", "a-2"})}, modes: []bool{false}},
		{name: "rule_id equal to the detection rule_id", defs: []*interpreter.Definition{def("d", true, alertTrigger(map[string]any{"rule_id": "static-rule-1"}))},
			want: []string{SummaryWorkflowID("d", "rule-so-1", []string{"a-1", "a-2"})}, modes: []bool{false}},
		{name: "rule_id list", defs: []*interpreter.Definition{def("d", true, alertTrigger(map[string]any{"rule_id": []any{"x", "rule-so-1"}}))},
			want: []string{SummaryWorkflowID("d", "rule-so-1", []string{"a-1", "a-2"})}, modes: []bool{false}},
		{name: "rule_id mismatch", defs: []*interpreter.Definition{def("d", true, alertTrigger(map[string]any{"rule_id": "other"}))}},
		{name: "rule_name match", defs: []*interpreter.Definition{def("d", true, alertTrigger(map[string]any{"rule_name": "Brute force"}))},
			want: []string{SummaryWorkflowID("d", "rule-so-1", []string{"a-1", "a-2"})}, modes: []bool{false}},
		{name: "rule_name mismatch", defs: []*interpreter.Definition{def("d", true, alertTrigger(map[string]any{"rule_name": "brute force"}))}},
		{name: "rule_id and rule_name must both match", defs: []*interpreter.Definition{def("d", true,
			alertTrigger(map[string]any{"rule_id": "rule-so-1", "rule_name": "other"}))}},
		{name: "per-alert mode: one run per alert", defs: []*interpreter.Definition{def("d", true, alertTrigger(map[string]any{"per-alert": true}))},
			want: []string{"d/a-1", "d/a-2"}, modes: []bool{true, true}},
		{name: "summaryMode false is per-alert", defs: []*interpreter.Definition{def("d", true, alertTrigger(map[string]any{"summaryMode": false}))},
			want: []string{"d/a-1", "d/a-2"}, modes: []bool{true, true}},
		{name: "first matching trigger decides, definitions in id order", defs: []*interpreter.Definition{
			def("z", true, alertTrigger(map[string]any{"rule_id": "nope"}), alertTrigger(map[string]any{"per-alert": true})),
			def("a", true, alertTrigger(nil), alertTrigger(map[string]any{"per-alert": true})),
		}, want: []string{SummaryWorkflowID("a", "rule-so-1", []string{"a-1", "a-2"}), "z/a-1", "z/a-2"}, modes: []bool{false, true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plans, errs := Route(tc.defs, ev, now)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if len(plans) != len(tc.want) {
				t.Fatalf("plans = %d (%v), want %v", len(plans), ids(plans), tc.want)
			}
			for i, p := range plans {
				if p.WorkflowID != tc.want[i] || p.PerAlert != tc.modes[i] {
					t.Errorf("plan %d = %s per-alert=%v, want %s per-alert=%v", i, p.WorkflowID, p.PerAlert, tc.want[i], tc.modes[i])
				}
				if p.PerAlert && len(p.Event.AlertIDs) != 1 {
					t.Errorf("per-alert plan carries %d alerts", len(p.Event.AlertIDs))
				}
			}
		})
	}
}

// TestRouteCondition needs the real KQL evaluator (interpreter/kql).
func TestRouteCondition(t *testing.T) {
	two := "[" + securityAlertDotted + "," + strings.ReplaceAll(strings.ReplaceAll(securityAlertDotted, `"a-1"`, `"a-2"`), `"medium"`, `"critical"`) + "]"
	ev := mustEvent(t, two)
	now := time.Now()
	cond := func(c string, with map[string]any) []*interpreter.Definition {
		tr := alertTrigger(with)
		tr.Condition = c
		return []*interpreter.Definition{def("d", true, tr)}
	}
	tests := []struct {
		name string
		defs []*interpreter.Definition
		want []string
	}{
		{"condition on rule name matches", cond(`event.rule.name: "Brute force"`, nil), []string{SummaryWorkflowID("d", "rule-so-1", []string{"a-1", "a-2"})}},
		{"condition on rule name does not match", cond(`event.rule.name: "Other"`, nil), nil},
		{"per-alert condition filters alerts", cond(`event.alerts.kibana.alert.severity: critical`, map[string]any{"per-alert": true}), []string{"d/a-2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plans, errs := Route(tc.defs, ev, now)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if got := ids(plans); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("plans = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWorkflowIDs(t *testing.T) {
	a := SummaryWorkflowID("d", "r", []string{"x", "y"})
	if b := SummaryWorkflowID("d", "r", []string{"y", "x"}); a != b {
		t.Errorf("alert order changes the id: %s vs %s", a, b)
	}
	if c := SummaryWorkflowID("d", "r2", []string{"x", "y"}); a == c {
		t.Error("rule id does not change the id")
	}
	if c := SummaryWorkflowID("d", "r", []string{"x"}); a == c {
		t.Error("alert set does not change the id")
	}
	if c := SummaryWorkflowID("d", "r", []string{"x\x00y"}); c == SummaryWorkflowID("d", "r", []string{"x", "y"}) {
		t.Error("separator ambiguity")
	}
	if !strings.HasPrefix(a, "d/") || len(a) != len("d/")+32 {
		t.Errorf("summary id shape: %s", a)
	}
	if got := PerAlertWorkflowID("d", "abc-123"); got != "d/abc-123" {
		t.Errorf("per-alert id = %s", got)
	}
	if got := PerAlertWorkflowID("d", "has space/slash"); !strings.HasPrefix(got, "d/h-") {
		t.Errorf("unsafe alert id not hashed: %s", got)
	}
}

func ids(plans []Plan) []string {
	var out []string
	for _, p := range plans {
		out = append(out, p.WorkflowID)
	}
	return out
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	got := clip(long, 200)
	if len(got) > 200 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("clip: %d bytes, valid=%v", len(got), utf8.ValidString(got))
	}
	if clip("short", 200) != "short" {
		t.Error("short string changed")
	}
}
