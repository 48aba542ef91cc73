package starter

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the starter's Prometheus series (all prefixed secflow_starter_).
type metrics struct {
	registry         *prometheus.Registry
	requests         *prometheus.CounterVec   // endpoint, code
	alertRequests    prometheus.Counter       // POSTs to /api/v1/alerts
	alertsNormalised *prometheus.CounterVec   // format: alert documents accepted
	rejected         *prometheus.CounterVec   // reason: requests refused
	unmatched        prometheus.Counter       // alert and trigger events no definition matched
	runs             *prometheus.CounterVec   // trigger, status (started|duplicate)
	startFailures    *prometheus.CounterVec   // trigger, reason (unavailable|too_large|error)
	startLatency     prometheus.Histogram     // one Temporal start RPC
	intakeLatency    *prometheus.HistogramVec // endpoint: received → every start acknowledged
	schedules        *prometheus.CounterVec   // action (created|updated|deleted|paused|unpaused|error)
}

func newMetrics(extra prometheus.Registerer) *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secflow_starter_http_requests_total", Help: "HTTP requests by endpoint and status code.",
	}, []string{"endpoint", "code"})
	m.alertRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "secflow_starter_alert_requests_received_total", Help: "Alert deliveries received on /api/v1/alerts.",
	})
	m.alertsNormalised = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secflow_starter_alerts_normalised_total", Help: "Alert documents normalised to the alert event, by body format.",
	}, []string{"format"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secflow_starter_requests_rejected_total", Help: "Requests refused with a 4xx, by reason.",
	}, []string{"reason"})
	m.unmatched = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "secflow_starter_events_unmatched_total", Help: "Alert events and trigger events (/api/v1/events) that matched no definition.",
	})
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secflow_starter_runs_total", Help: "Runs requested, by trigger and outcome (started or duplicate).",
	}, []string{"trigger", "status"})
	m.startFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secflow_starter_start_failures_total", Help: "Starts that failed, by trigger and reason.",
	}, []string{"trigger", "reason"})
	m.startLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "secflow_starter_start_latency_seconds", Help: "Latency of one Temporal workflow start (retries included).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	m.intakeLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "secflow_starter_intake_latency_seconds", Help: "Request received → every run start acknowledged by Temporal.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"endpoint"})
	m.schedules = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secflow_starter_schedule_changes_total", Help: "Schedule reconciliation actions.",
	}, []string{"action"})
	cs := []prometheus.Collector{m.requests, m.alertRequests, m.alertsNormalised, m.rejected, m.unmatched,
		m.runs, m.startFailures, m.startLatency, m.intakeLatency, m.schedules}
	m.registry.MustRegister(cs...)
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if extra != nil {
		for _, c := range cs {
			_ = extra.Register(c) // already registered (a second Server): keep the first
		}
	}
	return m
}
