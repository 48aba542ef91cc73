package cli

import (
	"context"
	"flag"
	"log/slog"

	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/secflow/secflow/internal/metricsauth"
	"github.com/secflow/secflow/internal/temporalclient"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/worker"
)

// metricsFlags are the metrics flags of worker (--metrics-listen,
// --metrics-token), starter and dev (--metrics-token).
type metricsFlags struct {
	listen string
	token  string
}

// addMetricsFlags registers --metrics-token, and --metrics-listen when
// listen is set (the worker has no other HTTP listener).
func addMetricsFlags(fs *flag.FlagSet, listen bool) *metricsFlags {
	m := &metricsFlags{}
	if listen {
		fs.StringVar(&m.listen, "metrics-listen", env("SECFLOW_METRICS_LISTEN", ""), "serve Prometheus metrics (Temporal SDK + secflow steps) on /metrics and /healthz at this `address`, e.g. 127.0.0.1:9090 (env SECFLOW_METRICS_LISTEN); empty: off")
	}
	fs.StringVar(&m.token, "metrics-token", env(metricsauth.EnvToken, ""), "require \"Authorization: Bearer <`token`>\" on /metrics (prefer env "+metricsauth.EnvToken+": flags show in ps); empty: /metrics is open")
	return m
}

// serveWorker starts the worker's metrics listener when --metrics-listen is
// set: the SDK metrics handler goes into topts (so set before dialling) and
// the returned worker options carry the step metrics interceptor. Off, it
// returns zero options.
func (m *metricsFlags) serveWorker(ctx context.Context, topts *temporalclient.Options, reg *step.Registry, log *slog.Logger) (sdkworker.Options, error) {
	if m.listen == "" {
		return sdkworker.Options{}, nil
	}
	wm := worker.NewMetrics()
	addr, err := wm.Listen(ctx, m.listen, m.token, log.With("component", "metrics"))
	if err != nil {
		return sdkworker.Options{}, err
	}
	topts.MetricsHandler = wm.SDKHandler()
	log.Info("worker metrics listening", "url", "http://"+addr.String()+"/metrics", "token", m.token != "")
	return sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{wm.Interceptor(reg)}}, nil
}
