package starter

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

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
	it := h.env.Client.GetWorkflowHistory(context.Background(), wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	var in interpreter.RunInput
	if err := converter.GetDefaultDataConverter().FromPayloads(first.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
		t.Fatal(err)
	}
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
