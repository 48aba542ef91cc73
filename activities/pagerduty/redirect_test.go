package pagerduty

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/sandbox"
)

// TestRedirectDoesNotReplayRoutingKey: a 307/308 makes Go replay the POST
// body, which holds the routing key; a redirect to another host must not be
// followed.
func TestRedirectDoesNotReplayRoutingKey(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := activitytest.RedirectAway(t, http.StatusPermanentRedirect, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"status":"success","dedup_key":"x"}`))
	}))
	rt := activitytest.Runtime("pagerduty", srv)
	if _, err := Run(bg, rt, input(map[string]any{"summary": "s", "severity": "error"})); err == nil {
		t.Fatal("expected an error")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bodies {
		if strings.Contains(b, sandbox.PagerDutyRoutingKey) {
			t.Fatalf("routing key replayed to another host: %s", b)
		}
	}
	if len(bodies) != 0 {
		t.Fatalf("redirect followed: %d requests", len(bodies))
	}
}

// TestResponseBodyCapped: an oversized success answer fails the step.
func TestResponseBodyCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"status":"success","dedup_key":"x","message":"`))
		w.Write([]byte(strings.Repeat("x", 11<<20)))
		w.Write([]byte(`"}`))
	}))
	t.Cleanup(srv.Close)
	rt := activitytest.Runtime("pagerduty", srv.URL)
	if _, err := Run(bg, rt, input(map[string]any{"summary": "s", "severity": "error"})); err == nil {
		t.Fatal("an 11 MiB answer was accepted")
	}
}
