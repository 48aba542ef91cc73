package pagerduty

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

type env struct {
	fake *sandbox.PagerDuty
	srv  *activitytest.Recorder
	rt   step.Runtime
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{fake: sandbox.NewPagerDuty()}
	e.srv = activitytest.Record(t, e.fake.Handler())
	e.rt = activitytest.Runtime("pagerduty", e.srv.URL)
	return e
}

func (e *env) requests() []activitytest.Request { return e.srv.Requests("", "") }

var bg = context.Background()

func input(with map[string]any) step.Input {
	return step.Input{Type: "pagerduty", Name: "page", Path: "page", IdempotencyKey: "wf-1/page", ConnectorID: "pagerduty", With: with}
}

func TestTriggerRequestAndOutput(t *testing.T) {
	e := newEnv(t)
	out, err := Run(bg, e.rt, input(map[string]any{
		"summary": "Malware on host-1", "severity": "critical", "source": "host-1", "component": "edr",
		"timestamp": "2024-05-01T10:00:00Z", "customDetails": map[string]any{"case": "c-1"},
		"links": []any{map[string]any{"href": "https://kibana/cases/c-1", "text": "case"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"status": "success", "message": "Event processed", "dedup_key": "wf-1/page"}
	if b1, b2 := mustJSON(out), mustJSON(want); b1 != b2 {
		t.Fatalf("output %s, want %s", b1, b2)
	}
	reqs := e.requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodPost || reqs[0].Path != "/v2/enqueue" ||
		reqs[0].ContentType != "application/json" || reqs[0].Auth != "" {
		t.Fatalf("request = %+v", reqs)
	}
	body := reqs[0].JSON()
	payload, _ := body["payload"].(map[string]any)
	if body["routing_key"] != sandbox.PagerDutyRoutingKey || body["event_action"] != "trigger" || body["dedup_key"] != "wf-1/page" ||
		payload["summary"] != "Malware on host-1" || payload["severity"] != "critical" || payload["source"] != "host-1" ||
		payload["component"] != "edr" || payload["timestamp"] != "2024-05-01T10:00:00.000Z" ||
		payload["custom_details"].(map[string]any)["case"] != "c-1" || len(body["links"].([]any)) != 1 {
		t.Fatalf("body = %v", body)
	}
	activitytest.NoSecrets(t, out, sandbox.PagerDutyRoutingKey)
}

func TestDefaultsAndAcknowledge(t *testing.T) {
	e := newEnv(t)
	if _, err := Run(bg, e.rt, input(nil)); err != nil {
		t.Fatal(err)
	}
	p := e.requests()[0].JSON()["payload"].(map[string]any)
	if p["summary"] != "No summary provided." || p["severity"] != "info" || p["source"] != "secflow connector pagerduty" {
		t.Fatalf("defaults = %v", p)
	}
	if _, err := Run(bg, e.rt, input(map[string]any{"eventAction": "acknowledge", "dedupKey": "wf-1/page"})); err != nil {
		t.Fatal(err)
	}
	if b := e.requests()[1].JSON(); b["payload"] != nil || b["event_action"] != "acknowledge" {
		t.Fatalf("acknowledge body = %v", b)
	}
	if a := e.fake.Alerts(); len(a) != 1 || a[0].Status != "acknowledged" {
		t.Fatalf("alerts = %+v", a)
	}
}

func TestRetryAfterLostAnswerOpensOneAlert(t *testing.T) {
	e := newEnv(t)
	in := input(map[string]any{"summary": "s", "severity": "error"})
	e.fake.LoseAnswer("/v2/enqueue")
	_, err := Run(bg, e.rt, in)
	if se := activitytest.StepError(t, err); !se.Retryable {
		t.Fatalf("lost answer must be retryable: %+v", se)
	}
	out, err := Run(bg, e.rt, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.(map[string]any)["dedup_key"] != "wf-1/page" {
		t.Fatalf("output = %v", out)
	}
	alerts := e.fake.Alerts()
	if len(alerts) != 1 || alerts[0].Events != 2 || alerts[0].DedupKey != "wf-1/page" {
		t.Fatalf("alerts = %+v (the retry must not open a second alert)", alerts)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name      string
		inject    int
		after     string
		with      map[string]any
		typ, msg  string
		retryable bool
		wait      time.Duration
	}{
		{"rate limited", 429, "12", nil, "ConnectorExecutionError", "error posting pagerduty event: http status 429, retry later", true, 12 * time.Second},
		{"unavailable", 503, "3", nil, "ConnectorExecutionError", "error posting pagerduty event: http status 503, retry later", true, 3 * time.Second},
		{"server error", 500, "", nil, "ConnectorExecutionError", "error posting pagerduty event: http status 500, retry later", true, 0},
		{"invalid event", 0, "", map[string]any{"summary": strings.Repeat("x", 2000)}, "ConnectorExecutionError", "error posting pagerduty event: unexpected status 400", false, 0},
		{"bad severity", 0, "", map[string]any{"severity": "high"}, "InputValidationError", "", false, 0},
		{"resolve without key", 0, "", map[string]any{"eventAction": "resolve"}, "InputValidationError", "pagerduty: DedupKey is required when eventAction is \"resolve\"", false, 0},
		{"bad timestamp", 0, "", map[string]any{"timestamp": "yesterday"}, "InputValidationError", "pagerduty: error parsing timestamp \"yesterday\"", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.inject != 0 {
				e.fake.Inject("/v2/", c.inject, c.after, "", 1)
			}
			_, err := Run(bg, e.rt, input(c.with))
			se := activitytest.StepError(t, err)
			if se.Type != c.typ || (c.msg != "" && se.Message != c.msg) || se.Retryable != c.retryable || se.RetryAfter != c.wait {
				t.Fatalf("error = %+v retryable=%v after=%v", se, se.Retryable, se.RetryAfter)
			}
			if c.name == "invalid event" {
				if errs, _ := se.Details["errors"].([]any); len(errs) != 1 || !strings.Contains(errs[0].(string), "summary") {
					t.Fatalf("details = %v", se.Details)
				}
			}
			activitytest.NoSecrets(t, err, sandbox.PagerDutyRoutingKey)
			if len(e.fake.Alerts()) != 0 {
				t.Fatal("no alert expected")
			}
		})
	}
}

func TestWrongRoutingKeyAndRefused(t *testing.T) {
	e := newEnv(t)
	t.Setenv("PD_TEST_KEY", "0123456789abcdef0123456789abcdef")
	store, err := connectors.NewStore(connectors.Def{ID: "pd2", Type: ".pagerduty", Config: map[string]any{"apiUrl": e.srv.URL + "/v2/enqueue"},
		Secrets: map[string]string{"routingKey": "${env:PD_TEST_KEY}"}})
	if err != nil {
		t.Fatal(err)
	}
	in := input(nil)
	in.ConnectorID = "pd2"
	_, err = Run(bg, connectors.NewRuntime(store, nil, nil), in)
	se := activitytest.StepError(t, err)
	if se.Retryable || se.Message != "error posting pagerduty event: unexpected status 400" {
		t.Fatalf("error = %+v", se)
	}
	activitytest.NoSecrets(t, err, "0123456789abcdef0123456789abcdef")

	e.srv.Close()
	_, err = Run(bg, e.rt, input(nil))
	if se := activitytest.StepError(t, err); se.Type != "ConnectionRefused" || !se.Retryable {
		t.Fatalf("refused: %+v", se)
	}
}

func TestDedupKeyHashesLongKeys(t *testing.T) {
	long := strings.Repeat("k", 300)
	if k := DedupKey(long); len(k) > maxDedupKey || !strings.HasPrefix(k, "secflow-") || k != DedupKey(long) {
		t.Fatalf("DedupKey(long) = %q", k)
	}
	if k := DedupKey("wf/step"); k != "wf/step" {
		t.Fatalf("DedupKey(short) = %q", k)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
