// Package sdkmetrics exports the metrics of the Temporal Go SDK to
// Prometheus: Collector is a prometheus.Collector, and its Handler is the
// client.MetricsHandler to set in the SDK's client options
// (client.Options.MetricsHandler). It is built on client_golang alone, in
// place of the SDK's tally and OpenTelemetry contrib modules.
//
// Names: the SDK's names (all temporal_…, see
// https://docs.temporal.io/references/sdk-metrics), with any character
// Prometheus does not allow replaced by "_". Counters keep the SDK name
// (no _total suffix; OpenMetrics scrapes get one added by client_golang),
// timers become histograms in seconds under the SDK name
// (temporal_activity_execution_latency_bucket, _sum, _count).
//
// Labels: Prometheus wants one label set per metric name, while the SDK
// tags a name differently depending on where it is emitted (the root tags
// namespace, client_name, worker_type, workflow_type, activity_type,
// task_queue, plus e.g. failure_reason or operation on some calls). The
// label names of a metric are therefore the union of every tag key seen for
// it so far, and a series that lacks one of them exposes it as "" — which
// Prometheus treats as an absent label, so a series keeps its identity when
// the union grows. Tag values are the SDK's own (namespace, task queue,
// workflow type = secflow definition id, activity type = step type,
// operation, failure reason): no run data, bounded by the deployment.
//
// A name first used as one kind (counter, gauge, timer) and later as
// another is kept as the first kind; the other uses are dropped.
package sdkmetrics

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// DefaultBuckets are the histogram buckets (seconds) of timers: from a
// millisecond (task execution) to an hour (schedule-to-start under a
// backlog, workflow end-to-end latency).
var DefaultBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600}

// Options configure a Collector.
type Options struct {
	// Buckets are the timer histogram buckets in seconds, ascending
	// (nil: DefaultBuckets).
	Buckets []float64
}

// Collector holds the SDK's metrics and exposes them to Prometheus. Its
// zero value is not usable; call New. It is safe for concurrent use.
type Collector struct {
	buckets []float64

	mu       sync.Mutex
	families map[string]*family
}

// kind is the Prometheus type a metric name is exposed as.
type kind int

const (
	counterKind kind = iota
	gaugeKind
	timerKind
)

func (k kind) String() string {
	return [...]string{"counter", "gauge", "timer"}[k]
}

// family is one metric name: its kind, the union of its label names and
// its series by canonical label set.
type family struct {
	name   string
	kind   kind
	labels map[string]bool
	series map[string]*series
}

// series is one label set's value (counter, gauge) or histogram state.
type series struct {
	labels map[string]string
	value  float64
	counts []uint64 // per bucket, not cumulative (timers)
	sum    float64
	count  uint64
}

// New returns an empty Collector; register it on a prometheus.Registerer
// and pass Handler() to the SDK.
func New(opts Options) *Collector {
	b := opts.Buckets
	if len(b) == 0 {
		b = DefaultBuckets
	}
	b = slices.Clone(b)
	sort.Float64s(b)
	return &Collector{buckets: b, families: map[string]*family{}}
}

// Handler returns the SDK metrics handler feeding c, with no tags.
func (c *Collector) Handler() client.MetricsHandler {
	return &handler{c: c, tags: map[string]string{}}
}

// Describe sends nothing: the metric names are only known once the SDK
// emits them, which makes c an unchecked collector.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends one metric per series, with the union of its family's
// label names ("" for the ones a series lacks).
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.families {
		names := slices.Sorted(maps.Keys(f.labels))
		desc := prometheus.NewDesc(f.name, "Temporal Go SDK "+f.kind.String()+" "+f.name+helpSuffix(f.kind), names, nil)
		for _, s := range f.series {
			values := make([]string, len(names))
			for i, n := range names {
				values[i] = s.labels[n]
			}
			var m prometheus.Metric
			var err error
			switch f.kind {
			case counterKind:
				m, err = prometheus.NewConstMetric(desc, prometheus.CounterValue, s.value, values...)
			case gaugeKind:
				m, err = prometheus.NewConstMetric(desc, prometheus.GaugeValue, s.value, values...)
			case timerKind:
				cum := make(map[float64]uint64, len(c.buckets))
				var n uint64
				for i, ub := range c.buckets {
					n += s.counts[i]
					cum[ub] = n
				}
				m, err = prometheus.NewConstHistogram(desc, s.count, s.sum, cum, values...)
			}
			if err != nil {
				m = prometheus.NewInvalidMetric(desc, err)
			}
			ch <- m
		}
	}
}

func helpSuffix(k kind) string {
	if k == timerKind {
		return " in seconds (see docs.temporal.io/references/sdk-metrics)"
	}
	return " (see docs.temporal.io/references/sdk-metrics)"
}

// series returns the series of name with tags, creating it (and its
// family) on first use, or nil when name is already used as another kind.
func (c *Collector) series(name string, k kind, tags map[string]string) *series {
	name = sanitize(name)
	key := canonical(tags)
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.families[name]
	if f == nil {
		f = &family{name: name, kind: k, labels: map[string]bool{}, series: map[string]*series{}}
		c.families[name] = f
	}
	if f.kind != k {
		return nil
	}
	s := f.series[key]
	if s == nil {
		s = &series{labels: tags}
		if k == timerKind {
			s.counts = make([]uint64, len(c.buckets))
		}
		f.series[key] = s
		for n := range tags {
			f.labels[n] = true
		}
	}
	return s
}

// canonical is the identity of a (sanitised) tag set: sorted k=v pairs.
func canonical(tags map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(tags[k])
		b.WriteByte(0)
	}
	return b.String()
}

// sanitize maps a name to the Prometheus metric/label name alphabet
// [a-zA-Z_][a-zA-Z0-9_]*: other characters become "_", and a leading
// digit gets a "_" prefix. Colons are replaced too (they are reserved for
// recording rules). Label names starting with "__" (reserved) get an "x"
// prefix.
func sanitize(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	out := string(b)
	if out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	if strings.HasPrefix(out, "__") {
		out = "x" + out
	}
	return out
}

// handler implements client.MetricsHandler over a Collector.
type handler struct {
	c    *Collector
	tags map[string]string // sanitised keys; never modified after creation
}

// WithTags returns a handler whose tags are h's overwritten by tags.
func (h *handler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	maps.Copy(merged, h.tags)
	for k, v := range tags {
		merged[sanitize(k)] = v
	}
	return &handler{c: h.c, tags: merged}
}

// Counter returns the counter name with h's tags. Negative increments are
// dropped (a Prometheus counter never decreases).
func (h *handler) Counter(name string) client.MetricsCounter {
	s := h.c.series(name, counterKind, h.tags)
	if s == nil {
		return client.MetricsNopHandler.Counter(name)
	}
	return counter{c: h.c, s: s}
}

// Gauge returns the gauge name with h's tags.
func (h *handler) Gauge(name string) client.MetricsGauge {
	s := h.c.series(name, gaugeKind, h.tags)
	if s == nil {
		return client.MetricsNopHandler.Gauge(name)
	}
	return gauge{c: h.c, s: s}
}

// Timer returns the timer name with h's tags: a histogram in seconds.
func (h *handler) Timer(name string) client.MetricsTimer {
	s := h.c.series(name, timerKind, h.tags)
	if s == nil {
		return client.MetricsNopHandler.Timer(name)
	}
	return timer{c: h.c, s: s}
}

type counter struct {
	c *Collector
	s *series
}

func (x counter) Inc(d int64) {
	if d <= 0 {
		return
	}
	x.c.mu.Lock()
	x.s.value += float64(d)
	x.c.mu.Unlock()
}

type gauge struct {
	c *Collector
	s *series
}

func (x gauge) Update(v float64) {
	x.c.mu.Lock()
	x.s.value = v
	x.c.mu.Unlock()
}

type timer struct {
	c *Collector
	s *series
}

func (x timer) Record(d time.Duration) {
	v := d.Seconds()
	if math.IsNaN(v) {
		return
	}
	// The first bucket whose upper bound is >= v; past the last: only +Inf.
	i := sort.SearchFloat64s(x.c.buckets, v)
	x.c.mu.Lock()
	if i < len(x.s.counts) {
		x.s.counts[i]++
	}
	x.s.count++
	x.s.sum += v
	x.c.mu.Unlock()
}
