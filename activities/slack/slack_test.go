package slack

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
)

func TestWebhookPostsMessage(t *testing.T) {
	e := newEnv(t)
	out, err := RunWebhook(bg, e.rt, input("slack", "slack", map[string]any{"message": "Alert *fired*"}))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := out.(map[string]any); m["text"] != "ok" {
		t.Fatalf("output = %v", out)
	}
	reqs := e.requests(sandbox.SlackWebhookPath)
	if len(reqs) != 1 || reqs[0].Method != http.MethodPost || reqs[0].ContentType != "application/json" {
		t.Fatalf("requests = %+v", reqs)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(reqs[0].Body), &body); err != nil || body["text"] != "Alert *fired*" || len(body) != 1 {
		t.Fatalf("body = %s", reqs[0].Body)
	}
	if msgs := e.fake.Messages(); len(msgs) != 1 || !msgs[0].Webhook || msgs[0].Text != "Alert *fired*" {
		t.Fatalf("messages = %+v", msgs)
	}
	activitytest.NoSecrets(t, out, allSecrets...)
}

func TestWebhookErrors(t *testing.T) {
	cases := []struct {
		name       string
		inject     int
		retryAfter string
		with       map[string]any
		typ        string
		retryable  bool
		wait       time.Duration
	}{
		{"rate limited", 429, "7", map[string]any{"message": "x"}, "ConnectorExecutionError", true, 7 * time.Second},
		{"unavailable", 503, "", map[string]any{"message": "x"}, "ConnectorExecutionError", true, 0},
		{"server error", 500, "", map[string]any{"message": "x"}, "ConnectorExecutionError", true, 0},
		{"forbidden", 403, "", map[string]any{"message": "x"}, "ConnectorExecutionError", false, 0},
		{"no message", 0, "", map[string]any{}, "InputValidationError", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.inject != 0 {
				e.fake.Inject("/services/", c.inject, c.retryAfter, "", 1)
			}
			_, err := RunWebhook(bg, e.rt, input("slack", "slack", c.with))
			se := activitytest.StepError(t, err)
			if se.Type != c.typ || se.Retryable != c.retryable || se.RetryAfter != c.wait {
				t.Fatalf("error = %+v (retryable %v, after %v)", se, se.Retryable, se.RetryAfter)
			}
			activitytest.NoSecrets(t, err, allSecrets...)
			if len(e.fake.Messages()) != 0 {
				t.Fatal("nothing should be posted")
			}
		})
	}
}

func TestWebhookWrongURLAndRefused(t *testing.T) {
	e := newEnv(t)
	rt := runtimeWith(t, connectors.Def{ID: "hook", Type: ".slack"}, "webhookUrl", e.srv.URL+"/services/T1/B1/wrongsecretvalue")
	_, err := RunWebhook(bg, rt, input("slack", "hook", map[string]any{"message": "x"}))
	se := activitytest.StepError(t, err)
	if se.Retryable || se.Type != "ConnectorExecutionError" {
		t.Fatalf("error = %+v", se)
	}
	activitytest.NoSecrets(t, err, "wrongsecretvalue")

	closed := newEnv(t)
	closed.srv.Close()
	_, err = RunWebhook(bg, closed.rt, input("slack", "slack", map[string]any{"message": "x"}))
	se = activitytest.StepError(t, err)
	if se.Type != "ConnectionRefused" || !se.Retryable {
		t.Fatalf("refused: %+v", se)
	}
	activitytest.NoSecrets(t, err, allSecrets...)

	_, err = RunWebhook(bg, e.rt, input("slack", "nope", map[string]any{"message": "x"}))
	if se := activitytest.StepError(t, err); se.Message != "Connector nope not found" {
		t.Fatalf("unknown connector: %+v", se)
	}
}
