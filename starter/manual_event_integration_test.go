package starter

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/secflow/secflow/interpreter"
)

// TestIntegrationManualRunWithEvent: a definition with only alert triggers
// is run by hand on a given alert (Kibana's "run workflow" on an alert): the
// event is normalised like /api/v1/alerts and becomes the run's `event`,
// without it the request is refused, and a definition without an alert
// trigger refuses an event.
func TestIntegrationManualRunWithEvent(t *testing.T) {
	alertDef := def(uniq(t, "alertonly"), true, alertTrigger(nil))
	manualDef := def(uniq(t, "manualonly"), true, interpreter.Trigger{Type: "manual"})
	h := newHarness(t, newMemDefs(alertDef, manualDef), nil)
	rule, alert := uniq(t, "rule"), uniq(t, "alert")

	if a := h.post(t, "/api/v1/workflows/"+alertDef.ID+"/run", []byte(`{"inputs":{}}`), nil); a.code != 400 || a.body["reason"] != "event_required" {
		t.Errorf("alert-only definition without event: %d %s", a.code, a.raw)
	}
	if a := h.post(t, "/api/v1/workflows/"+manualDef.ID+"/run", []byte(`{"event":{"alerts":[{"_id":"x"}]}}`), nil); a.code != 400 || a.body["reason"] != "unexpected_event" {
		t.Errorf("manual-only definition with event: %d %s", a.code, a.raw)
	}
	if a := h.post(t, "/api/v1/workflows/"+alertDef.ID+"/run", []byte(`{"event":"nope"}`), nil); a.code != 400 || a.body["reason"] != "invalid_event" {
		t.Errorf("malformed event: %d %s", a.code, a.raw)
	}

	body := fmt.Sprintf(`{"event": %s}`, alertBody(rule, "Manual rule", alert))
	a := h.post(t, "/api/v1/workflows/"+alertDef.ID+"/run", []byte(body), nil)
	if a.code != http.StatusCreated || a.body["status"] != StatusStarted {
		t.Fatalf("manual run with event: %d %s", a.code, a.raw)
	}
	wid := a.body["workflowId"].(string)
	in := startedInput(t, h, wid)
	alerts, _ := in.Event["alerts"].([]any)
	if in.TriggeredBy != interpreter.TriggeredByManual || len(alerts) != 1 || in.Event["rule"].(map[string]any)["id"] != rule {
		t.Fatalf("run input: triggeredBy %q, event %v", in.TriggeredBy, in.Event)
	}
	desc, err := h.env.Client.DescribeWorkflowExecution(context.Background(), wid, "")
	if err != nil {
		t.Fatal(err)
	}
	sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes()
	if keyword(sa, "TriggerType") != "manual" || keyword(sa, "RuleId") != rule || keyword(sa, "AlertId") != alert {
		t.Errorf("search attributes: TriggerType %q RuleId %q AlertId %q", keyword(sa, "TriggerType"), keyword(sa, "RuleId"), keyword(sa, "AlertId"))
	}
}

// TestIntegrationManualRunWithTriggerEvent: a definition with only an event
// trigger is run by hand on an event payload: the run gets it as `event`
// with timestamp and spaceId added as /api/v1/events/{type} does, stays
// manual (triggeredBy and TriggerType); without an event it runs too, and a
// payload that is not an object is refused.
func TestIntegrationManualRunWithTriggerEvent(t *testing.T) {
	eventDef := def(uniq(t, "eventonly"), true, eventTrigger("cases.caseCreated", `event.case.severity: "critical"`, ""))
	received := time.Date(2026, 3, 1, 10, 0, 0, 250e6, time.UTC)
	h := newHarness(t, newMemDefs(eventDef), func(c *Config) { c.Now = func() time.Time { return received } })
	path := "/api/v1/workflows/" + eventDef.ID + "/run"

	if a := h.post(t, path, []byte(`{"event":["not","an","object"]}`), nil); a.code != 400 || a.body["reason"] != "invalid_event" {
		t.Errorf("array event: %d %s", a.code, a.raw)
	}
	caseID := uniq(t, "case")
	a := h.post(t, path, []byte(fmt.Sprintf(`{"event": {"case": {"id": %q, "severity": "low"}}}`, caseID)),
		map[string]string{"Idempotency-Key": caseID})
	if a.code != http.StatusCreated || a.body["status"] != StatusStarted {
		t.Fatalf("manual run with event: %d %s", a.code, a.raw)
	}
	wid := a.body["workflowId"].(string)
	in := startedInput(t, h, wid)
	want := map[string]any{"case": map[string]any{"id": caseID, "severity": "low"},
		"timestamp": "2026-03-01T10:00:00.250Z", "spaceId": "default"}
	if in.TriggeredBy != interpreter.TriggeredByManual || in.SpaceID != "default" || !reflect.DeepEqual(in.Event, want) {
		t.Errorf("run input: triggeredBy %q, space %q, event %v", in.TriggeredBy, in.SpaceID, in.Event)
	}
	desc, err := h.env.Client.DescribeWorkflowExecution(context.Background(), wid, "")
	if err != nil {
		t.Fatal(err)
	}
	if tt := keyword(desc.GetWorkflowExecutionInfo().GetSearchAttributes(), "TriggerType"); tt != "manual" {
		t.Errorf("TriggerType %q", tt)
	}

	b := h.post(t, path, []byte(`{"inputs":{}}`), nil)
	if b.code != http.StatusCreated {
		t.Fatalf("manual run without event: %d %s", b.code, b.raw)
	}
	if in := startedInput(t, h, b.body["workflowId"].(string)); in.Event != nil {
		t.Errorf("run without event got event %v", in.Event)
	}
}
