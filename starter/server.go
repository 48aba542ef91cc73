package starter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/secflow/secflow/internal/metricsauth"
)

// Server is the starter HTTP service.
type Server struct {
	cfg      Config
	log      *slog.Logger
	launcher *Launcher
	metrics  *metrics
	auth     *authenticator
	limiter  *limiter
	handler  http.Handler

	schedMu sync.Mutex
	// schedKnown are schedule IDs this process created or saw, so deletions
	// do not depend on (eventually consistent) schedule listing alone.
	schedKnown  map[string]bool
	defsChanged chan struct{}
}

// New validates cfg, applies defaults and builds the server. It does not
// listen: serve Handler with your own http.Server, or call ListenAndServe.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg,
		log: cfg.Logger.With("component", "starter"),
		launcher: &Launcher{
			Client: cfg.Client, Namespace: cfg.Namespace, TaskQueue: cfg.TaskQueue,
			DataConverter: cfg.DataConverter, Timeout: cfg.StartTimeout,
		},
		metrics:     newMetrics(cfg.Registerer),
		auth:        newAuthenticator(cfg.Auth),
		limiter:     newLimiter(cfg.RateLimit),
		schedKnown:  map[string]bool{},
		defsChanged: make(chan struct{}, 1),
	}
	if !cfg.Auth.Enabled() {
		s.log.Warn("starter API is unauthenticated: configure bearer tokens or an HMAC secret outside development")
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/alerts", s.api("alerts", s.handleAlerts))
	mux.Handle("POST /api/v1/events/{type}", s.api("events", s.handleEvent))
	mux.Handle("POST /api/v1/workflows/{id}/run", s.api("run", s.handleManualRun))
	mux.Handle("GET /api/v1/runs", s.api("runs", s.handleRuns))
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", metricsauth.Require(cfg.MetricsToken, promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	s.handler = mux
	return s, nil
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAndServe serves Handler on addr (HTTPS when Config.TLS is set) until
// ctx is cancelled, then shuts down gracefully: it stops accepting, lets
// in-flight requests finish (their Temporal starts included) for up to
// grace, and returns.
func (s *Server) ListenAndServe(ctx context.Context, addr string, grace time.Duration) error {
	tlsCfg, err := s.cfg.TLS.Load()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("starter: listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if err := Serve(ctx, srv, ln, grace); err != nil {
		return fmt.Errorf("starter: %w", err)
	}
	return nil
}

// Serve serves srv on ln (HTTPS with srv.TLSConfig's certificates when it
// is set) until ctx is done, then shuts srv down gracefully: it stops
// accepting and lets in-flight requests finish for up to grace. It is the
// serve-and-shutdown loop of ListenAndServe, for other secflow HTTP
// services (the codec server) to share.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// request is what the API middleware hands a handler.
type request struct {
	r        *http.Request
	body     []byte
	received time.Time
	log      *slog.Logger
	// signature is the verified HMAC signature (hex) when the request was
	// authenticated by its body signature; empty otherwise.
	signature string
}

// apiError is an error answer.
type apiError struct {
	code       int
	reason     string // metric label and "reason" field
	msg        string
	retryAfter time.Duration
	extra      map[string]any
}

func (e *apiError) Error() string { return e.msg }

func errorf(code int, reason, format string, args ...any) *apiError {
	return &apiError{code: code, reason: reason, msg: fmt.Sprintf(format, args...)}
}

// api wraps an /api/ handler: rate limit, body limit, authentication,
// metrics and the JSON answer. h returns the status and value to encode.
func (s *Server) api(endpoint string, h func(*request) (int, any, *apiError)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received := s.cfg.Now()
		code := s.serveAPI(w, r, endpoint, received, h)
		s.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
	})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, endpoint string, received time.Time,
	h func(*request) (int, any, *apiError)) int {
	fail := func(e *apiError) int {
		if e.code < 500 {
			s.metrics.rejected.WithLabelValues(e.reason).Inc()
		}
		if e.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
		}
		body := map[string]any{"error": e.msg, "reason": e.reason}
		for k, v := range e.extra {
			body[k] = v
		}
		writeJSON(w, e.code, body)
		return e.code
	}
	if endpoint == "alerts" {
		s.metrics.alertRequests.Inc()
	}
	if ok, wait := s.limiter.allow(s.limiter.clientKey(r), received); !ok {
		e := errorf(http.StatusTooManyRequests, "rate_limited", "rate limit exceeded for this client; retry later")
		e.retryAfter = wait
		return fail(e)
	}
	// Decide on bearer tokens before reading the body, so unauthenticated
	// clients cannot make the server buffer large bodies; only a signed
	// request needs its body to be checked.
	signed := s.cfg.Auth.HMACSecret != "" && r.Header.Get(s.cfg.Auth.SignatureHeader) != ""
	unauthenticated := func(why string) int {
		w.Header().Set("WWW-Authenticate", `Bearer realm="secflow"`)
		s.log.Warn("request not authenticated", "endpoint", endpoint, "remote", r.RemoteAddr, "reason", why)
		return fail(errorf(http.StatusUnauthorized, "unauthenticated", "%s", why))
	}
	if !signed {
		if why := s.auth.check(r, nil, received); why != "" {
			return unauthenticated(why)
		}
	} else if why := s.auth.precheck(r, received); why != "" {
		return unauthenticated(why)
	}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fail(errorf(http.StatusRequestEntityTooLarge, "body_too_large",
				"request body larger than %d bytes", s.cfg.MaxBodyBytes))
		}
		if err != nil {
			return fail(errorf(http.StatusBadRequest, "read_error", "reading request body: %v", err))
		}
	}
	var signature string
	if signed {
		if why := s.auth.check(r, body, received); why != "" {
			return unauthenticated(why)
		}
		if !s.auth.bearerOK(r) {
			signature = normalizedSignature(r.Header.Get(s.cfg.Auth.SignatureHeader))
		}
	}
	req := &request{r: r, body: body, received: received, log: s.log.With("endpoint", endpoint), signature: signature}
	code, v, apiErr := h(req)
	elapsed := s.cfg.Now().Sub(received)
	w.Header().Set("Server-Timing", fmt.Sprintf("start;dur=%.3f", float64(elapsed.Microseconds())/1000))
	if apiErr != nil {
		return fail(apiErr)
	}
	s.metrics.intakeLatency.WithLabelValues(endpoint).Observe(elapsed.Seconds())
	writeJSON(w, code, v)
	return code
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, reason, msg string) {
	writeJSON(w, code, map[string]any{"error": msg, "reason": reason})
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// handleReadyz answers 200 when Temporal answers a health check.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if _, err := s.cfg.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": "temporal: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
}

// runURL links a run's page in the Temporal UI ("" without UIBaseURL).
func (s *Server) runURL(workflowID, runID string) string {
	if s.cfg.UIBaseURL == "" || workflowID == "" {
		return ""
	}
	u := fmt.Sprintf("%s/namespaces/%s/workflows/%s", trimSlash(s.cfg.UIBaseURL),
		url.PathEscape(s.cfg.Namespace), url.PathEscape(workflowID))
	if runID != "" {
		u += "/" + url.PathEscape(runID) + "/history"
	}
	return u
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
