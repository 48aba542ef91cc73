package cases

import (
	"context"
	"strings"
	"testing"

	"github.com/secflow/secflow/interpreter/step"
)

func TestDeprecatedKibanaCaseSteps(t *testing.T) {
	sb, fake, rt := setup(t)
	for _, suffix := range []string{"", "DefaultSpace"} {
		out, err := run(t, rt, step.Input{Type: "kibana.createCase" + suffix, IdempotencyKey: "dep" + suffix, With: map[string]any{
			"title": "Suspicious Login Detected", "description": "Automated", "owner": "securitySolution", "severity": "critical",
			"tags": []any{"workflow"}, "connector": map[string]any{"id": "none", "name": "none", "type": ".none"}}})
		if err != nil {
			t.Fatal(err)
		}
		id, _ := out["id"].(string) // the case itself, not {case}
		if id == "" || out["severity"] != "critical" {
			t.Fatalf("createCase%s = %v", suffix, out)
		}
		out, err = run(t, rt, step.Input{Type: "kibana.addCaseComment" + suffix, With: map[string]any{
			"caseId": id, "type": "user", "comment": "hello", "owner": "securitySolution"}})
		if err != nil || out["totalComment"] != 1.0 {
			t.Fatalf("addCaseComment%s = %v %v", suffix, out, err)
		}
		alert := step.Input{Type: "kibana.addCaseComment" + suffix, With: map[string]any{"caseId": id, "type": "alert",
			"alertId": "al-1", "index": ".alerts-security.alerts-default", "rule": map[string]any{"id": "r", "name": "R"}, "owner": "securitySolution"}}
		run(t, rt, alert)
		if out, err = run(t, rt, alert); err != nil || out["totalAlerts"] != 1.0 {
			t.Fatalf("alert attached twice: %v %v", out, err)
		}
		out, err = run(t, rt, step.Input{Type: "kibana.getCase" + suffix, With: map[string]any{"caseId": id}})
		if err != nil || out["id"] != id || len(out["comments"].([]any)) != 2 {
			t.Fatalf("getCase%s = %v %v", suffix, out, err)
		}
		s, _ := step.Default().Lookup("kibana.updateCase" + suffix)
		res, err := s.Activity(context.Background(), rt, step.Input{Type: s.Type, With: map[string]any{
			"cases": []any{map[string]any{"id": id, "status": "closed"}}}})
		list, _ := res.([]any)
		if err != nil || len(list) != 1 || list[0].(map[string]any)["status"] != "closed" {
			t.Fatalf("updateCase%s = %v %v", suffix, res, err)
		}
	}
	if len(fake.Cases()) != 2 || len(requests(sb, "POST", "/api/cases")) != 2 {
		t.Fatalf("cases = %d", len(fake.Cases()))
	}
	_, err := run(t, rt, step.Input{Type: "kibana.getCase", With: map[string]any{"caseId": "missing"}})
	if se := step.AsError(err); se == nil || !strings.HasPrefix(se.Message, "HTTP 404") {
		t.Fatalf("missing: %v", err)
	}
}
