package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	_ "github.com/secflow/secflow/activities/all" // every integration activity, as the secflow binary has them
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/internal/temporalclient"
	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/starter"
	"github.com/secflow/secflow/worker"
)

// One embedded Temporal server serves every test of this binary.
func TestMain(m *testing.M) { testenv.Main(m) }

// pollTimeout bounds every wait for a run to reach a state.
const pollTimeout = 30 * time.Second

// slowTest is the duration above which a passing test shows its product's
// logs too (every test here takes a few seconds at most).
const slowTest = 10 * time.Second

// product is one secflow deployment wired as `secflow dev --sandbox` wires
// it, on the shared Temporal server: its own task queue, worker, starter
// (served by httptest) and, unless the test brings its own connectors, the
// sandbox fakes as the default connectors.
type product struct {
	env     *testenv.Env
	tq      string
	client  client.Client // the worker's client; its SDK logs go to logs
	sandbox *sandbox.Sandbox
	intake  *httptest.Server
	defs    *defstore.Store
	logs    *testenv.SyncBuffer
}

// config selects what a product runs.
type config struct {
	// defsDir is the definitions directory (defstore.Open).
	defsDir string
	// connectors builds the connector store from the running sandbox; nil
	// means connectors.FromSandbox (the sandbox's fixed credentials).
	connectors func(t *testing.T, sb *sandbox.Sandbox) *connectors.Store
}

// alerts numbers the alert ids alertEvent hands out.
var alerts atomic.Int64

// start brings a product up; everything stops when the test ends. On
// failure the product's logs are printed.
func start(t *testing.T, cfg config) *product {
	t.Helper()
	env := testenv.Start(t)
	p := &product{env: env, tq: env.TaskQueue(t), logs: &testenv.SyncBuffer{}}
	log := slog.New(slog.NewJSONHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	began := time.Now()
	t.Cleanup(func() {
		if took := time.Since(began); t.Failed() || took > slowTest {
			t.Logf("product logs (test took %s):\n%s", took.Round(time.Millisecond), p.logs.String())
		}
	})

	defs, err := defstore.Open(cfg.defsDir, step.Default())
	if err != nil {
		t.Fatalf("loading definitions from %s: %v", cfg.defsDir, err)
	}
	p.defs = defs

	sb, err := sandbox.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	p.sandbox = sb
	store := connectors.FromSandbox(sb)
	if cfg.connectors != nil {
		store = cfg.connectors(t, sb)
	}

	// A client of its own, so that the SDK's (and the workflow's) log lines
	// land in p.logs too.
	ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
	defer cancel()
	c, err := temporalclient.Dial(ctx, &temporalclient.Options{Address: env.HostPort, Namespace: env.Namespace},
		log.With("component", "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	p.client = c

	w, err := worker.New(worker.Config{
		Client:      c,
		TaskQueue:   p.tq,
		Namespace:   env.Namespace,
		Definitions: defs,
		Registry:    step.Default(),
		Runtime:     connectors.NewRuntime(store, nil, log.With("component", "activity")),
		Logger:      log.With("component", "worker"),
		UIBaseURL:   env.UIURL,
		KibanaURL:   sb.URL("kibana"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	st, err := starter.New(starter.Config{
		Client:      env.Client,
		Namespace:   env.Namespace,
		TaskQueue:   p.tq,
		Definitions: defs,
		Logger:      log.With("component", "starter"),
		UIBaseURL:   env.UIURL,
		RateLimit:   starter.RateLimit{PerSecond: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	p.intake = httptest.NewServer(st.Handler())
	t.Cleanup(p.intake.Close)
	return p
}

// alertAnswer is the answer of POST /api/v1/alerts.
type alertAnswer struct {
	Started    int                   `json:"started"`
	Duplicates int                   `json:"duplicates"`
	Matched    int                   `json:"matched"`
	Runs       []starter.StartResult `json:"runs"`
}

// postAlert posts an alert event to the starter and decodes the answer,
// failing the test on anything but 200.
func (p *product) postAlert(t *testing.T, event []byte) alertAnswer {
	t.Helper()
	resp, err := http.Post(p.intake.URL+"/api/v1/alerts", "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v1/alerts: %s %s", resp.Status, raw)
	}
	var a alertAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return a
}

// startAlert posts an event that must start exactly one run and returns it.
func (p *product) startAlert(t *testing.T, event []byte) starter.StartResult {
	t.Helper()
	a := p.postAlert(t, event)
	if a.Started != 1 || len(a.Runs) != 1 || a.Runs[0].Status != starter.StatusStarted ||
		a.Runs[0].WorkflowID == "" || a.Runs[0].RunID == "" {
		t.Fatalf("alert did not start exactly one run: %+v", a)
	}
	return a.Runs[0]
}

// result waits for a run to close and returns its interpreter result (also
// for failed runs, whose result travels in the failure).
func (p *product) result(t *testing.T, workflowID, runID string) interpreter.RunResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
	defer cancel()
	var res interpreter.RunResult
	err := p.env.Client.GetWorkflow(ctx, workflowID, runID).Get(ctx, &res)
	if err != nil {
		if r, ok := interpreter.ResultFromError(err); ok {
			return *r
		}
		st, _ := p.state(workflowID)
		t.Fatalf("run %s did not finish: %v (state %+v)", workflowID, err, st)
	}
	return res
}

// state runs the "state" query.
func (p *product) state(workflowID string) (interpreter.State, error) {
	var st interpreter.State
	v, err := p.env.Client.QueryWorkflow(context.Background(), workflowID, "", interpreter.QueryState)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}

// steps runs the "steps" query.
func (p *product) steps(t *testing.T, workflowID string) interpreter.Results {
	t.Helper()
	var res interpreter.Results
	v, err := p.env.Client.QueryWorkflow(context.Background(), workflowID, "", interpreter.QuerySteps)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// waitState polls the state query until cond holds.
func (p *product) waitState(t *testing.T, workflowID, what string, cond func(interpreter.State) bool) interpreter.State {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := p.state(workflowID)
		if err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: state %+v (%v)", what, st, err)
		}
		<-tick.C
	}
}

// history returns every event of a run.
func (p *product) history(t *testing.T, workflowID, runID string) *historypb.History {
	t.Helper()
	h := testenv.History(t, p.env.Client, workflowID, runID)
	if len(h.Events) == 0 {
		t.Fatalf("run %s has no history", workflowID)
	}
	return h
}

// scheduledActivities lists a run's ActivityTaskScheduled events as
// "<ActivityId> <ActivityType> [<user metadata summary>]", in order.
func scheduledActivities(t *testing.T, p *product, workflowID, runID string) []string {
	t.Helper()
	var out []string
	for _, e := range p.history(t, workflowID, runID).GetEvents() {
		if e.GetEventType() != enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED {
			continue
		}
		a := e.GetActivityTaskScheduledEventAttributes()
		var summary string
		if pl := e.GetUserMetadata().GetSummary(); pl != nil {
			if err := converter.GetDefaultDataConverter().FromPayload(pl, &summary); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, a.GetActivityId()+" "+a.GetActivityType().GetName()+" ["+summary+"]")
	}
	return out
}

// replay replays a closed run's full history with a fresh replayer and
// the interpreter configured as the product's worker is: any
// nondeterminism in the workflow code for this run fails the test.
func (p *product) replay(t *testing.T, workflowID, runID string) {
	t.Helper()
	r := sdkworker.NewWorkflowReplayer()
	r.RegisterDynamicWorkflow(interpreter.Workflow(interpreter.Options{
		Registry: step.Default(), UIBaseURL: p.env.UIURL, KibanaURL: p.sandbox.URL("kibana"), SearchAttributes: true,
	}), workflow.DynamicRegisterOptions{})
	if err := r.ReplayWorkflowHistory(nil, p.history(t, workflowID, runID)); err != nil {
		t.Errorf("replaying %s: %v", workflowID, err)
	}
}

// keyword reads a Keyword search attribute of the current run of a
// workflow ID (Describe is strongly consistent, unlike List).
func (p *product) keyword(t *testing.T, workflowID string, key temporal.SearchAttributeKeyKeyword) string {
	t.Helper()
	d, err := p.env.Client.DescribeWorkflowExecution(context.Background(), workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if pl := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[key.GetName()]; pl != nil {
		if err := converter.GetDefaultDataConverter().FromPayload(pl, &s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// alertEvent reads an alert event file and gives its first alert a fresh
// id (so that every test gets its own workflow ID: the starter derives it
// from the rule and alert ids, and a second delivery would be a duplicate)
// and the given severity ("" keeps it).
func alertEvent(t *testing.T, file, severity string) ([]byte, map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	alert := ev["alerts"].([]any)[0].(map[string]any)
	id := fmt.Sprintf("%s-%s-%d", alert["_id"], strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), alerts.Add(1))
	alert["_id"] = id
	ka := alert["kibana"].(map[string]any)["alert"].(map[string]any)
	ka["uuid"] = id
	if severity != "" {
		ka["severity"] = severity
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b, ev
}

// get walks a JSON-like value along dotted keys.
func get(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// jsonBody decodes a recorded request body (nil when it is not JSON).
func jsonBody(r sandbox.Request) map[string]any {
	var m map[string]any
	_ = json.Unmarshal([]byte(r.Body), &m)
	return m
}
