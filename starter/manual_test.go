package starter

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter"
)

// TestManualEventAt: which event a manual run accepts depends on the
// definition's triggers; an event trigger's payload is normalised like
// POST /api/v1/events/{type} (timestamp and spaceId added).
func TestManualEventAt(t *testing.T) {
	received := time.Date(2026, 3, 1, 10, 0, 0, 250e6, time.UTC)
	alertOnlyDef := def("alert-only", true, alertTrigger(nil))
	eventOnly := def("event-only", true, eventTrigger("cases.caseCreated", `event.case.severity: "critical"`, ""))
	eventAndManual := def("event-manual", true, interpreter.Trigger{Type: "manual"}, eventTrigger("cases.caseUpdated", "", ""))
	manualOnly := def("manual-only", true, interpreter.Trigger{Type: "manual"})
	alertAndEvent := def("alert-event", true, eventTrigger("cases.caseCreated", "", ""), alertTrigger(nil))

	tests := []struct {
		name   string
		def    *interpreter.Definition
		raw    string
		want   map[string]any // Body; nil: no event
		space  string
		reason string // RejectError reason
	}{
		{"alert-only without event", alertOnlyDef, "", nil, "", "event_required"},
		{"event-only without event runs without one", eventOnly, "", nil, "", ""},
		{"event-only null event", eventOnly, "null", nil, "", ""},
		{"event-only: payload + timestamp + default space", eventOnly, `{"case":{"id":"c-1","severity":"critical"}}`,
			map[string]any{"case": map[string]any{"id": "c-1", "severity": "critical"},
				"timestamp": "2026-03-01T10:00:00.250Z", "spaceId": "default"}, "default", ""},
		{"event-only: payload timestamp and space kept", eventAndManual, `{"n":1,"timestamp":"2026-02-01T08:00:00Z","spaceId":"soc"}`,
			map[string]any{"n": float64(1), "timestamp": "2026-02-01T08:00:00Z", "spaceId": "soc"}, "soc", ""},
		{"event-only: payload not an object", eventOnly, `[1,2]`, nil, "", "invalid_event"},
		{"event-only: malformed", eventOnly, `{"a":`, nil, "", "invalid_event"},
		{"event-only: bad timestamp", eventOnly, `{"timestamp":"yesterday"}`, nil, "", "invalid_event"},
		{"event-only: bad space", eventOnly, `{"spaceId":"Not A Space"}`, nil, "", "invalid_event"},
		{"manual-only refuses an event", manualOnly, `{"case":{}}`, nil, "", "unexpected_event"},
		{"alert and event triggers: the alert format decides", alertAndEvent, `{"_id":"a1","kibana.alert.rule.uuid":"r1","kibana.alert.rule.name":"R"}`,
			nil, "default", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ManualEventAt(tt.def, []byte(tt.raw), Limits{}, received)
			if tt.reason != "" {
				var re *RejectError
				if !errors.As(err, &re) || re.Reason != tt.reason {
					t.Fatalf("error %v, want reason %s", err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.raw == "" || tt.raw == "null" {
				if ev != nil {
					t.Fatalf("event %v, want none", ev.Body)
				}
				return
			}
			if ev.SpaceID != tt.space {
				t.Errorf("space %q, want %q", ev.SpaceID, tt.space)
			}
			if tt.want != nil && !reflect.DeepEqual(ev.Body, tt.want) {
				t.Errorf("body %v, want %v", ev.Body, tt.want)
			}
			if tt.def == alertAndEvent {
				if _, ok := ev.Body["alerts"]; !ok || ev.RuleID != "r1" {
					t.Errorf("not normalised as an alert: %v", ev.Body)
				}
			}
		})
	}
}

// TestWithEventTriggerPayload: a manual run of an event-trigger definition
// gets the payload as `event` and its space, stays manual, and gets no
// alert search attributes even when the payload has an `alerts` key.
func TestWithEventTriggerPayload(t *testing.T) {
	d := def("event-only", true, eventTrigger("cases.caseCreated", "", ""))
	ev, err := ManualEventAt(d, []byte(`{"spaceId":"soc","alerts":[{"_id":"x","host":{"name":"h1"}}]}`), Limits{}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	req, problems := ManualRequest(d, nil, "k1")
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	req = WithEvent(req, d, ev)
	if req.Input.TriggeredBy != interpreter.TriggeredByManual || req.Input.SpaceID != "soc" || req.Input.Event["spaceId"] != "soc" {
		t.Errorf("input: triggeredBy %q space %q event %v", req.Input.TriggeredBy, req.Input.SpaceID, req.Input.Event)
	}
	want := map[string]string{searchattr.WorkflowName.GetName(): "event-only", searchattr.TriggerType.GetName(): "manual"}
	if !reflect.DeepEqual(req.SearchAttributes, want) {
		t.Errorf("search attributes %v, want %v", req.SearchAttributes, want)
	}
}
