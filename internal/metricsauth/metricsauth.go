// Package metricsauth guards a metrics endpoint with an optional bearer
// token (SECFLOW_METRICS_TOKEN): the starter's and the worker's /metrics.
// Without a token the endpoint stays open, the usual setup for Prometheus
// scraping on an internal network.
package metricsauth

import (
	"net/http"

	"github.com/secflow/secflow/internal/bearer"
)

// EnvToken is the environment variable holding the metrics bearer token.
const EnvToken = "SECFLOW_METRICS_TOKEN"

// Require returns h guarded by token: a request without the header
// "Authorization: Bearer <token>" gets 401 and h is not called. The
// comparison is constant-time (bearer.Tokens: over SHA-256 digests, so
// neither the content nor the length of the token leaks through timing). An
// empty token returns h unchanged (open endpoint).
func Require(token string, h http.Handler) http.Handler {
	tokens := bearer.New(token)
	if len(tokens) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tokens.Authorized(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "unauthorized: metrics need Authorization: Bearer <SECFLOW_METRICS_TOKEN>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
