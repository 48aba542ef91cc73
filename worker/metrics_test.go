package worker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

// stepCounts gathers secflow_worker_steps_total as "type/outcome" → count,
// and the histogram sample count by step type.
func stepCounts(t *testing.T, m *Metrics) (steps map[string]float64, durations map[string]uint64) {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	steps, durations = map[string]float64{}, map[string]uint64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range mt.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			switch mf.GetName() {
			case "secflow_worker_steps_total":
				steps[l["step_type"]+"/"+l["outcome"]] = mt.GetCounter().GetValue()
			case "secflow_worker_step_duration_seconds":
				durations[l["step_type"]] = mt.GetHistogram().GetSampleCount()
			}
		}
	}
	return steps, durations
}

// TestStepMetricsInterceptor runs step activities, bound like the worker
// binds them, through the metrics interceptor and checks what is counted.
func TestStepMetricsInterceptor(t *testing.T) {
	reg := step.NewRegistry()
	spec := func(typ string, err error) *step.Spec {
		return &step.Spec{Type: typ, Kind: step.KindActivity, OpenWith: true,
			Activity: func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
				if err != nil {
					return nil, err
				}
				return map[string]any{"secret": "never a label"}, nil
			}}
	}
	specs := []*step.Spec{
		spec("test.ok", nil),
		spec("test.permanent", step.Errorf("HttpRequestError", "Request failed with status code 404")),
		spec("test.transient", step.Transient("ConnectionRefused", "Connection refused")),
		spec("test.plain", errors.New("boom")), // bind makes it non-retryable
		spec("*", nil),                         // generic connector: accepts "secflow.fetchBlob" (not "not a step type") as a type
	}
	for _, s := range specs {
		reg.MustAdd(s)
	}
	m := NewMetrics()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.SetWorkerOptions(sdkworker.Options{Interceptors: append(sdkworker.Options{}.Interceptors, m.Interceptor(reg))})
	off := offloader{threshold: -1}
	for _, s := range specs[:4] {
		env.RegisterActivityWithOptions(bind(s, nil, off), activity.RegisterOptions{Name: s.Type})
	}
	env.RegisterActivityWithOptions(bind(specs[4], nil, off), activity.RegisterOptions{Name: interpreter.FetchBlobActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context) (string, error) { return "x", nil }, activity.RegisterOptions{Name: "not a step type"})

	in := step.Input{IdempotencyKey: "k", With: map[string]any{"token": "s3cret"}}
	for _, tc := range []struct {
		name    string
		wantErr bool
	}{
		{"test.ok", false}, {"test.ok", false}, {"test.permanent", true}, {"test.transient", true},
		{"test.plain", true}, {interpreter.FetchBlobActivity, false},
	} {
		if _, err := env.ExecuteActivity(tc.name, in); (err != nil) != tc.wantErr {
			t.Fatalf("%s: error %v, want error %t", tc.name, err, tc.wantErr)
		}
	}
	if _, err := env.ExecuteActivity("not a step type"); err != nil {
		t.Fatal(err)
	}

	steps, durations := stepCounts(t, m)
	want := map[string]float64{
		"test.ok/succeeded":               2,
		"test.permanent/failed":           1,
		"test.transient/failed_retryable": 1,
		"test.plain/failed":               1,
	}
	if len(steps) != len(want) {
		t.Errorf("steps_total series %v, want %v", steps, want)
	}
	for k, v := range want {
		if steps[k] != v {
			t.Errorf("steps_total{%s} = %v, want %v (all: %v)", k, steps[k], v, steps)
		}
	}
	wantDur := map[string]uint64{"test.ok": 2, "test.permanent": 1, "test.transient": 1, "test.plain": 1}
	if len(durations) != len(wantDur) {
		t.Errorf("duration series %v, want %v", durations, wantDur)
	}
	for k, v := range wantDur {
		if durations[k] != v {
			t.Errorf("step_duration_seconds{%s} count = %d, want %d", k, durations[k], v)
		}
	}
}

func TestStepMetricsOutcome(t *testing.T) {
	live := context.Background()
	expired, cancel1 := context.WithDeadline(live, time.Unix(0, 0))
	defer cancel1()
	cancelled, cancel2 := context.WithCancel(live)
	cancel2()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"success", live, nil, OutcomeSucceeded},
		{"success after the deadline still counts as success", expired, nil, OutcomeSucceeded},
		{"non-retryable application error", live, temporal.NewNonRetryableApplicationError("m", "HttpRequestError", nil), OutcomeFailed},
		{"retryable application error", live, temporal.NewApplicationError("m", "ConnectionRefused"), OutcomeRetryable},
		{"plain error is retried by Temporal", live, errors.New("boom"), OutcomeRetryable},
		{"deadline passed", expired, toApplicationError(expired.Err()), OutcomeTimedOut},
		{"context cancelled", cancelled, toApplicationError(cancelled.Err()), OutcomeCancelled},
		{"canceled error", live, temporal.NewCanceledError(), OutcomeCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stepOutcome(tc.ctx, tc.err); got != tc.want {
				t.Errorf("outcome %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMetricsHTTPAuth(t *testing.T) {
	m := NewMetrics()
	m.observe("test.ok", OutcomeSucceeded, time.Second)
	m.SDKHandler().WithTags(map[string]string{"namespace": "default"}).Counter("temporal_request").Inc(1)
	for _, tc := range []struct {
		name, token, path, auth string
		want                    int
	}{
		{"open by default", "", "/metrics", "", http.StatusOK},
		{"token: none sent", "t0ken", "/metrics", "", http.StatusUnauthorized},
		{"token: wrong one", "t0ken", "/metrics", "Bearer nope", http.StatusUnauthorized},
		{"token: right one", "t0ken", "/metrics", "Bearer t0ken", http.StatusOK},
		{"healthz stays open", "t0ken", "/healthz", "", http.StatusOK},
		{"unknown path", "", "/other", "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(m.HTTPHandler(tc.token))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			hasMetrics := strings.Contains(string(body), "secflow_worker_steps_total{")
			if wantMetrics := tc.path == "/metrics" && tc.want == http.StatusOK; hasMetrics != wantMetrics {
				t.Errorf("metrics in body = %t, want %t:\n%.300s", hasMetrics, wantMetrics, body)
			}
			if tc.path == "/metrics" && tc.want == http.StatusOK && !strings.Contains(string(body), `temporal_request{namespace="default"} 1`) {
				t.Errorf("SDK metric missing:\n%s", body)
			}
		})
	}
}

func TestMetricsListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewMetrics()
	addr, err := m.Listen(ctx, "127.0.0.1:0", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	if _, err := m.Listen(ctx, addr.String(), "", nil); err == nil {
		t.Error("a second listener on a busy address did not fail")
	}
}
