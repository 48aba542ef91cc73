package sdkmetrics

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"go.temporal.io/sdk/client"
)

// exposition gathers c on a fresh pedantic registry and returns the text
// exposition of the named families (all when none are named).
func exposition(t *testing.T, c prometheus.Collector, names ...string) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if len(names) > 0 && !slices.Contains(names, mf.GetName()) {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestCollector(t *testing.T) {
	for _, tc := range []struct {
		name  string
		emit  func(h client.MetricsHandler)
		names []string // metric names compared
		want  string
	}{
		{
			name: "counter with tags",
			emit: func(h client.MetricsHandler) {
				h = h.WithTags(map[string]string{"namespace": "default", "task_queue": "secflow"})
				h.Counter("temporal_request").Inc(1)
				h.Counter("temporal_request").Inc(2)
				h.WithTags(map[string]string{"task_queue": "other"}).Counter("temporal_request").Inc(5)
			},
			names: []string{"temporal_request"},
			want: `
# HELP temporal_request Temporal Go SDK counter temporal_request (see docs.temporal.io/references/sdk-metrics)
# TYPE temporal_request counter
temporal_request{namespace="default",task_queue="other"} 5
temporal_request{namespace="default",task_queue="secflow"} 3
`,
		},
		{
			name: "negative and zero counter increments are dropped",
			emit: func(h client.MetricsHandler) {
				c := h.Counter("temporal_workflow_completed")
				c.Inc(4)
				c.Inc(-3)
				c.Inc(0)
			},
			names: []string{"temporal_workflow_completed"},
			want: `
# HELP temporal_workflow_completed Temporal Go SDK counter temporal_workflow_completed (see docs.temporal.io/references/sdk-metrics)
# TYPE temporal_workflow_completed counter
temporal_workflow_completed 4
`,
		},
		{
			name: "gauge keeps the last value",
			emit: func(h client.MetricsHandler) {
				g := h.WithTags(map[string]string{"worker_type": "ActivityWorker"}).Gauge("temporal_worker_task_slots_available")
				g.Update(1000)
				g.Update(998)
			},
			names: []string{"temporal_worker_task_slots_available"},
			want: `
# HELP temporal_worker_task_slots_available Temporal Go SDK gauge temporal_worker_task_slots_available (see docs.temporal.io/references/sdk-metrics)
# TYPE temporal_worker_task_slots_available gauge
temporal_worker_task_slots_available{worker_type="ActivityWorker"} 998
`,
		},
		{
			name: "timer is a histogram in seconds",
			emit: func(h client.MetricsHandler) {
				tm := h.WithTags(map[string]string{"activity_type": "http"}).Timer("temporal_activity_execution_latency")
				tm.Record(500 * time.Millisecond) // on a bucket bound: counted in le="0.5"
				tm.Record(2 * time.Second)
				tm.Record(time.Hour + time.Second) // above every bound: +Inf only
			},
			names: []string{"temporal_activity_execution_latency"},
			want: `
# HELP temporal_activity_execution_latency Temporal Go SDK timer temporal_activity_execution_latency in seconds (see docs.temporal.io/references/sdk-metrics)
# TYPE temporal_activity_execution_latency histogram
temporal_activity_execution_latency_bucket{activity_type="http",le="0.1"} 0
temporal_activity_execution_latency_bucket{activity_type="http",le="0.5"} 1
temporal_activity_execution_latency_bucket{activity_type="http",le="1"} 1
temporal_activity_execution_latency_bucket{activity_type="http",le="5"} 2
temporal_activity_execution_latency_bucket{activity_type="http",le="+Inf"} 3
temporal_activity_execution_latency_sum{activity_type="http"} 3603.5
temporal_activity_execution_latency_count{activity_type="http"} 3
`,
		},
		{
			name: "label set is the union of tag keys, missing ones empty",
			emit: func(h client.MetricsHandler) {
				h = h.WithTags(map[string]string{"activity_type": "slack", "namespace": "default"})
				h.Counter("temporal_activity_execution_failed").Inc(1)
				h.WithTags(map[string]string{"failure_reason": "ActivityError"}).Counter("temporal_activity_execution_failed").Inc(2)
			},
			names: []string{"temporal_activity_execution_failed"},
			want: `
# HELP temporal_activity_execution_failed Temporal Go SDK counter temporal_activity_execution_failed (see docs.temporal.io/references/sdk-metrics)
# TYPE temporal_activity_execution_failed counter
temporal_activity_execution_failed{activity_type="slack",failure_reason="",namespace="default"} 1
temporal_activity_execution_failed{activity_type="slack",failure_reason="ActivityError",namespace="default"} 2
`,
		},
		{
			name: "WithTags overwrites a key and leaves the parent alone",
			emit: func(h client.MetricsHandler) {
				parent := h.WithTags(map[string]string{"workflow_type": "none"})
				parent.WithTags(map[string]string{"workflow_type": "triage"}).Counter("temporal_workflow_failed").Inc(1)
				parent.Counter("temporal_workflow_failed").Inc(7)
			},
			names: []string{"temporal_workflow_failed"},
			want: `
# HELP temporal_workflow_failed Temporal Go SDK counter temporal_workflow_failed (see docs.temporal.io/references/sdk-metrics)
# TYPE temporal_workflow_failed counter
temporal_workflow_failed{workflow_type="none"} 7
temporal_workflow_failed{workflow_type="triage"} 1
`,
		},
		{
			name: "names and label names are sanitised",
			emit: func(h client.MetricsHandler) {
				h.WithTags(map[string]string{"task-queue": "q", "9lives": "x"}).Counter("temporal.odd-name").Inc(1)
			},
			names: []string{"temporal_odd_name"},
			want: `
# HELP temporal_odd_name Temporal Go SDK counter temporal_odd_name (see docs.temporal.io/references/sdk-metrics)
# TYPE temporal_odd_name counter
temporal_odd_name{_9lives="x",task_queue="q"} 1
`,
		},
		{
			name: "a name keeps its first kind",
			emit: func(h client.MetricsHandler) {
				h.Counter("temporal_sticky_cache_size").Inc(1)
				h.Gauge("temporal_sticky_cache_size").Update(42)
				h.Timer("temporal_sticky_cache_size").Record(time.Second)
			},
			names: []string{"temporal_sticky_cache_size"},
			want: `
# HELP temporal_sticky_cache_size Temporal Go SDK counter temporal_sticky_cache_size (see docs.temporal.io/references/sdk-metrics)
# TYPE temporal_sticky_cache_size counter
temporal_sticky_cache_size 1
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Options{Buckets: []float64{5, 0.1, 0.5, 1}}) // unsorted on purpose
			tc.emit(c.Handler())
			if got, want := exposition(t, c, tc.names...), strings.TrimPrefix(tc.want, "\n"); got != want {
				t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestNoMetricsBeforeUse(t *testing.T) {
	c := New(Options{})
	if got := exposition(t, c); got != "" {
		t.Fatalf("exposition before any use:\n%s", got)
	}
	c.Handler().Timer("temporal_workflow_endtoend_latency").Record(time.Second)
	if got := exposition(t, c); !strings.Contains(got, "temporal_workflow_endtoend_latency_count 1\n") {
		t.Fatalf("exposition after one timer:\n%s", got)
	}
}

// TestGatherWithOtherCollectors registers the collector next to ordinary
// ones on one registry (as the worker does) and gathers concurrently with
// updates; run with -race.
func TestGatherWithOtherCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := New(Options{})
	other := prometheus.NewCounter(prometheus.CounterOpts{Name: "secflow_other_total", Help: "x"})
	reg.MustRegister(c, other)
	h := c.Handler().WithTags(map[string]string{"namespace": "default"})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				h.Counter("temporal_request").Inc(1)
				h.Timer("temporal_request_latency").Record(time.Duration(i) * time.Millisecond)
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range mfs {
		found[mf.GetName()] = true
		if mf.GetName() == "temporal_request" && mf.GetMetric()[0].GetCounter().GetValue() != 400 {
			t.Errorf("temporal_request = %v, want 400", mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	for _, n := range []string{"temporal_request", "temporal_request_latency", "secflow_other_total"} {
		if !found[n] {
			t.Errorf("%s not gathered (have %v)", n, found)
		}
	}
}
