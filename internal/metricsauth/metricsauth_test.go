package metricsauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRequire(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("metrics")) })
	for _, tc := range []struct {
		name, token, header string
		want                int
	}{
		{"no token configured: open", "", "", http.StatusOK},
		{"no token configured: any header passes", "", "Bearer whatever", http.StatusOK},
		{"right token", "s3cret-token", "Bearer s3cret-token", http.StatusOK},
		{"scheme is case-insensitive", "s3cret-token", "bearer s3cret-token", http.StatusOK},
		{"missing header", "s3cret-token", "", http.StatusUnauthorized},
		{"wrong token", "s3cret-token", "Bearer s3cret-tokeN", http.StatusUnauthorized},
		{"prefix of the token", "s3cret-token", "Bearer s3cret", http.StatusUnauthorized},
		{"token with a suffix", "s3cret-token", "Bearer s3cret-token2", http.StatusUnauthorized},
		{"basic scheme", "s3cret-token", "Basic s3cret-token", http.StatusUnauthorized},
		{"bare token", "s3cret-token", "s3cret-token", http.StatusUnauthorized},
		{"empty bearer", "s3cret-token", "Bearer ", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			Require(tc.token, ok).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			if tc.want == http.StatusOK && rec.Body.String() != "metrics" {
				t.Errorf("body %q", rec.Body.String())
			}
			if tc.want == http.StatusUnauthorized {
				if rec.Body.String() == "metrics" || rec.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("401 leaked the metrics or lacks WWW-Authenticate: %q %v", rec.Body.String(), rec.Header())
				}
			}
		})
	}
}
