package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/secflow/secflow/internal/metricsauth"
	"github.com/secflow/secflow/internal/sdkmetrics"
	"github.com/secflow/secflow/interpreter/step"
)

// Step outcomes, the values of the outcome label of the step metrics.
const (
	// OutcomeSucceeded: the step returned an output.
	OutcomeSucceeded = "succeeded"
	// OutcomeFailed: a non-retryable step error (the interpreter applies
	// on-failure or parks the run for an operator).
	OutcomeFailed = "failed"
	// OutcomeRetryable: a transient step error; Temporal retries the
	// activity per the step's retry policy.
	OutcomeRetryable = "failed_retryable"
	// OutcomeTimedOut: the activity's deadline (start-to-close timeout)
	// passed while the step ran.
	OutcomeTimedOut = "timed_out"
	// OutcomeCancelled: the run (or the step) was cancelled while it ran.
	OutcomeCancelled = "cancelled"
)

// Metrics are the worker's Prometheus metrics: the Temporal SDK's
// (temporal_*, fed through SDKHandler, which must be the worker client's
// client.Options.MetricsHandler) and secflow's own step metrics
// (secflow_worker_*, recorded by Interceptor, which must be in
// Config.Options.Interceptors), on one registry with the Go and process
// collectors.
//
// Step metrics are labelled by step type and outcome only: never by run,
// step name, connector or any step input or output, so their cardinality is
// bounded by the step types the definitions use times five outcomes.
type Metrics struct {
	registry *prometheus.Registry
	sdk      *sdkmetrics.Collector
	steps    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics creates the worker's metrics on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), sdk: sdkmetrics.New(sdkmetrics.Options{})}
	m.steps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secflow_worker_steps_total",
		Help: "Activity step executions (attempts) by step type and outcome (succeeded, failed, failed_retryable, timed_out, cancelled).",
	}, []string{"step_type", "outcome"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "secflow_worker_step_duration_seconds",
		Help:    "Duration of one activity step execution (attempt) by step type, any outcome.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
	}, []string{"step_type"})
	m.registry.MustRegister(m.sdk, m.steps, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry the metrics are on; register more collectors on
// it to serve them on the same endpoint (`secflow dev` adds the starter's).
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// SDKHandler is the Temporal SDK metrics handler to set as
// client.Options.MetricsHandler of the worker's client.
func (m *Metrics) SDKHandler() client.MetricsHandler { return m.sdk.Handler() }

// Interceptor returns the worker interceptor recording the step metrics of
// every activity whose type is an activity step type of reg (nil:
// step.Default()). secflow's own activities (secflow.loadDefinition,
// secflow.fetchBlob, secflow.storeBlob) are not steps and not counted here
// (the SDK's temporal_activity_* and temporal_local_activity_* metrics
// cover them).
func (m *Metrics) Interceptor(reg *step.Registry) interceptor.WorkerInterceptor {
	if reg == nil {
		reg = step.Default()
	}
	return &stepMetrics{m: m, reg: reg}
}

// HTTPHandler serves GET /metrics (guarded by token when it is not empty,
// see internal/metricsauth) and GET /healthz (always open; 200 "ok" while
// the process runs).
func (m *Metrics) HTTPHandler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsauth.Require(token, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Listen serves HTTPHandler(token) on addr (host:port; port 0 picks a free
// one) until ctx is done, and returns the address it listens on. A busy
// address is an error here, before anything else starts.
func (m *Metrics) Listen(ctx context.Context, addr, token string, log *slog.Logger) (net.Addr, error) {
	if log == nil {
		log = slog.Default()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           m.HTTPHandler(token),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}

// observe records one step execution.
func (m *Metrics) observe(stepType, outcome string, d time.Duration) {
	m.steps.WithLabelValues(stepType, outcome).Inc()
	m.duration.WithLabelValues(stepType).Observe(d.Seconds())
}

// stepMetrics is the worker interceptor of Metrics.Interceptor.
type stepMetrics struct {
	interceptor.WorkerInterceptorBase
	m   *Metrics
	reg *step.Registry
}

func (s *stepMetrics) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	a := &stepMetricsActivity{s: s}
	a.Next = next
	return a
}

// isStep reports whether an activity type is an activity step of the
// registry (secflow's internal activities are not, even where the generic
// connector spec "*" would accept their names).
func (s *stepMetrics) isStep(typ string) bool {
	if strings.HasPrefix(typ, "secflow.") {
		return false
	}
	spec, ok := s.reg.Lookup(typ)
	return ok && spec.Kind == step.KindActivity
}

type stepMetricsActivity struct {
	interceptor.ActivityInboundInterceptorBase
	s *stepMetrics
}

// ExecuteActivity times the activity and records its outcome (activity
// code: the wall clock is fine here).
func (a *stepMetricsActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	typ := activity.GetInfo(ctx).ActivityType.Name
	if !a.s.isStep(typ) {
		return a.Next.ExecuteActivity(ctx, in)
	}
	start := time.Now()
	out, err := a.Next.ExecuteActivity(ctx, in)
	a.s.m.observe(typ, stepOutcome(ctx, err), time.Since(start))
	return out, err
}

// stepOutcome classifies a step activity's result into the fixed outcome
// set: the activity context says timed out or cancelled; otherwise the
// ApplicationError the activity wrapper (bind) made of the step error says
// whether Temporal retries it (any other error is retried).
func stepOutcome(ctx context.Context, err error) string {
	if err == nil {
		return OutcomeSucceeded
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return OutcomeTimedOut
	case ctx.Err() != nil || temporal.IsCanceledError(err):
		return OutcomeCancelled
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.NonRetryable() {
		return OutcomeFailed
	}
	return OutcomeRetryable // Temporal retries any other error
}
