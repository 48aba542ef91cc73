package kibana

import (
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

func setup(t *testing.T) (*sandbox.Sandbox, *sandbox.Kibana, step.Runtime) {
	t.Helper()
	sb, rt := activitytest.Sandbox(t)
	return sb, sb.Service("kibana").(*sandbox.Kibana), rt
}

func run(t *testing.T, rt step.Runtime, in step.Input) (any, error) {
	t.Helper()
	return activitytest.Run(t, rt, in, sandbox.KibanaAPIKey)
}

func lastRequest(sb *sandbox.Sandbox) sandbox.Request {
	r := sb.ReceivedBy("kibana")
	return r[len(r)-1]
}

func TestRequest(t *testing.T) {
	sb, _, rt := setup(t)
	out, err := run(t, rt, step.Input{Type: "kibana.request", SpaceID: "soc", With: map[string]any{
		"method": "get", "path": "/api/status", "query": map[string]any{"v8format": true},
		"headers": map[string]any{"x-custom": "a", "kbn-xsrf": "caller-value"}, "debug": true}})
	if err != nil {
		t.Fatal(err)
	}
	m := out.(map[string]any)
	if m["name"] != "sandbox" || m["_debug"].(map[string]any)["method"] != "GET" ||
		!strings.HasSuffix(m["_debug"].(map[string]any)["fullUrl"].(string), "/api/status?v8format=true") {
		t.Fatalf("output = %v", m)
	}
	r := lastRequest(sb)
	// Raw paths are used as written (no space prefix); required headers win.
	if r.Method != "GET" || r.Path != "/api/status" || r.Query != "v8format=true" || r.Header["Kbn-Xsrf"] != "true" ||
		r.Header["X-Custom"] != "a" || r.Header["X-Elastic-Internal-Origin"] != "Kibana" || r.Header["Authorization"] != "ApiKey ****" {
		t.Fatalf("request = %+v", r)
	}
	_, err = run(t, rt, step.Input{Type: "kibana.request", With: map[string]any{"method": "POST", "path": "/api/nope", "body": map[string]any{}}})
	se := step.AsError(err)
	if se.Message != `HTTP 404: {"error":"Not Found","message":"Not Found","statusCode":404}` || se.Retryable {
		t.Fatalf("404: %+v", se)
	}
}

func TestRequestClassification(t *testing.T) {
	_, fake, rt := setup(t)
	fake.Inject("/api/status", 503, "6", "", 1)
	_, err := run(t, rt, step.Input{Type: "kibana.request", With: map[string]any{"path": "/api/status"}})
	if se := step.AsError(err); !se.Retryable || se.RetryAfter != 6*time.Second {
		t.Fatalf("503: %+v", se)
	}
	fake.Inject("/api/status", 400, "", "", 1)
	_, err = run(t, rt, step.Input{Type: "kibana.request", With: map[string]any{"path": "/api/status"}})
	if se := step.AsError(err); se.Retryable {
		t.Fatalf("400: %+v", se)
	}
}

func TestAlerts(t *testing.T) {
	sb, fake, rt := setup(t)
	out, err := run(t, rt, step.Input{Type: "kibana.SetAlertsStatus", With: map[string]any{
		"status": "closed", "signal_ids": []any{"a1", "a2"}, "reason": "false_positive"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.(map[string]any)["updated"] != 2.0 {
		t.Fatalf("output = %v", out)
	}
	r := lastRequest(sb)
	if r.Method != "POST" || r.Path != "/api/detection_engine/signals/status" ||
		r.Body != `{"reason":"false_positive","signal_ids":["a1","a2"],"status":"closed"}` {
		t.Fatalf("request = %+v", r)
	}
	if a, _ := fake.Alert("a2"); a.Status != "closed" {
		t.Fatalf("alert = %+v", a)
	}
	_, err = run(t, rt, step.Input{Type: "kibana.SetAlertTags", SpaceID: "soc", With: map[string]any{
		"ids": []any{"a1"}, "tags": map[string]any{"tags_to_add": []any{"Triaged as TP"}, "tags_to_remove": []any{}}}})
	if err != nil {
		t.Fatal(err)
	}
	r = lastRequest(sb)
	if r.Path != "/s/soc/api/detection_engine/signals/tags" || r.Body != `{"ids":["a1"],"tags":{"tags_to_add":["Triaged as TP"],"tags_to_remove":[]}}` {
		t.Fatalf("request = %+v", r)
	}
	if a, _ := fake.Alert("a1"); len(a.Tags) != 1 || a.Tags[0] != "Triaged as TP" {
		t.Fatalf("alert = %+v", a)
	}
	_, err = run(t, rt, step.Input{Type: "kibana.SetAlertsStatus", With: map[string]any{"status": "bogus", "signal_ids": []any{"a1"}}})
	if se := step.AsError(err); se == nil || se.Retryable || !strings.HasPrefix(se.Message, "HTTP 400:") {
		t.Fatalf("bad status: %+v", se)
	}
}
