package worker_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/worker"
)

// TestWorkerMetricsEndToEnd runs a definition with a succeeding and a
// failing activity step on the real server, with the worker's client
// feeding the SDK metrics, and scrapes /metrics (behind a token) for the
// SDK's activity metrics and secflow's step counter.
func TestWorkerMetricsEndToEnd(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	fx := &sideEffects{}
	reg := fx.registry()
	def := load(t, "metrics", `steps:
  - { name: echo, type: test.echo, with: { token: "s3cret-value" } }
  - name: broken
    type: test.fixable
    on-failure:
      continue: true
`, reg)

	m := worker.NewMetrics()
	c, err := client.NewClientFromExisting(env.Client, client.Options{Namespace: env.Namespace, MetricsHandler: m.SDKHandler()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := worker.New(worker.Config{Client: c, TaskQueue: tq, Namespace: env.Namespace, Registry: reg,
		UIBaseURL: env.UIURL, Options: sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{m.Interceptor(reg)}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx := context.Background()
	run, err := env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "metrics-" + tq, TaskQueue: tq}, def.ID,
		interpreter.RunInput{Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	var res interpreter.RunResult
	if err := run.Get(ctx, &res); err != nil || res.Status != interpreter.StatusCompleted {
		t.Fatalf("run: %+v %v", res, err)
	}

	srv := httptest.NewServer(m.HTTPHandler("scrape-token"))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("scrape without token: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-token")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %s", resp.StatusCode, body)
	}

	for _, want := range [][]string{
		// The SDK's metrics, through internal/sdkmetrics.
		{"temporal_activity_execution_latency_count{", `activity_type="test.echo"`, `task_queue="` + tq + `"`, `workflow_type="metrics"`, `namespace="` + env.Namespace + `"`},
		{"temporal_activity_execution_failed{", `activity_type="test.fixable"`, `failure_reason="ActivityError"`, "} 1"},
		{"temporal_workflow_task_execution_latency_bucket{", `workflow_type="metrics"`},
		// secflow's step metrics.
		{`secflow_worker_steps_total{outcome="succeeded",step_type="test.echo"} 1`},
		{`secflow_worker_steps_total{outcome="failed",step_type="test.fixable"} 1`},
		{`secflow_worker_step_duration_seconds_count{step_type="test.echo"} 1`},
	} {
		if !hasLine(body, want...) {
			t.Errorf("no line with %q in the scrape", want)
		}
	}
	if strings.Contains(body, "s3cret-value") {
		t.Error("a step input reached the metrics")
	}
	if strings.Contains(body, `step_type="secflow.`) {
		t.Error("an internal activity was counted as a step")
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}

// hasLine reports whether one line of body contains every part.
func hasLine(body string, parts ...string) bool {
	for _, line := range strings.Split(body, "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
