package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func pdPost(t *testing.T, srv *httptest.Server, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/v2/enqueue", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestPagerDutyEnqueue(t *testing.T) {
	fake := NewPagerDuty()
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	rk := `"routing_key":"` + PagerDutyRoutingKey + `"`
	trigger := `{` + rk + `,"event_action":"trigger","dedup_key":"k1","payload":{"summary":"s","source":"h","severity":"critical"}}`
	cases := []struct {
		name    string
		body    string
		status  int
		errPart string
	}{
		{"missing routing key", `{"event_action":"trigger"}`, 400, "routing_key"},
		{"short routing key", `{"routing_key":"abc","event_action":"trigger"}`, 400, "32 characters"},
		{"unknown routing key", `{"routing_key":"` + strings.Repeat("x", 32) + `","event_action":"trigger"}`, 400, "Invalid routing key"},
		{"bad action", `{` + rk + `,"event_action":"explode"}`, 400, "event_action"},
		{"trigger without payload", `{` + rk + `,"event_action":"trigger"}`, 400, "payload.summary"},
		{"bad severity", `{` + rk + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"high"}}`, 400, "severity"},
		{"resolve without key", `{` + rk + `,"event_action":"resolve"}`, 400, "dedup_key"},
		{"trigger", trigger, 202, ""},
		{"trigger again (dedup)", trigger, 202, ""},
		{"acknowledge", `{` + rk + `,"event_action":"acknowledge","dedup_key":"k1"}`, 202, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := pdPost(t, srv, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d (%v)", status, c.status, out)
			}
			if c.status == 202 {
				if out["status"] != "success" || out["message"] != "Event processed" || out["dedup_key"] != "k1" {
					t.Fatalf("answer %v", out)
				}
				return
			}
			b, _ := json.Marshal(out["errors"])
			if out["status"] != "invalid event" || !strings.Contains(string(b), c.errPart) {
				t.Fatalf("answer %v, want error containing %q", out, c.errPart)
			}
		})
	}
	alerts := fake.Alerts()
	if len(alerts) != 1 || alerts[0].Events != 3 || alerts[0].Status != "acknowledged" {
		t.Fatalf("alerts = %+v (a repeated trigger must not open a second alert)", alerts)
	}
	pdPost(t, srv, `{`+rk+`,"event_action":"resolve","dedup_key":"k1"}`)
	pdPost(t, srv, trigger)
	if alerts := fake.Alerts(); len(alerts) != 2 || alerts[0].Status != "resolved" || alerts[1].Status != "triggered" {
		t.Fatalf("after resolve + trigger: %+v", alerts)
	}
	_, out := pdPost(t, srv, `{`+rk+`,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`)
	if k, _ := out["dedup_key"].(string); len(k) != 32 {
		t.Fatalf("generated dedup key = %v", out)
	}
}
