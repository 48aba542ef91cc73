package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secflow/secflow/starter"
)

func init() {
	register(command{
		name:    "loadtest",
		summary: "post alerts to a running starter and report throughput and start latency",
		run:     runLoadtest,
	})
}

// loadtestAlert is the alert template of `secflow loadtest` (ids are
// replaced per request).
const loadtestAlert = `{
  "alerts": [{
    "_id": "ID", "_index": ".internal.alerts-security.alerts-default-000001",
    "@timestamp": "2026-01-01T00:00:00.000Z",
    "kibana": {"alert": {"uuid": "ID", "status": "active", "workflow_status": "open", "severity": "high", "risk_score": 73,
      "reason": "loadtest alert", "rule": {"uuid": "loadtest-rule", "name": "Loadtest rule", "rule_id": "loadtest-rule"}}},
    "host": {"name": "loadtest-host", "id": "h-1"}, "user": {"name": "loadtest"}
  }],
  "rule": {"id": "loadtest-rule", "name": "Loadtest rule", "tags": ["loadtest"], "consumer": "siem", "producer": "siem", "ruleTypeId": "siem.queryRule"},
  "spaceId": "default"
}`

// loadtestSample is one request's outcome.
type loadtestSample struct {
	code       int
	roundTrip  time.Duration
	server     time.Duration // Server-Timing: received → every start acknowledged
	started    int
	duplicates int
	matched    int
	err        string
}

func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "starter base `URL`")
	n := fs.Int("alerts", 1000, "number of alert deliveries to post")
	conc := fs.Int("concurrency", 16, "concurrent requests")
	dups := fs.Bool("duplicates", false, "post the same alert every time (measures the duplicate path); default: every alert unique")
	token := fs.String("token", os.Getenv("SECFLOW_STARTER_TOKEN"), "bearer `token` (env SECFLOW_STARTER_TOKEN)")
	secret := fs.String("hmac-secret", os.Getenv("SECFLOW_STARTER_HMAC_SECRET"), "sign requests with this HMAC `secret` (env SECFLOW_STARTER_HMAC_SECRET)")
	sigHeader := fs.String("signature-header", "X-Secflow-Signature", "signature header `name`")
	tsHeader := fs.String("timestamp-header", "X-Secflow-Timestamp", "timestamp header `name`")
	bodyFile := fs.String("body", "", "alert event `file` used as template (its first alert's _id and kibana.alert.uuid are replaced); default: a built-in alert")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request timeout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: secflow loadtest [--url http://127.0.0.1:8080] [--alerts N] [--concurrency C] [--duplicates]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Posts N alert events to POST /api/v1/alerts of a running starter, C at a time, and")
		fmt.Fprintln(stderr, "reports accepted alerts per second and the latency from the starter receiving the")
		fmt.Fprintln(stderr, "webhook to Temporal acknowledging the start (the Server-Timing header), p50/p99,")
		fmt.Fprintln(stderr, "plus the client round trip. A definition with a `type: alert` trigger must be")
		fmt.Fprintln(stderr, "loaded, or nothing is started (matched: 0).")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Example: secflow loadtest --alerts 2000 --concurrency 32")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "secflow loadtest: unexpected arguments %q (loadtest takes only flags; see secflow loadtest -h)\n", fs.Args())
		return 2
	}
	if *n < 1 || *conc < 1 {
		fmt.Fprintln(stderr, "secflow loadtest: --alerts and --concurrency must be positive")
		return 2
	}
	tmplText := []byte(loadtestAlert)
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintf(stderr, "secflow loadtest: %v\n", err)
			return 2
		}
		tmplText = b
	}
	var tmpl map[string]any
	if err := json.Unmarshal(tmplText, &tmpl); err != nil {
		fmt.Fprintf(stderr, "secflow loadtest: the body template must be an alert event object: %v\n", err)
		return 2
	}
	alerts, _ := tmpl["alerts"].([]any)
	first, _ := alerts[0].(map[string]any)
	if first == nil {
		fmt.Fprintln(stderr, "secflow loadtest: the body template needs alerts[0]")
		return 2
	}
	prefix := "lt-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	bodyFor := func(i int) []byte {
		id := fmt.Sprintf("%s-%d", prefix, i)
		if *dups {
			id = prefix + "-dup"
		}
		first["_id"] = id
		if k, ok := first["kibana"].(map[string]any); ok {
			if a, ok := k["alert"].(map[string]any); ok {
				a["uuid"] = id
			}
		}
		b, _ := json.Marshal(tmpl)
		return b
	}
	bodies := make([][]byte, *n)
	for i := range bodies {
		bodies[i] = bodyFor(i)
	}
	url := strings.TrimRight(*base, "/") + "/api/v1/alerts"
	hc := &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxIdleConns: *conc * 2, MaxIdleConnsPerHost: *conc * 2}}
	post := func(body []byte) loadtestSample {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return loadtestSample{err: err.Error()}
		}
		req.Header.Set("Content-Type", "application/json")
		if *token != "" {
			req.Header.Set("Authorization", "Bearer "+*token)
		}
		if *secret != "" {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			req.Header.Set(*tsHeader, ts)
			req.Header.Set(*sigHeader, starter.SignatureHeaderValue([]byte(*secret), ts, body))
		}
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return loadtestSample{err: err.Error(), roundTrip: time.Since(t0)}
		}
		defer resp.Body.Close()
		var out struct {
			Matched    int    `json:"matched"`
			Started    int    `json:"started"`
			Duplicates int    `json:"duplicates"`
			Error      string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		s := loadtestSample{code: resp.StatusCode, roundTrip: time.Since(t0), started: out.Started,
			duplicates: out.Duplicates, matched: out.Matched, err: out.Error}
		s.server = serverTiming(resp.Header.Get("Server-Timing"))
		return s
	}
	// With --duplicates the first delivery creates the run; the measured
	// ones all hit the duplicate path.
	if *dups {
		if s := post(bodies[0]); s.code/100 != 2 {
			fmt.Fprintf(stderr, "secflow loadtest: first delivery failed: %d %s\n", s.code, s.err)
			return 1
		}
	}
	samples := make([]loadtestSample, *n)
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n || ctx.Err() != nil {
					return
				}
				samples[i] = post(bodies[i])
			}
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	loadtestReport(stdout, samples, wall, *n, *conc, *dups)
	for _, s := range samples {
		if s.code/100 != 2 {
			return 1
		}
	}
	return 0
}

// serverTiming reads "start;dur=<ms>".
func serverTiming(h string) time.Duration {
	for _, part := range strings.Split(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "dur="); ok {
			ms, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return time.Duration(ms * float64(time.Millisecond))
			}
		}
	}
	return 0
}

func loadtestReport(w io.Writer, samples []loadtestSample, wall time.Duration, n, conc int, dups bool) {
	codes := map[string]int{}
	var ok, started, duplicates, unmatched int
	var rt, srv []time.Duration
	errs := map[string]int{}
	for _, s := range samples {
		key := strconv.Itoa(s.code)
		if s.code == 0 {
			key = "transport error"
		}
		codes[key]++
		if s.code/100 == 2 {
			ok++
			started += s.started
			duplicates += s.duplicates
			if s.matched == 0 {
				unmatched++
			}
			rt = append(rt, s.roundTrip)
			srv = append(srv, s.server)
		} else if s.err != "" {
			errs[s.err]++
		}
	}
	mode := "unique alerts"
	if dups {
		mode = "duplicates of one alert"
	}
	fmt.Fprintf(w, "secflow loadtest: %d deliveries (%s), concurrency %d, %.2fs\n", n, mode, conc, wall.Seconds())
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, codes[k]))
	}
	fmt.Fprintf(w, "  responses:           %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(w, "  accepted:            %d (%.1f alerts/s)\n", ok, float64(ok)/wall.Seconds())
	fmt.Fprintf(w, "  runs:                %d started, %d duplicate\n", started, duplicates)
	if unmatched > 0 {
		fmt.Fprintf(w, "  WARNING:             %d deliveries matched no definition (nothing started)\n", unmatched)
	}
	if len(srv) > 0 {
		fmt.Fprintf(w, "  received→started:    p50 %s  p90 %s  p99 %s  max %s  (server, Server-Timing)\n",
			pct(srv, 50), pct(srv, 90), pct(srv, 99), pct(srv, 100))
		fmt.Fprintf(w, "  client round trip:   p50 %s  p90 %s  p99 %s  max %s\n",
			pct(rt, 50), pct(rt, 90), pct(rt, 99), pct(rt, 100))
	}
	for e, c := range errs {
		fmt.Fprintf(w, "  error (%d×): %s\n", c, e)
	}
}

// pct returns the p-th percentile (nearest rank) of d; it sorts d.
func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := (p*len(d) + 99) / 100
	if i < 1 {
		i = 1
	}
	if i > len(d) {
		i = len(d)
	}
	return d[i-1].Round(10 * time.Microsecond).String()
}
