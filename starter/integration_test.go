package starter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/schema"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// *defstore.Store is what the process passes as Config.Definitions.
var _ DefinitionSource = (*defstore.Store)(nil)

// memDefs is an in-memory DefinitionSource.
type memDefs struct {
	mu sync.Mutex
	m  map[string]*interpreter.Definition
}

func newMemDefs(defs ...*interpreter.Definition) *memDefs {
	d := &memDefs{m: map[string]*interpreter.Definition{}}
	for _, x := range defs {
		d.m[x.ID] = x
	}
	return d
}

func (d *memDefs) Get(id string) (*interpreter.Definition, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	x, ok := d.m[id]
	return x, ok
}

func (d *memDefs) All() []*interpreter.Definition {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*interpreter.Definition
	for _, x := range d.m {
		out = append(out, x)
	}
	return out
}

func (d *memDefs) set(x *interpreter.Definition) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[x.ID] = x
}

func (d *memDefs) remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.m, id)
}

// uniq returns a name no other test (or earlier test binary run on the
// same server) uses.
func uniq(t *testing.T, what string) string {
	return fmt.Sprintf("%s-%s-%d", what, strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())), time.Now().UnixNano()%1e9)
}

type harness struct {
	env  *testenv.Env
	srv  *Server
	http *httptest.Server
	defs *memDefs
}

func newHarness(t *testing.T, defs *memDefs, mod func(*Config)) *harness {
	t.Helper()
	env := testenv.Start(t)
	cfg := Config{
		Client: env.Client, Namespace: env.Namespace, TaskQueue: uniq(t, "tq"), Definitions: defs,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		UIBaseURL: "http://ui.example", RateLimit: RateLimit{PerSecond: -1},
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &harness{env: env, srv: s, http: hs, defs: defs}
}

type answer struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func (h *harness) post(t *testing.T, path string, body []byte, headers map[string]string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func alertBody(ruleID, ruleName string, ids ...string) []byte {
	var alerts []any
	for _, id := range ids {
		alerts = append(alerts, map[string]any{
			"_id": id, "_index": ".internal.alerts-security.alerts-default-000001",
			"kibana": map[string]any{"alert": map[string]any{"uuid": id, "severity": "high",
				"rule": map[string]any{"uuid": ruleID, "name": ruleName, "rule_id": ruleID + "-static"}}},
			"host": map[string]any{"name": "ws-7"}, "user": map[string]any{"name": "bob"},
		})
	}
	b, _ := json.Marshal(map[string]any{"alerts": alerts, "rule": map[string]any{"id": ruleID, "name": ruleName}, "spaceId": "default"})
	return b
}

func runs(t *testing.T, a answer) []map[string]any {
	t.Helper()
	list, _ := a.body["runs"].([]any)
	var out []map[string]any
	for _, r := range list {
		out = append(out, r.(map[string]any))
	}
	return out
}

// notStarted asserts that no execution exists under workflowID.
func notStarted(t *testing.T, env *testenv.Env, workflowID string) {
	t.Helper()
	_, err := env.Client.DescribeWorkflowExecution(context.Background(), workflowID, "")
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("workflow %s exists (describe err = %v), want nothing started", workflowID, err)
	}
}

func TestIntegrationAlertStartsOneRunAndDeduplicates(t *testing.T) {
	d := def(uniq(t, "triage"), true, alertTrigger(nil))
	h := newHarness(t, newMemDefs(d), nil)
	rule, alert := uniq(t, "rule"), uniq(t, "alert")
	body := alertBody(rule, "Suspicious login", alert)
	wantID := SummaryWorkflowID(d.ID, rule, []string{alert})

	first := h.post(t, "/api/v1/alerts", body, nil)
	if first.code != http.StatusOK {
		t.Fatalf("first delivery: %d %s", first.code, first.raw)
	}
	rs := runs(t, first)
	if len(rs) != 1 || rs[0]["status"] != StatusStarted || rs[0]["workflowId"] != wantID || rs[0]["runId"] == "" {
		t.Fatalf("first delivery runs = %v", rs)
	}
	if first.body["matched"] != 1.0 || first.body["started"] != 1.0 {
		t.Errorf("counts = %v", first.body)
	}
	if !strings.HasPrefix(rs[0]["url"].(string), "http://ui.example/namespaces/") {
		t.Errorf("url = %v", rs[0]["url"])
	}
	if st := first.header.Get("Server-Timing"); !strings.HasPrefix(st, "start;dur=") {
		t.Errorf("Server-Timing = %q", st)
	}
	runID := rs[0]["runId"].(string)

	second := h.post(t, "/api/v1/alerts", body, nil)
	rs2 := runs(t, second)
	if second.code != http.StatusOK || len(rs2) != 1 || rs2[0]["status"] != StatusDuplicate || rs2[0]["runId"] != runID {
		t.Fatalf("second delivery: %d %v", second.code, rs2)
	}

	// The run: type = definition id, task queue, input, memo, search attributes, summary.
	ctx := context.Background()
	desc, err := h.env.Client.DescribeWorkflowExecution(ctx, wantID, runID)
	if err != nil {
		t.Fatal(err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetType().GetName() != d.ID || info.GetTaskQueue() != h.srv.cfg.TaskQueue {
		t.Errorf("type/queue = %s/%s", info.GetType().GetName(), info.GetTaskQueue())
	}
	var rev string
	_ = converter.GetDefaultDataConverter().FromPayload(info.GetMemo().GetFields()["revision"], &rev)
	if rev != d.Revision {
		t.Errorf("memo revision = %q, want %q", rev, d.Revision)
	}
	sa := info.GetSearchAttributes()
	for name, want := range map[string]string{"WorkflowName": d.ID, "TriggerType": "alert", "RuleId": rule,
		"RuleName": "Suspicious login", "AlertId": alert, "AlertSeverity": "high", "HostName": "ws-7"} {
		if got := keyword(sa, name); got != want {
			t.Errorf("search attribute %s = %q, want %q", name, got, want)
		}
	}
	var summary string
	_ = converter.GetDefaultDataConverter().FromPayload(desc.GetExecutionConfig().GetUserMetadata().GetSummary(), &summary)
	if summary != "Suspicious login on ws-7 (high)" {
		t.Errorf("summary = %q", summary)
	}
	in, _ := startedRun(t, h, wantID, runID)
	if in.TriggeredBy != "alert" || in.Definition == nil || in.Definition.Revision != d.Revision || in.SpaceID != "default" {
		t.Errorf("input = %+v", in)
	}
	if alerts, _ := in.Event["alerts"].([]any); len(alerts) != 1 {
		t.Errorf("input event alerts = %v", in.Event["alerts"])
	}

	// A closed run is not restarted (REJECT_DUPLICATE).
	if err := h.env.Client.TerminateWorkflow(ctx, wantID, runID, "test"); err != nil {
		t.Fatal(err)
	}
	third := h.post(t, "/api/v1/alerts", body, nil)
	rs3 := runs(t, third)
	if third.code != http.StatusOK || len(rs3) != 1 || rs3[0]["status"] != StatusDuplicate || rs3[0]["runId"] != runID {
		t.Fatalf("delivery after close: %d %v", third.code, rs3)
	}
}

func TestIntegrationConcurrentDuplicatesStartOneRun(t *testing.T) {
	d := def(uniq(t, "conc"), true, alertTrigger(nil))
	h := newHarness(t, newMemDefs(d), nil)
	body := alertBody(uniq(t, "rule"), "Burst", uniq(t, "a1"), uniq(t, "a2"))
	const n = 100
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/api/v1/alerts", bytes.NewReader(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				answers[i] = answer{raw: err.Error()}
				return
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers[i] = answer{code: resp.StatusCode, raw: string(raw)}
			_ = json.Unmarshal(raw, &answers[i].body)
		}()
	}
	close(start)
	wg.Wait()
	started, runIDs := 0, map[string]bool{}
	for i, a := range answers {
		if a.code != http.StatusOK {
			t.Fatalf("delivery %d: %d %s", i, a.code, a.raw)
		}
		rs := runs(t, a)
		if len(rs) != 1 {
			t.Fatalf("delivery %d: runs %v", i, rs)
		}
		if rs[0]["status"] == StatusStarted {
			started++
		}
		runIDs[rs[0]["runId"].(string)] = true
	}
	if started != 1 || len(runIDs) != 1 {
		t.Errorf("100 concurrent deliveries: %d answered started, %d distinct run ids; want 1 and 1", started, len(runIDs))
	}
}

func TestIntegrationPerAlertAndNoMatch(t *testing.T) {
	rule := uniq(t, "rule")
	per := def(uniq(t, "per"), true, alertTrigger(map[string]any{"per-alert": true, "rule_id": rule}))
	h := newHarness(t, newMemDefs(per), nil)
	a1, a2 := uniq(t, "x1"), uniq(t, "x2")
	ans := h.post(t, "/api/v1/alerts", alertBody(rule, "R", a1, a2), nil)
	rs := runs(t, ans)
	if ans.code != http.StatusOK || len(rs) != 2 || rs[0]["workflowId"] != per.ID+"/"+a1 || rs[1]["workflowId"] != per.ID+"/"+a2 ||
		rs[0]["status"] != StatusStarted || rs[1]["status"] != StatusStarted {
		t.Fatalf("per-alert: %d %v", ans.code, rs)
	}
	// One new alert among old ones: only it starts.
	a3 := uniq(t, "x3")
	ans = h.post(t, "/api/v1/alerts", alertBody(rule, "R", a1, a3), nil)
	rs = runs(t, ans)
	if len(rs) != 2 || rs[0]["status"] != StatusDuplicate || rs[1]["status"] != StatusStarted {
		t.Errorf("per-alert redelivery: %v", rs)
	}

	before := counterValue(t, h.srv, "secflow_starter_events_unmatched_total")
	ans = h.post(t, "/api/v1/alerts", alertBody(uniq(t, "other-rule"), "R", uniq(t, "y")), nil)
	if ans.code != http.StatusOK || ans.body["matched"] != 0.0 || len(runs(t, ans)) != 0 {
		t.Errorf("no match: %d %s", ans.code, ans.raw)
	}
	if after := counterValue(t, h.srv, "secflow_starter_events_unmatched_total"); after != before+1 {
		t.Errorf("unmatched metric %v → %v", before, after)
	}
}

func TestIntegrationLongValuesStillStart(t *testing.T) {
	d := def(uniq(t, "long"), true, alertTrigger(nil))
	h := newHarness(t, newMemDefs(d), nil)
	name := strings.Repeat("Very long rule name ", 200) // 4000 bytes
	a := h.post(t, "/api/v1/alerts", alertBody(uniq(t, "rule"), name, uniq(t, "a")), nil)
	if rs := runs(t, a); a.code != 200 || len(rs) != 1 || rs[0]["status"] != StatusStarted {
		t.Fatalf("long rule name: %d %s", a.code, a.raw)
	}
}

func counterValue(t *testing.T, s *Server, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, name+" ") {
			v, _ := strconv.ParseFloat(strings.TrimPrefix(line, name+" "), 64)
			return v
		}
	}
	return 0
}

func TestIntegrationRejectsBadRequestsAndStartsNothing(t *testing.T) {
	d := def(uniq(t, "guarded"), true, alertTrigger(nil))
	h := newHarness(t, newMemDefs(d), func(c *Config) {
		c.Auth = AuthConfig{BearerTokens: []string{"right-token"}, HMACSecret: "hmac-key"}
		c.MaxBodyBytes = 64 << 10
	})
	rule, alert := uniq(t, "rule"), uniq(t, "alert")
	body := alertBody(rule, "R", alert)
	wid := SummaryWorkflowID(d.ID, rule, []string{alert})
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	oldTS := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	big := alertBody(rule, "R", alert)
	big = append(big[:len(big)-1], []byte(`,"pad":"`+strings.Repeat("x", 70<<10)+`"}`)...)
	tests := []struct {
		name    string
		body    []byte
		headers map[string]string
		code    int
		reason  string
	}{
		{"no credentials", body, nil, 401, "unauthenticated"},
		{"no credentials, oversized body: refused before reading it", big, nil, 401, "unauthenticated"},
		{"wrong token", body, map[string]string{"Authorization": "Bearer wrong"}, 401, "unauthenticated"},
		{"bad signature", body, map[string]string{"X-Secflow-Signature": "sha256=00", "X-Secflow-Timestamp": ts}, 401, "unauthenticated"},
		{"stale signature", body, map[string]string{"X-Secflow-Signature": SignatureHeaderValue([]byte("hmac-key"), oldTS, body), "X-Secflow-Timestamp": oldTS}, 401, "unauthenticated"},
		{"oversized body", big, map[string]string{"Authorization": "Bearer right-token"}, 413, "body_too_large"},
		{"malformed JSON", []byte(`{"alerts": [`), map[string]string{"Authorization": "Bearer right-token"}, 400, "malformed"},
		{"not an alert", []byte(`{"hello": "world"}`), map[string]string{"Authorization": "Bearer right-token"}, 400, "unrecognised"},
		{"too deep", []byte(strings.Repeat("[", 200) + strings.Repeat("]", 200)), map[string]string{"Authorization": "Bearer right-token"}, 400, "too_deep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := h.post(t, "/api/v1/alerts", tc.body, tc.headers)
			if a.code != tc.code || a.body["reason"] != tc.reason || a.body["error"] == "" {
				t.Errorf("answer %d %s, want %d reason %s", a.code, a.raw, tc.code, tc.reason)
			}
		})
	}
	notStarted(t, h.env, wid)

	// And the right credentials work, both ways.
	if a := h.post(t, "/api/v1/alerts", body, map[string]string{"Authorization": "Bearer right-token"}); a.code != 200 {
		t.Errorf("bearer: %d %s", a.code, a.raw)
	}
	other := alertBody(rule, "R", uniq(t, "alert2"))
	sig := map[string]string{"X-Secflow-Signature": SignatureHeaderValue([]byte("hmac-key"), ts, other), "X-Secflow-Timestamp": ts}
	if a := h.post(t, "/api/v1/alerts", other, sig); a.code != 200 || len(runs(t, a)) != 1 {
		t.Errorf("hmac: %d %s", a.code, a.raw)
	}
	if a := h.post(t, "/api/v1/alerts", other, sig); a.code != 401 {
		t.Errorf("replayed signature: %d %s", a.code, a.raw)
	}
}

func TestIntegrationRateLimit(t *testing.T) {
	d := def(uniq(t, "limited"), true, alertTrigger(nil))
	h := newHarness(t, newMemDefs(d), func(c *Config) { c.RateLimit = RateLimit{PerSecond: 0.01, Burst: 2} })
	body := alertBody(uniq(t, "rule"), "R", uniq(t, "a"))
	codes := []int{}
	var last answer
	for i := 0; i < 3; i++ {
		last = h.post(t, "/api/v1/alerts", body, nil)
		codes = append(codes, last.code)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("codes = %v, want [200 200 429]", codes)
	}
	if last.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

func TestIntegrationTemporalDown(t *testing.T) {
	env := testenv.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	c, err := client.NewLazyClient(client.Options{HostPort: addr, Namespace: env.Namespace,
		Logger: nil})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d := def(uniq(t, "down"), true, alertTrigger(nil))
	d.Inputs = nil
	h := newHarness(t, newMemDefs(d), func(cfg *Config) { cfg.Client = c; cfg.StartTimeout = time.Second })
	rule, alert := uniq(t, "rule"), uniq(t, "alert")
	a := h.post(t, "/api/v1/alerts", alertBody(rule, "R", alert), nil)
	if a.code != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || a.body["reason"] != "temporal_unavailable" {
		t.Errorf("alert with Temporal down: %d %s (Retry-After %q)", a.code, a.raw, a.header.Get("Retry-After"))
	}
	m := h.post(t, "/api/v1/workflows/"+d.ID+"/run", []byte(fmt.Sprintf(`{"event":%s}`, alertBody(rule, "R", alert))), nil)
	if m.code != http.StatusServiceUnavailable || m.header.Get("Retry-After") == "" {
		t.Errorf("manual run with Temporal down: %d %s", m.code, m.raw)
	}
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz = %d", rec.Code)
	}
	notStarted(t, env, SummaryWorkflowID(d.ID, rule, []string{alert}))
}

func TestIntegrationManualRun(t *testing.T) {
	d := def(uniq(t, "manual"), true, interpreter.Trigger{Type: "manual"})
	d.Inputs = &schema.Schema{
		Properties: map[string]map[string]any{
			"ip":    {"type": "string"},
			"depth": {"type": "number", "default": 2},
		},
		Required: []string{"ip"},
	}
	disabled := def(uniq(t, "off"), false, interpreter.Trigger{Type: "manual"})
	h := newHarness(t, newMemDefs(d, disabled), nil)
	path := "/api/v1/workflows/" + d.ID + "/run"

	if len(schema.Validate(d.Inputs, map[string]any{})) == 0 {
		t.Log("interpreter/schema.Validate reports nothing yet (skeleton): input validation checks skipped")
	} else if a := h.post(t, path, []byte(`{"inputs":{"depth":"deep"}}`), nil); a.code != 400 || a.body["reason"] != "invalid_inputs" {
		t.Errorf("invalid inputs: %d %s", a.code, a.raw)
	} else if probs, _ := a.body["problems"].([]any); len(probs) < 2 {
		t.Errorf("want every problem listed (missing ip, depth not a number), got %v", probs)
	}
	if a := h.post(t, path, []byte(`{"inputs":{"ip":"1.2.3.4"},"extra":1}`), nil); a.code != 400 || a.body["reason"] != "malformed" {
		t.Errorf("unknown body field: %d %s", a.code, a.raw)
	}
	if a := h.post(t, "/api/v1/workflows/nope-"+d.ID+"/run", []byte(`{}`), nil); a.code != 404 {
		t.Errorf("unknown definition: %d %s", a.code, a.raw)
	}
	if a := h.post(t, "/api/v1/workflows/"+disabled.ID+"/run", []byte(`{}`), nil); a.code != 409 {
		t.Errorf("disabled definition: %d %s", a.code, a.raw)
	}

	key := map[string]string{"Idempotency-Key": uniq(t, "key")}
	a := h.post(t, path, []byte(`{"inputs":{"ip":"1.2.3.4"}}`), key)
	if a.code != http.StatusCreated || a.body["status"] != StatusStarted || a.body["workflowId"] != d.ID+"/manual/"+key["Idempotency-Key"] {
		t.Fatalf("manual run: %d %s", a.code, a.raw)
	}
	b := h.post(t, path, []byte(`{"inputs":{"ip":"1.2.3.4"}}`), key)
	if b.code != http.StatusOK || b.body["status"] != StatusDuplicate || b.body["runId"] != a.body["runId"] {
		t.Errorf("same idempotency key: %d %s", b.code, b.raw)
	}
	c := h.post(t, path, []byte(`{"inputs":{"ip":"1.2.3.4"}}`), nil)
	if c.code != http.StatusCreated || c.body["workflowId"] == a.body["workflowId"] {
		t.Errorf("without key: %d %s", c.code, c.raw)
	}
	desc, err := h.env.Client.DescribeWorkflowExecution(context.Background(), a.body["workflowId"].(string), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := keyword(desc.GetWorkflowExecutionInfo().GetSearchAttributes(), "TriggerType"); got != "manual" {
		t.Errorf("TriggerType = %q", got)
	}
}

func TestIntegrationRunsLookup(t *testing.T) {
	d := def(uniq(t, "lookup"), true, alertTrigger(nil))
	h := newHarness(t, newMemDefs(d), nil)
	rule, alert := uniq(t, "rule"), uniq(t, "alert")
	if a := h.post(t, "/api/v1/alerts", alertBody(rule, "Lookup rule", alert), nil); a.code != 200 {
		t.Fatalf("%d %s", a.code, a.raw)
	}
	for _, q := range []string{"alertId=" + alert, "ruleId=" + rule, "workflow=" + d.ID + "&status=running"} {
		var list []any
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) { // visibility is eventually consistent
			req, _ := http.NewRequest("GET", h.http.URL+"/api/v1/runs?"+q, nil)
			a := do(t, req)
			if a.code != 200 {
				t.Fatalf("%s: %d %s", q, a.code, a.raw)
			}
			list, _ = a.body["runs"].([]any)
			if len(list) > 0 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(list) != 1 {
			t.Errorf("%s: %d runs, want 1", q, len(list))
			continue
		}
		r := list[0].(map[string]any)
		if r["alertId"] != alert || r["ruleId"] != rule || r["definition"] != d.ID || r["status"] != "running" ||
			!strings.Contains(r["url"].(string), "/history") {
			t.Errorf("%s: run = %v", q, r)
		}
	}
	req, _ := http.NewRequest("GET", h.http.URL+"/api/v1/runs?status=bogus", nil)
	if a := do(t, req); a.code != 400 {
		t.Errorf("bad status: %d", a.code)
	}
}

func TestIntegrationScheduleReconciliation(t *testing.T) {
	every := func(v string) interpreter.Trigger {
		return interpreter.Trigger{Type: "scheduled", With: map[string]any{"every": v}}
	}
	d := def(uniq(t, "sched"), true, interpreter.Trigger{Type: "manual"}, every("15m"))
	defs := newMemDefs(d)
	h := newHarness(t, defs, nil)
	ctx := context.Background()
	id := ScheduleID(d.ID, 1)
	sc := h.env.Client.ScheduleClient()

	describe := func() (*client.ScheduleDescription, error) { return sc.GetHandle(ctx, id).Describe(ctx) }

	// created
	if err := h.srv.ReconcileSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	desc, err := describe()
	if err != nil {
		t.Fatalf("schedule not created: %v", err)
	}
	if desc.Schedule.State.Paused || len(desc.Schedule.Spec.Intervals) != 1 || desc.Schedule.Spec.Intervals[0].Every != 15*time.Minute {
		t.Errorf("created schedule: paused=%v spec=%+v", desc.Schedule.State.Paused, desc.Schedule.Spec)
	}
	act := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	if fmt.Sprint(act.Workflow) != d.ID || act.TaskQueue != h.srv.cfg.TaskQueue {
		t.Errorf("action = %+v", act)
	}
	if len(desc.Info.NextActionTimes) == 0 {
		t.Error("no next action times")
	}
	// unchanged: no update
	before := counterValue(t, h.srv, `secflow_starter_schedule_changes_total{action="updated"}`)
	if err := h.srv.ReconcileSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	if after := counterValue(t, h.srv, `secflow_starter_schedule_changes_total{action="updated"}`); after != before {
		t.Errorf("reconcile without change updated the schedule")
	}

	// updated
	d2 := *d
	d2.Triggers = []interpreter.Trigger{{Type: "manual"}, {Type: "scheduled", With: map[string]any{"rrule": map[string]any{
		"freq": "WEEKLY", "byweekday": []any{"WE"}, "byhour": []any{8}, "byminute": []any{0}, "tzid": "Europe/Paris"}}}}
	d2.Revision = "rev-2"
	defs.set(&d2)
	if err := h.srv.ReconcileSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	desc, err = describe()
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Schedule.Spec.Intervals) != 0 || len(desc.Schedule.Spec.Calendars) == 0 && len(desc.Schedule.Spec.CronExpressions) == 0 {
		t.Errorf("updated schedule spec = %+v", desc.Schedule.Spec)
	}
	for _, next := range desc.Info.NextActionTimes {
		if local := next.In(mustLoc(t, "Europe/Paris")); local.Weekday() != time.Wednesday || local.Hour() != 8 || local.Minute() != 0 {
			t.Errorf("next action %v is not Wednesday 08:00 Paris", local)
		}
	}

	// paused
	d3 := d2
	d3.Enabled = false
	defs.set(&d3)
	if err := h.srv.ReconcileSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	if desc, err = describe(); err != nil || !desc.Schedule.State.Paused {
		t.Errorf("disabled definition: schedule paused=%v err=%v", desc != nil && desc.Schedule.State.Paused, err)
	}
	// re-enabled → unpaused
	defs.set(&d2)
	if err := h.srv.ReconcileSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	if desc, err = describe(); err != nil || desc.Schedule.State.Paused {
		t.Errorf("re-enabled definition: schedule still paused (err %v)", err)
	}

	// deleted
	defs.remove(d.ID)
	if err := h.srv.ReconcileSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	var nf *serviceerror.NotFound
	if _, err := describe(); !errors.As(err, &nf) {
		t.Errorf("schedule of a removed definition still exists: %v", err)
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestIntegrationWatchDefinitionsReconcilesOnChange(t *testing.T) {
	env := testenv.Start(t)
	dir := t.TempDir()
	id := uniq(t, "watched")
	file := dir + "/" + id + ".yaml"
	write := func(enabled bool, every string) {
		t.Helper()
		y := fmt.Sprintf("name: Watched\nenabled: %t\ntriggers:\n  - type: scheduled\n    with:\n      every: %s\nsteps:\n  - name: hello\n    type: console\n    with:\n      message: hi\n", enabled, every)
		if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(true, "15m")
	store, err := defstore.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := store.Get(id); !ok {
		t.Fatalf("definition %s not loaded (ids: %v)", id, store.All())
	}
	s, err := New(Config{Client: env.Client, Namespace: env.Namespace, TaskQueue: uniq(t, "tq"), Definitions: store,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.WatchDefinitions(ctx, 50*time.Millisecond, 200*time.Millisecond)

	h := env.Client.ScheduleClient().GetHandle(ctx, ScheduleID(id, 0))
	eventually := func(what string, ok func(*client.ScheduleDescription, error) bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			d, err := h.Describe(ctx)
			if ok(d, err) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("timed out waiting until %s", what)
	}
	eventually("the schedule exists", func(d *client.ScheduleDescription, err error) bool {
		return err == nil && !d.Schedule.State.Paused && d.Schedule.Spec.Intervals[0].Every == 15*time.Minute
	})
	time.Sleep(20 * time.Millisecond) // a distinct modification time
	write(true, "30m")
	eventually("the schedule is updated to 30m", func(d *client.ScheduleDescription, err error) bool {
		return err == nil && len(d.Schedule.Spec.Intervals) == 1 && d.Schedule.Spec.Intervals[0].Every == 30*time.Minute
	})
	time.Sleep(20 * time.Millisecond)
	write(false, "30m")
	eventually("the schedule is paused", func(d *client.ScheduleDescription, err error) bool {
		return err == nil && d.Schedule.State.Paused
	})
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	eventually("the schedule is deleted", func(_ *client.ScheduleDescription, err error) bool {
		var nf *serviceerror.NotFound
		return errors.As(err, &nf)
	})
}

// TestIntegrationSignedManualRunReplayAcrossReplicas: the replay cache is
// per process, but a signed manual run without an Idempotency-Key is keyed
// by its signature, so the same signed request replayed to another replica
// finds the first run instead of starting a second one.
func TestIntegrationSignedManualRunReplayAcrossReplicas(t *testing.T) {
	d := def(uniq(t, "signed"), true, interpreter.Trigger{Type: "manual"})
	secret := []byte("hmac-key")
	h1 := newHarness(t, newMemDefs(d), func(c *Config) { c.Auth = AuthConfig{HMACSecret: string(secret)} })
	replica, err := New(h1.srv.cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs2 := httptest.NewServer(replica.Handler())
	t.Cleanup(hs2.Close)
	h2 := &harness{env: h1.env, srv: replica, http: hs2, defs: h1.defs}

	path := "/api/v1/workflows/" + d.ID + "/run"
	body := []byte(`{"inputs":{}}`)
	signed := func(ts string) map[string]string {
		return map[string]string{"X-Secflow-Signature": SignatureHeaderValue(secret, ts, body), "X-Secflow-Timestamp": ts}
	}
	now := time.Now().Unix()
	first := signed(strconv.FormatInt(now, 10))

	a := h1.post(t, path, body, first)
	if a.code != http.StatusCreated || a.body["status"] != StatusStarted {
		t.Fatalf("first signed request: %d %s", a.code, a.raw)
	}
	if id, _ := a.body["workflowId"].(string); !strings.HasPrefix(id, d.ID+"/manual/sig-") {
		t.Errorf("workflowId = %q, want it keyed by the signature", id)
	}
	if r := h1.post(t, path, body, first); r.code != http.StatusUnauthorized {
		t.Errorf("replay to the same replica: %d %s, want 401 (replay cache)", r.code, r.raw)
	}
	r := h2.post(t, path, body, first)
	if r.code != http.StatusOK || r.body["status"] != StatusDuplicate || r.body["workflowId"] != a.body["workflowId"] || r.body["runId"] != a.body["runId"] {
		t.Errorf("replay to another replica: %d %s, want 200 duplicate of %v", r.code, r.raw, a.body["workflowId"])
	}
	again := h2.post(t, path, body, signed(strconv.FormatInt(now-1, 10)))
	if again.code != http.StatusCreated || again.body["workflowId"] == a.body["workflowId"] {
		t.Errorf("newly signed request: %d %s, want a new run", again.code, again.raw)
	}
	keyed := signed(strconv.FormatInt(now-2, 10))
	keyed["Idempotency-Key"] = uniq(t, "key")
	if k := h2.post(t, path, body, keyed); k.code != http.StatusCreated || k.body["workflowId"] != d.ID+"/manual/"+keyed["Idempotency-Key"] {
		t.Errorf("an Idempotency-Key wins over the signature: %d %s", k.code, k.raw)
	}
}
