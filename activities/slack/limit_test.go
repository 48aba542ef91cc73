package slack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
)

// TestAPIResponseBodyCapped: slack-go reads whole answers; an oversized one
// must fail the step instead of being buffered without bound.
func TestAPIResponseBodyCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true,"channel":"C0SECOPS","ts":"1.2","messages":[],"pad":"`))
		w.Write([]byte(strings.Repeat("x", 11<<20)))
		w.Write([]byte(`"}`))
	}))
	t.Cleanup(srv.Close)
	rt := activitytest.Runtime("slack", srv.URL)
	_, err := RunAPI(bg, rt, input("slack_api", "slack-api", map[string]any{
		"subAction":       "postMessage",
		"subActionParams": map[string]any{"channelIds": []any{"C0SECOPS"}, "text": "hi"},
	}))
	if err == nil || !strings.Contains(err.Error(), "maxContentLength") {
		t.Fatalf("err = %v", err)
	}
}

// TestWebhookRedirectNotFollowed: the webhook URL is the secret; a redirect
// to another host must not be followed (Go sends the original URL as
// Referer, and a 307 replays the message).
func TestWebhookRedirectNotFollowed(t *testing.T) {
	var got []string
	srv := activitytest.RedirectAway(t, http.StatusTemporaryRedirect, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Referer"))
		w.Write([]byte("ok"))
	}))
	rt := activitytest.Runtime("slack", srv)
	_, err := RunWebhook(bg, rt, input("slack", "slack", map[string]any{"message": "hi"}))
	if err == nil || len(got) != 0 {
		t.Fatalf("redirect followed (err %v), other host saw Referer %q", err, got)
	}
}

// TestAPIHostAllowList: like the webhook, Jira and PagerDuty connectors, the
// Slack API connector's apiUrl must be in allowedHosts when a list is set.
func TestAPIHostAllowList(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	t.Cleanup(srv.Close)
	store := connectors.ForSandbox(map[string]string{"slack": srv.URL})
	store.SetAllowedHosts([]string{"slack.com"})
	rt := connectors.NewRuntime(store, nil, nil)
	_, err := RunAPI(bg, rt, input("slack_api", "slack-api", map[string]any{
		"subAction":       "postMessage",
		"subActionParams": map[string]any{"channelIds": []any{"C0SECOPS"}, "text": "hi"},
	}))
	if err == nil || !strings.Contains(err.Error(), "allowedHosts") || hits != 0 {
		t.Fatalf("err = %v, hits = %d", err, hits)
	}
}
