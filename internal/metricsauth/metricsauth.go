// Package metricsauth guards a metrics endpoint with an optional bearer
// token (SECFLOW_METRICS_TOKEN): the starter's and the worker's /metrics.
// Without a token the endpoint stays open, the usual setup for Prometheus
// scraping on an internal network.
package metricsauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// EnvToken is the environment variable holding the metrics bearer token.
const EnvToken = "SECFLOW_METRICS_TOKEN"

// Require returns h guarded by token: a request without the header
// "Authorization: Bearer <token>" gets 401 and h is not called. The
// comparison is constant-time (over SHA-256 digests, so neither the content
// nor the length of the token leaks through timing). An empty token
// returns h unchanged (open endpoint).
func Require(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "unauthorized: metrics need Authorization: Bearer <SECFLOW_METRICS_TOKEN>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bearer extracts the credentials of a Bearer Authorization header (the
// scheme is case-insensitive, RFC 7235).
func bearer(header string) (string, bool) {
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	return cred, cred != ""
}
