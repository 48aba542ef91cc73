package jira

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/sandbox"
)

// TestRedirectDoesNotCarryCredentials: go-jira's BasicAuthTransport adds the
// API token to every request, so a redirect to another host must not be
// followed (the token would be handed to that host).
func TestRedirectDoesNotCarryCredentials(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	srv := activitytest.RedirectAway(t, http.StatusTemporaryRedirect, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	rt := activitytest.Runtime("jira", srv)
	if _, err := Run(bg, rt, pushInput()); err == nil {
		t.Fatal("expected an error")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) != 0 {
		t.Fatalf("redirect followed to another host with Authorization %q", leaked)
	}
}

// TestResponseBodyCapped: a success answer over the cap fails the step
// instead of being buffered whole.
func TestResponseBodyCapped(t *testing.T) {
	fake := sandbox.NewJira().Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/search") {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"issues":[],"pad":"`))
			w.Write([]byte(strings.Repeat("x", 11<<20)))
			w.Write([]byte(`"}`))
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rt := activitytest.Runtime("jira", srv.URL)
	_, err := Run(bg, rt, pushInput())
	if err == nil || !strings.Contains(err.Error(), "maxContentLength") {
		t.Fatalf("err = %v", err)
	}
}
