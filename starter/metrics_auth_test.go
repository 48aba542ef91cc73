package starter

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
)

// TestMetricsToken: with Config.MetricsToken, GET /metrics needs the bearer
// token; /healthz stays open; without one /metrics is open. The API
// tokens do not open /metrics and the metrics token does not open the API.
func TestMetricsToken(t *testing.T) {
	c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	newServer := func(metricsToken string) http.Handler {
		s, err := New(Config{Client: c, Definitions: newMemDefs(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Auth: AuthConfig{BearerTokens: []string{"api-token"}}, MetricsToken: metricsToken})
		if err != nil {
			t.Fatal(err)
		}
		return s.Handler()
	}
	open, guarded := newServer(""), newServer("metrics-token")
	for _, tc := range []struct {
		name   string
		h      http.Handler
		method string
		path   string
		auth   string
		want   int
	}{
		{"open by default", open, "GET", "/metrics", "", http.StatusOK},
		{"no token sent", guarded, "GET", "/metrics", "", http.StatusUnauthorized},
		{"wrong token", guarded, "GET", "/metrics", "Bearer metrics-tokeN", http.StatusUnauthorized},
		{"API token does not open /metrics", guarded, "GET", "/metrics", "Bearer api-token", http.StatusUnauthorized},
		{"metrics token", guarded, "GET", "/metrics", "Bearer metrics-token", http.StatusOK},
		{"healthz stays open", guarded, "GET", "/healthz", "", http.StatusOK},
		{"metrics token does not open the API", guarded, "GET", "/api/v1/runs", "Bearer metrics-token", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("%s %s: %d, want %d: %s", tc.method, tc.path, w.Code, tc.want, w.Body)
			}
			gotMetrics := strings.Contains(w.Body.String(), "secflow_starter_")
			if wantMetrics := tc.path == "/metrics" && tc.want == http.StatusOK; gotMetrics != wantMetrics {
				t.Errorf("metrics in the body = %t, want %t", gotMetrics, wantMetrics)
			}
		})
	}
}
