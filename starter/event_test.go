package starter

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/interpreter"
)

const securityAlertDotted = `{
  "_id": "a-1",
  "_index": ".internal.alerts-security.alerts-default-000001",
  "@timestamp": "2026-03-01T10:00:00.000Z",
  "kibana.alert.uuid": "a-1",
  "kibana.alert.severity": "medium",
  "kibana.alert.rule.uuid": "rule-so-1",
  "kibana.alert.rule.rule_id": "static-rule-1",
  "kibana.alert.rule.name": "Brute force",
  "kibana.alert.rule.tags": ["auth"],
  "kibana.alert.rule.consumer": "siem",
  "kibana.alert.rule.producer": "siem",
  "kibana.alert.rule.rule_type_id": "siem.queryRule",
  "kibana.space_ids": ["soc"],
  "host.name": "ws-1",
  "host": {"id": "h-1"},
  "user.name": "alice"
}`

func TestNormalizeFormats(t *testing.T) {
	demo, err := os.ReadFile("../definitions/demo-alert.json")
	if err != nil {
		t.Fatal(err)
	}
	second := strings.ReplaceAll(strings.ReplaceAll(securityAlertDotted, `"a-1"`, `"a-2"`), `"medium"`, `"critical"`)
	otherRule := strings.ReplaceAll(strings.ReplaceAll(second, "rule-so-1", "rule-so-2"), `"a-2"`, `"b-1"`)
	hit := `{"_id":"h-9","_index":".alerts-x","_source":` + strings.ReplaceAll(strings.ReplaceAll(securityAlertDotted, `"_id": "a-1",`, ""), `"a-1"`, `"h-9"`) + `}`

	tests := []struct {
		name       string
		body       string
		format     string
		events     int
		alertIDs   [][]string
		ruleID     string
		ruleName   string
		space      string
		severity   string
		host       string
		ruleIDsHas string
	}{
		{name: "event (demo alert)", body: string(demo), format: FormatEvent, events: 1,
			alertIDs: [][]string{{"a1b2c3d4e5"}}, ruleID: "rule-7f3e", ruleName: "Suspicious PowerShell Download",
			space: "default", severity: "high", host: "ws-042", ruleIDsHas: "ps-download-001"},
		{name: "single dotted alert document", body: securityAlertDotted, format: FormatAlert, events: 1,
			alertIDs: [][]string{{"a-1"}}, ruleID: "rule-so-1", ruleName: "Brute force", space: "soc",
			severity: "medium", host: "ws-1", ruleIDsHas: "static-rule-1"},
		{name: "array of alert documents, one rule", body: "[" + securityAlertDotted + "," + second + "]", format: FormatAlerts, events: 1,
			alertIDs: [][]string{{"a-1", "a-2"}}, ruleID: "rule-so-1", ruleName: "Brute force", space: "soc",
			severity: "critical", host: "ws-1"},
		{name: "ndjson, two rules → two events", body: oneLine(securityAlertDotted) + "\n" + oneLine(otherRule) + "\n", format: FormatNDJSON, events: 2,
			alertIDs: [][]string{{"a-1"}, {"b-1"}}, ruleID: "rule-so-1", ruleName: "Brute force", space: "soc",
			severity: "medium", host: "ws-1"},
		{name: "search hit", body: hit, format: FormatAlert, events: 1, alertIDs: [][]string{{"h-9"}},
			ruleID: "rule-so-1", ruleName: "Brute force", space: "soc", severity: "medium", host: "ws-1"},
		{name: "event without rule takes it from the alert", body: `{"alerts":[` + securityAlertDotted + `]}`, format: FormatEvent, events: 1,
			alertIDs: [][]string{{"a-1"}}, ruleID: "rule-so-1", ruleName: "Brute force", space: "soc", severity: "medium", host: "ws-1"},
		{name: "legacy alerts.new", body: `{"alerts":{"new":[` + securityAlertDotted + `]},"rule":{"id":"r","name":"n"},"spaceId":"x"}`, format: FormatEvent, events: 1,
			alertIDs: [][]string{{"a-1"}}, ruleID: "r", ruleName: "n", space: "x", severity: "medium", host: "ws-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, format, err := Normalize([]byte(tc.body), Limits{})
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if format != tc.format {
				t.Errorf("format = %q, want %q", format, tc.format)
			}
			if len(evs) != tc.events {
				t.Fatalf("events = %d, want %d", len(evs), tc.events)
			}
			for i, ids := range tc.alertIDs {
				if !reflect.DeepEqual(evs[i].AlertIDs, ids) {
					t.Errorf("event %d alert ids = %v, want %v", i, evs[i].AlertIDs, ids)
				}
			}
			ev := evs[0]
			if ev.RuleID != tc.ruleID || ev.RuleName != tc.ruleName || ev.SpaceID != tc.space {
				t.Errorf("rule/space = %q %q %q, want %q %q %q", ev.RuleID, ev.RuleName, ev.SpaceID, tc.ruleID, tc.ruleName, tc.space)
			}
			if got := ev.Severity(); got != tc.severity {
				t.Errorf("severity = %q, want %q", got, tc.severity)
			}
			if got := ev.HostName(); got != tc.host {
				t.Errorf("host = %q, want %q", got, tc.host)
			}
			if tc.ruleIDsHas != "" && !contains(ev.RuleIDs, tc.ruleIDsHas) {
				t.Errorf("RuleIDs %v lack %q", ev.RuleIDs, tc.ruleIDsHas)
			}
			// Body is the §8.1 shape and survives a JSON round trip.
			b, err := json.Marshal(ev.Body)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			_ = json.Unmarshal(b, &back)
			rule, _ := back["rule"].(map[string]any)
			if rule["id"] != tc.ruleID || rule["name"] != tc.ruleName || back["spaceId"] != tc.space {
				t.Errorf("body rule/spaceId = %v / %v", rule, back["spaceId"])
			}
			alerts, _ := back["alerts"].([]any)
			first, _ := alerts[0].(map[string]any)
			if lookup(first, "kibana", "alert", "rule", "name") != "Brute force" && lookup(first, "kibana", "alert", "uuid") == nil {
				t.Errorf("alert not expanded to nested objects: %v", first)
			}
		})
	}
}

func TestNormalizeRuleFromAlertFields(t *testing.T) {
	evs, _, err := Normalize([]byte(securityAlertDotted), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "rule-so-1", "name": "Brute force", "tags": []any{"auth"},
		"consumer": "siem", "producer": "siem", "ruleTypeId": "siem.queryRule"}
	if got := evs[0].Body["rule"]; !reflect.DeepEqual(got, want) {
		t.Errorf("rule = %v, want %v", got, want)
	}
	a := evs[0].Alerts()[0]
	if lookup(a, "host", "name") != "ws-1" || lookup(a, "host", "id") != "h-1" || lookup(a, "user", "name") != "alice" {
		t.Errorf("dotted and nested host fields not merged: %v", a["host"])
	}
}

func TestNormalizeRejects(t *testing.T) {
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"_id":"x"},`, 5), ",") + "]"
	tests := []struct {
		name, body, reason string
		lim                Limits
	}{
		{"empty", "  ", "empty", Limits{}},
		{"truncated JSON", `{"alerts": [`, "malformed", Limits{}},
		{"bad second NDJSON line", `{"_id":"a"}` + "\n" + `{"_id":`, "malformed", Limits{}},
		{"string", `"hello"`, "unrecognised", Limits{}},
		{"object that is no alert", `{"foo": 1}`, "unrecognised", Limits{}},
		{"alerts not a list", `{"alerts": 3}`, "unrecognised", Limits{}},
		{"empty alerts", `{"alerts": []}`, "empty", Limits{}},
		{"empty array", `[]`, "empty", Limits{}},
		{"array of numbers", `[1,2]`, "unrecognised", Limits{}},
		{"too deep", deep, "too_deep", Limits{}},
		{"too many alerts", many, "too_many_alerts", Limits{MaxAlerts: 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Normalize([]byte(tc.body), tc.lim)
			var re *RejectError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a RejectError", err)
			}
			if re.Reason != tc.reason {
				t.Errorf("reason = %q (%s), want %q", re.Reason, re.Msg, tc.reason)
			}
		})
	}
}

func TestAlertIDWithoutIDIsStable(t *testing.T) {
	a := map[string]any{"kibana": map[string]any{"alert": map[string]any{"severity": "low"}}, "x": 1.0}
	b := map[string]any{"x": 1.0, "kibana": map[string]any{"alert": map[string]any{"severity": "low"}}}
	if alertID(a) != alertID(b) || !strings.HasPrefix(alertID(a), "sha256:") {
		t.Errorf("content ids differ or are malformed: %s %s", alertID(a), alertID(b))
	}
}

func TestExpandDottedConflict(t *testing.T) {
	got := expandDotted(map[string]any{"a": "scalar", "a.b": 1.0, "c.d.e": true})
	want := map[string]any{"a": "scalar", "a.b": 1.0, "c": map[string]any{"d": map[string]any{"e": true}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("expandDotted = %v, want %v", got, want)
	}
}

func TestSummary(t *testing.T) {
	evs, _, _ := Normalize([]byte("["+securityAlertDotted+","+strings.ReplaceAll(securityAlertDotted, `"a-1"`, `"a-2"`)+"]"), Limits{})
	if got, want := evs[0].Summary(), "Brute force on ws-1 (medium), 2 alerts"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

func oneLine(s string) string {
	var v any
	_ = json.Unmarshal([]byte(s), &v)
	b, _ := json.Marshal(v)
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestKibanaWebhookBody checks the body docs/starter.md tells operators to
// configure in a Kibana Webhook connector action
// (testdata/kibana-webhook-template.txt), as Kibana renders it for a
// detection rule with two alerts (testdata/kibana-webhook-rendered.json:
// context.alerts joined by commas, alert fields flattened).
func TestKibanaWebhookBody(t *testing.T) {
	tmpl, err := os.ReadFile("testdata/kibana-webhook-template.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tmpl), "[{{{context.alerts}}}]") {
		t.Fatal("template no longer wraps context.alerts in [ ] with triple braces")
	}
	body, err := os.ReadFile("testdata/kibana-webhook-rendered.json")
	if err != nil {
		t.Fatal(err)
	}
	evs, format, err := Normalize(body, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if format != FormatEvent || len(evs) != 1 {
		t.Fatalf("format %s, %d events", format, len(evs))
	}
	ev := evs[0]
	if ev.RuleID != "0a4c9c60-1d1f-11ef-9d8e-5b1a2f3c4d5e" || ev.RuleName != "Credential Dumping - Detected" ||
		len(ev.AlertIDs) != 2 || ev.Severity() != "critical" || ev.HostName() != "dc-01" {
		t.Errorf("event = rule %s %q, alerts %v, severity %s, host %s", ev.RuleID, ev.RuleName, ev.AlertIDs, ev.Severity(), ev.HostName())
	}
	if !contains(ev.RuleIDs, "credential-dumping-detected") {
		t.Errorf("rule_id filter value missing from %v", ev.RuleIDs)
	}
	rule := ev.Body["rule"].(map[string]any)
	if rule["ruleTypeId"] != "siem.queryRule" || rule["consumer"] != "siem" {
		t.Errorf("rule not completed from the alert: %v", rule)
	}
	second := ev.Alerts()[1]
	if lookup(second, "kibana", "alert", "severity") != "high" || lookup(second, "user", "name") != "svc-backup" {
		t.Errorf("second alert not expanded: %v", second)
	}
	plans, _ := Route([]*interpreter.Definition{def("triage", true, alertTrigger(map[string]any{"rule_id": "credential-dumping-detected"}))}, ev, time.Now())
	if len(plans) != 1 {
		t.Errorf("a trigger on the detection rule_id does not match: %v", ids(plans))
	}
}
