package starter

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/interpreter"
)

// startedRun reads the first history event of a run of workflowID (runID
// "": the latest run): the run input it recorded, decoded and as payloads.
func startedRun(t *testing.T, h *harness, workflowID, runID string) (interpreter.RunInput, *commonpb.Payloads) {
	t.Helper()
	it := h.env.Client.GetWorkflowHistory(context.Background(), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	payloads := first.GetWorkflowExecutionStartedEventAttributes().GetInput()
	var in interpreter.RunInput
	if err := converter.GetDefaultDataConverter().FromPayloads(payloads, &in); err != nil {
		t.Fatal(err)
	}
	return in, payloads
}

// startedInput is the run input recorded by the latest run of workflowID.
func startedInput(t *testing.T, h *harness, workflowID string) interpreter.RunInput {
	t.Helper()
	in, _ := startedRun(t, h, workflowID, "")
	return in
}

func caseEvent(id, severity string) []byte {
	b, _ := json.Marshal(map[string]any{"case": map[string]any{"id": id, "title": "Phishing " + id, "severity": severity}})
	return b
}

// TestIntegrationEventTriggerRouting: an event starts one run per enabled
// definition with a trigger of its type whose condition matches; the run
// gets the payload plus timestamp and spaceId, triggeredBy and TriggerType
// are the event type; no match is 200 with nothing started.
func TestIntegrationEventTriggerRouting(t *testing.T) {
	critical := def(uniq(t, "critical"), true, eventTrigger("cases.caseCreated", `event.case.severity: "critical"`, ""))
	anyCase := def(uniq(t, "anycase"), true, eventTrigger("cases.caseCreated", "", ""))
	other := def(uniq(t, "updated"), true, eventTrigger("cases.caseUpdated", "", ""))
	off := def(uniq(t, "off"), false, eventTrigger("cases.caseCreated", "", ""))
	received := time.Date(2026, 3, 1, 10, 0, 0, 250e6, time.UTC)
	h := newHarness(t, newMemDefs(critical, anyCase, other, off), func(c *Config) { c.Now = func() time.Time { return received } })
	caseID := uniq(t, "case")

	tests := []struct {
		name    string
		path    string
		body    []byte
		started []string // definitions
	}{
		{"critical case: both cases.caseCreated definitions", "/api/v1/events/cases.caseCreated?spaceId=soc",
			caseEvent(caseID, "critical"), []string{anyCase.ID, critical.ID}},
		{"low case: condition filters", "/api/v1/events/cases.caseCreated?spaceId=soc",
			caseEvent(caseID+"-low", "low"), []string{anyCase.ID}},
		{"type nobody listens to", "/api/v1/events/cases.caseDeleted", caseEvent(caseID, "critical"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := h.post(t, tc.path, tc.body, nil)
			if a.code != http.StatusOK || a.body["matched"] != float64(len(tc.started)) || a.body["started"] != float64(len(tc.started)) {
				t.Fatalf("answer %d %s, want %d started", a.code, a.raw, len(tc.started))
			}
			rs := runs(t, a)
			for i, d := range tc.started {
				if i >= len(rs) || rs[i]["definition"] != d || rs[i]["status"] != StatusStarted ||
					!strings.HasPrefix(rs[i]["workflowId"].(string), d+"/event/h-") {
					t.Errorf("runs = %v, want %v", rs, tc.started)
				}
			}
		})
	}

	// The run input and visibility of the critical run.
	a := h.post(t, "/api/v1/events/cases.caseCreated?spaceId=soc", caseEvent(caseID, "critical"), nil)
	rs := runs(t, a)
	if len(rs) != 2 || rs[1]["status"] != StatusDuplicate || rs[1]["definition"] != critical.ID {
		t.Fatalf("redelivery: %s", a.raw)
	}
	wid := rs[1]["workflowId"].(string)
	in := startedInput(t, h, wid)
	c, _ := in.Event["case"].(map[string]any)
	if in.TriggeredBy != "cases.caseCreated" || in.SpaceID != "soc" || c["id"] != caseID ||
		in.Event["timestamp"] != "2026-03-01T10:00:00.250Z" || in.Event["spaceId"] != "soc" || in.Definition == nil {
		t.Errorf("run input: triggeredBy %q space %q event %v", in.TriggeredBy, in.SpaceID, in.Event)
	}
	desc, err := h.env.Client.DescribeWorkflowExecution(context.Background(), wid, "")
	if err != nil {
		t.Fatal(err)
	}
	sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes()
	if keyword(sa, "TriggerType") != "cases.caseCreated" || keyword(sa, "WorkflowName") != critical.ID {
		t.Errorf("search attributes: TriggerType %q WorkflowName %q", keyword(sa, "TriggerType"), keyword(sa, "WorkflowName"))
	}
	var summary string
	if err := converter.GetDefaultDataConverter().FromPayload(desc.GetExecutionConfig().GetUserMetadata().GetSummary(), &summary); err != nil || summary != "cases.caseCreated event in space soc" {
		t.Errorf("summary %q (%v)", summary, err)
	}
}

// TestIntegrationEventTriggerExactlyOnce: the same payload delivered again
// (later, so with another receive time) finds the first run; an
// Idempotency-Key names the run instead of the payload.
func TestIntegrationEventTriggerExactlyOnce(t *testing.T) {
	d := def(uniq(t, "once"), true, eventTrigger("cases.caseCreated", "", ""))
	clock := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	h := newHarness(t, newMemDefs(d), func(c *Config) {
		c.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	})
	caseID := uniq(t, "case")
	key := uniq(t, "delivery")
	tests := []struct {
		name    string
		body    []byte
		headers map[string]string
		status  string
		wid     string // "" : any
	}{
		{"first delivery", caseEvent(caseID, "high"), nil, StatusStarted, ""},
		{"same payload again", caseEvent(caseID, "high"), nil, StatusDuplicate, ""},
		{"keyed delivery", caseEvent(caseID, "high"), map[string]string{"Idempotency-Key": key}, StatusStarted, d.ID + "/event/" + key},
		{"same key, other payload", caseEvent(caseID+"-other", "low"), map[string]string{"Idempotency-Key": key}, StatusDuplicate, d.ID + "/event/" + key},
	}
	var firstRun string
	for _, tc := range tests {
		a := h.post(t, "/api/v1/events/cases.caseCreated", tc.body, tc.headers)
		rs := runs(t, a)
		if a.code != http.StatusOK || len(rs) != 1 || rs[0]["status"] != tc.status || (tc.wid != "" && rs[0]["workflowId"] != tc.wid) {
			t.Fatalf("%s: %d %s, want %s %s", tc.name, a.code, a.raw, tc.status, tc.wid)
		}
		if tc.name == "first delivery" {
			firstRun = rs[0]["runId"].(string)
		}
		if tc.name == "same payload again" && rs[0]["runId"] != firstRun {
			t.Errorf("duplicate answered run %v, want %s", rs[0]["runId"], firstRun)
		}
	}
}

// TestIntegrationEventTriggerRejects: credentials are required, bad type,
// bad body and oversized events are 4xx, and nothing starts.
func TestIntegrationEventTriggerRejects(t *testing.T) {
	d := def(uniq(t, "guarded"), true, eventTrigger("cases.caseCreated", "", ""))
	h := newHarness(t, newMemDefs(d), func(c *Config) {
		c.Auth = AuthConfig{BearerTokens: []string{"right-token"}}
		c.MaxBodyBytes = 64 << 10
		c.MaxEventBytes = 4 << 10
	})
	auth := map[string]string{"Authorization": "Bearer right-token"}
	body := caseEvent(uniq(t, "case"), "critical")
	ev, err := NewTriggerEvent("cases.caseCreated", mustObject(t, body), "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	big := []byte(`{"pad":"` + strings.Repeat("x", 70<<10) + `"}`)
	large := []byte(`{"pad":"` + strings.Repeat("x", 5<<10) + `"}`)
	largeEv, err := NewTriggerEvent("cases.caseCreated", mustObject(t, large), "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		body    []byte
		headers map[string]string
		code    int
		reason  string
	}{
		{"no credentials", "/api/v1/events/cases.caseCreated", body, nil, 401, "unauthenticated"},
		{"wrong token", "/api/v1/events/cases.caseCreated", body, map[string]string{"Authorization": "Bearer wrong"}, 401, "unauthenticated"},
		{"type without a dot", "/api/v1/events/alert", body, auth, 400, "invalid_event_type"},
		{"type with bad characters", "/api/v1/events/cases.case%20created", body, auth, 400, "invalid_event_type"},
		{"empty body", "/api/v1/events/cases.caseCreated", nil, auth, 400, "empty"},
		{"malformed JSON", "/api/v1/events/cases.caseCreated", []byte(`{"case": `), auth, 400, "malformed"},
		{"two values", "/api/v1/events/cases.caseCreated", []byte(`{} {}`), auth, 400, "malformed"},
		{"not an object", "/api/v1/events/cases.caseCreated", []byte(`[1, 2]`), auth, 400, "unrecognised"},
		{"too deep", "/api/v1/events/cases.caseCreated", []byte(`{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`), auth, 400, "too_deep"},
		{"bad timestamp", "/api/v1/events/cases.caseCreated", []byte(`{"timestamp": "yesterday"}`), auth, 400, "invalid_timestamp"},
		{"conflicting spaces", "/api/v1/events/cases.caseCreated?spaceId=a", []byte(`{"spaceId": "b"}`), auth, 400, "invalid_space"},
		{"oversized body", "/api/v1/events/cases.caseCreated", big, auth, 413, "body_too_large"},
		{"event over the inline limit without a blob store", "/api/v1/events/cases.caseCreated", large, auth, 413, "event_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := h.post(t, tc.path, tc.body, tc.headers)
			if a.code != tc.code || a.body["reason"] != tc.reason || a.body["error"] == "" {
				t.Errorf("answer %d %s, want %d reason %s", a.code, a.raw, tc.code, tc.reason)
			}
		})
	}
	notStarted(t, h.env, EventWorkflowID(d.ID, ev.Key))
	notStarted(t, h.env, EventWorkflowID(d.ID, largeEv.Key))
	if a := h.post(t, "/api/v1/events/cases.caseCreated", body, auth); a.code != 200 || a.body["started"] != 1.0 {
		t.Errorf("with the token: %d %s", a.code, a.raw)
	}
}

// TestIntegrationEventTriggerLargeEventByReference: with a blob store, an
// event over the inline limit is passed by reference.
func TestIntegrationEventTriggerLargeEventByReference(t *testing.T) {
	d := def(uniq(t, "bigcase"), true, eventTrigger("cases.caseCreated", "", ""))
	blobs := blobstore.NewMemory()
	h := newHarness(t, newMemDefs(d), func(c *Config) { c.MaxEventBytes = 4 << 10; c.Blobs = blobs })
	large := []byte(`{"id": "` + uniq(t, "case") + `", "description":"` + strings.Repeat("x", 5<<10) + `"}`)
	a := h.post(t, "/api/v1/events/cases.caseCreated", large, nil)
	rs := runs(t, a)
	if a.code != 200 || len(rs) != 1 || rs[0]["status"] != StatusStarted {
		t.Fatalf("answer %d %s", a.code, a.raw)
	}
	in := startedInput(t, h, rs[0]["workflowId"].(string))
	if in.Event != nil || in.EventRef == "" {
		t.Fatalf("run input: event inline=%v ref=%q", in.Event != nil, in.EventRef)
	}
	stored, err := blobs.Get(context.Background(), in.EventRef)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(stored, &ev); err != nil || ev["spaceId"] != "default" || ev["timestamp"] == nil || len(stored) <= 4<<10 {
		t.Fatalf("stored event (%d bytes): %v %.200s", len(stored), err, stored)
	}
}

// TestIntegrationEventTriggerLoopProtection: an event sent by a run of a
// definition (origin header) does not start that definition again under the
// default avoid-loop, starts none under ignore, and starts it under
// allow-all.
func TestIntegrationEventTriggerLoopProtection(t *testing.T) {
	avoid := def(uniq(t, "avoid"), true, eventTrigger("cases.caseUpdated", "", ""))
	ignore := def(uniq(t, "ignore"), true, eventTrigger("cases.caseUpdated", "", "ignore"))
	allow := def(uniq(t, "allow"), true, eventTrigger("cases.caseUpdated", "", "allow-all"))
	h := newHarness(t, newMemDefs(avoid, ignore, allow), nil)
	tests := []struct {
		name    string
		origin  string
		started []string
		skipped []any
	}{
		{"not from a workflow", "", []string{allow.ID, avoid.ID, ignore.ID}, nil},
		{"from the avoid-loop definition", avoid.ID, []string{allow.ID}, []any{avoid.ID, ignore.ID}},
		{"from another workflow", "someone-else", []string{allow.ID, avoid.ID}, []any{ignore.ID}},
		{"from the allow-all definition", allow.ID, []string{allow.ID, avoid.ID}, []any{ignore.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers map[string]string
			if tc.origin != "" {
				headers = map[string]string{OriginHeader: tc.origin}
			}
			a := h.post(t, "/api/v1/events/cases.caseUpdated", caseEvent(uniq(t, "case"), "high"), headers)
			var got []string
			for _, r := range runs(t, a) {
				if r["status"] == StatusStarted {
					got = append(got, r["definition"].(string))
				}
			}
			skipped, _ := a.body["loopSkipped"].([]any)
			if a.code != 200 || strings.Join(got, ",") != strings.Join(tc.started, ",") || len(skipped) != len(tc.skipped) {
				t.Errorf("answer %d %s; want started %v, loopSkipped %v", a.code, a.raw, tc.started, tc.skipped)
			}
			for i := range tc.skipped {
				if i < len(skipped) && skipped[i] != tc.skipped[i] {
					t.Errorf("loopSkipped %v, want %v", skipped, tc.skipped)
				}
			}
		})
	}
}

func mustObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
