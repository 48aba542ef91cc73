package starter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/interpreter"
)

func eventTrigger(typ, condition, workflowEvents string) interpreter.Trigger {
	tr := interpreter.Trigger{Type: typ, Condition: condition}
	if workflowEvents != "" {
		tr.With = map[string]any{"workflowEvents": workflowEvents}
	}
	return tr
}

func TestNewTriggerEvent(t *testing.T) {
	received := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	tests := []struct {
		name      string
		typ       string
		payload   map[string]any
		query     string
		key       string
		space     string
		timestamp string
		reason    string // rejection reason, "" when accepted
	}{
		{name: "defaults", typ: "cases.caseCreated", payload: map[string]any{"case": map[string]any{"id": "c1"}},
			space: "default", timestamp: "2026-03-01T09:00:00.123Z"},
		{name: "space from the query", typ: "cases.caseCreated", payload: map[string]any{}, query: "soc",
			space: "soc", timestamp: "2026-03-01T09:00:00.123Z"},
		{name: "space from the payload", typ: "cases.caseCreated", payload: map[string]any{"spaceId": "soc"},
			space: "soc", timestamp: "2026-03-01T09:00:00.123Z"},
		{name: "same space both ways", typ: "a.b", payload: map[string]any{"spaceId": "soc"}, query: "soc",
			space: "soc", timestamp: "2026-03-01T09:00:00.123Z"},
		{name: "payload timestamp kept", typ: "a.b", payload: map[string]any{"timestamp": "2026-02-01T08:00:00+02:00"},
			space: "default", timestamp: "2026-02-01T08:00:00+02:00"},
		{name: "conflicting spaces", typ: "a.b", payload: map[string]any{"spaceId": "soc"}, query: "other", reason: "invalid_space"},
		{name: "space not a string", typ: "a.b", payload: map[string]any{"spaceId": 3.0}, reason: "invalid_space"},
		{name: "space syntax", typ: "a.b", payload: map[string]any{}, query: "Bad Space", reason: "invalid_space"},
		{name: "timestamp not ISO", typ: "a.b", payload: map[string]any{"timestamp": "yesterday"}, reason: "invalid_timestamp"},
		{name: "timestamp not a string", typ: "a.b", payload: map[string]any{"timestamp": 1.7e12}, reason: "invalid_timestamp"},
		{name: "no dot", typ: "alert", payload: map[string]any{}, reason: "invalid_event_type"},
		{name: "bad characters", typ: "cases.case created", payload: map[string]any{}, reason: "invalid_event_type"},
		{name: "empty word", typ: "cases..caseCreated", payload: map[string]any{}, reason: "invalid_event_type"},
		{name: "too long", typ: "a." + strings.Repeat("b", 127), payload: map[string]any{}, reason: "invalid_event_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.payload)
			ev, err := NewTriggerEvent(tc.typ, tc.payload, tc.query, tc.key, received)
			if tc.reason != "" {
				var re *RejectError
				if !errors.As(err, &re) || re.Reason != tc.reason {
					t.Fatalf("err = %v, want reason %s", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.SpaceID != tc.space || ev.Body["spaceId"] != tc.space || ev.Body["timestamp"] != tc.timestamp {
				t.Errorf("space %q, body %v; want space %q timestamp %q", ev.SpaceID, ev.Body, tc.space, tc.timestamp)
			}
			for k, v := range tc.payload {
				if !reflect.DeepEqual(ev.Body[k], v) {
					t.Errorf("body[%s] = %v, want the payload's %v", k, ev.Body[k], v)
				}
			}
			if len(tc.payload) != before {
				t.Errorf("the payload was modified: %v", tc.payload)
			}
		})
	}
}

func TestTriggerEventKey(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	key := func(typ string, payload map[string]any, query, idem string, at time.Time) string {
		t.Helper()
		ev, err := NewTriggerEvent(typ, payload, query, idem, at)
		if err != nil {
			t.Fatal(err)
		}
		return ev.Key
	}
	base := key("cases.caseCreated", map[string]any{"case": map[string]any{"id": "c1", "severity": "critical"}}, "", "", t0)
	if !strings.HasPrefix(base, "h-") || len(base) != 34 {
		t.Fatalf("content key = %q, want h-<32 hex>", base)
	}
	tests := []struct {
		name string
		got  string
		same bool
	}{
		{"same payload, later delivery", key("cases.caseCreated", map[string]any{"case": map[string]any{"severity": "critical", "id": "c1"}}, "", "", t0.Add(time.Hour)), true},
		{"explicit default space", key("cases.caseCreated", map[string]any{"case": map[string]any{"id": "c1", "severity": "critical"}}, "default", "", t0), true},
		{"other payload", key("cases.caseCreated", map[string]any{"case": map[string]any{"id": "c2", "severity": "critical"}}, "", "", t0), false},
		{"other type", key("cases.caseUpdated", map[string]any{"case": map[string]any{"id": "c1", "severity": "critical"}}, "", "", t0), false},
		{"other space", key("cases.caseCreated", map[string]any{"case": map[string]any{"id": "c1", "severity": "critical"}}, "soc", "", t0), false},
	}
	for _, tc := range tests {
		if (tc.got == base) != tc.same {
			t.Errorf("%s: key %q vs %q, want same=%v", tc.name, tc.got, base, tc.same)
		}
	}
	if got := key("a.b", map[string]any{}, "", "delivery-42", t0); got != "delivery-42" {
		t.Errorf("Idempotency-Key: key %q", got)
	}
	if got := key("a.b", map[string]any{}, "", "has spaces/and slashes", t0); !strings.HasPrefix(got, "h-") {
		t.Errorf("unsafe Idempotency-Key not hashed: %q", got)
	}
}

func TestEventTriggerAccepts(t *testing.T) {
	tests := []struct {
		mode    string
		origins []string
		want    bool
	}{
		{"", nil, true},
		{"ignore", nil, true},
		{"", []string{"other"}, true},
		{"", []string{"other", "self"}, false},
		{"avoid-loop", []string{"self"}, false},
		{"avoid-loop", []string{"other"}, true},
		{"ignore", []string{"other"}, false},
		{"allow-all", []string{"self"}, true},
	}
	for _, tc := range tests {
		if got := EventTriggerAccepts(eventTrigger("a.b", "", tc.mode), "self", tc.origins); got != tc.want {
			t.Errorf("workflowEvents %q, origins %v: %v, want %v", tc.mode, tc.origins, got, tc.want)
		}
	}
}

func TestRouteTriggerEvent(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ev, err := NewTriggerEvent("cases.caseCreated",
		map[string]any{"case": map[string]any{"id": "c1", "severity": "critical", "tags": []any{"phishing"}}}, "", "k1", now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		defs    []*interpreter.Definition
		origins []string
		want    []string // workflow IDs
		skipped []string
		errs    int
	}{
		{name: "type matches", defs: []*interpreter.Definition{def("d", true, eventTrigger("cases.caseCreated", "", ""))},
			want: []string{"d/event/k1"}},
		{name: "other type, alert and manual triggers", defs: []*interpreter.Definition{
			def("d", true, eventTrigger("cases.caseUpdated", "", ""), alertTrigger(nil), interpreter.Trigger{Type: "manual"})}},
		{name: "disabled", defs: []*interpreter.Definition{def("d", false, eventTrigger("cases.caseCreated", "", ""))}},
		{name: "condition matches", defs: []*interpreter.Definition{
			def("d", true, eventTrigger("cases.caseCreated", `event.case.severity: "critical" and event.spaceId: default`, ""))},
			want: []string{"d/event/k1"}},
		{name: "condition on timestamp", defs: []*interpreter.Definition{
			def("d", true, eventTrigger("cases.caseCreated", `event.timestamp: *`, ""))}, want: []string{"d/event/k1"}},
		{name: "condition does not match", defs: []*interpreter.Definition{
			def("d", true, eventTrigger("cases.caseCreated", `event.case.severity: low`, ""))}},
		{name: "broken condition", defs: []*interpreter.Definition{
			def("d", true, eventTrigger("cases.caseCreated", `event.case.severity: (`, ""))}, errs: 1},
		{name: "second trigger decides, one run per definition", defs: []*interpreter.Definition{
			def("d", true, eventTrigger("cases.caseCreated", `event.case.severity: low`, ""),
				eventTrigger("cases.caseCreated", `event.case.tags: phishing`, ""),
				eventTrigger("cases.caseCreated", "", ""))},
			want: []string{"d/event/k1"}},
		{name: "several definitions in id order", defs: []*interpreter.Definition{
			def("z", true, eventTrigger("cases.caseCreated", "", "")), def("a", true, eventTrigger("cases.caseCreated", "", ""))},
			want: []string{"a/event/k1", "z/event/k1"}},
		{name: "avoid-loop refuses its own origin", origins: []string{"d"}, defs: []*interpreter.Definition{
			def("d", true, eventTrigger("cases.caseCreated", "", "")), def("e", true, eventTrigger("cases.caseCreated", "", ""))},
			want: []string{"e/event/k1"}, skipped: []string{"d"}},
		{name: "ignore refuses any origin", origins: []string{"x"}, defs: []*interpreter.Definition{
			def("d", true, eventTrigger("cases.caseCreated", "", "ignore"))}, skipped: []string{"d"}},
		{name: "allow-all", origins: []string{"d"}, defs: []*interpreter.Definition{
			def("d", true, eventTrigger("cases.caseCreated", "", "allow-all"))}, want: []string{"d/event/k1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := *ev
			e.Origins = tc.origins
			plans, skipped, errs := RouteTriggerEvent(tc.defs, &e, now)
			var got []string
			for _, p := range plans {
				got = append(got, p.WorkflowID)
				if p.EventType != "cases.caseCreated" || p.Event.Body["case"] == nil || p.Event.SpaceID != "default" {
					t.Errorf("plan %+v", p)
				}
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(skipped, tc.skipped) || len(errs) != tc.errs {
				t.Errorf("plans %v skipped %v errs %v; want %v, %v, %d errors", got, skipped, errs, tc.want, tc.skipped, tc.errs)
			}
		})
	}
}

func TestEventRequest(t *testing.T) {
	d := def("d", true, eventTrigger("cases.caseCreated", "", ""))
	ev, err := NewTriggerEvent("cases.caseCreated", map[string]any{"case": map[string]any{"id": "c1"}}, "soc", "", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	plans, _, _ := RouteTriggerEvent([]*interpreter.Definition{d}, ev, time.Unix(0, 0))
	if len(plans) != 1 {
		t.Fatalf("plans = %v", plans)
	}
	req := plans[0].startRequest()
	if req.Input.TriggeredBy != "cases.caseCreated" || req.Input.SpaceID != "soc" || req.Input.Event["timestamp"] != "1970-01-01T00:00:00.000Z" ||
		req.SearchAttributes["TriggerType"] != "cases.caseCreated" || req.SearchAttributes["WorkflowName"] != "d" ||
		req.Summary != "cases.caseCreated event in space soc" || req.WorkflowID != "d/event/"+ev.Key {
		t.Errorf("request %+v", req)
	}
	plans[0].Event.Ref = "blob://x"
	if req := plans[0].startRequest(); req.Input.Event != nil || req.Input.EventRef != "blob://x" {
		t.Errorf("offloaded event: %+v", req.Input)
	}
}
