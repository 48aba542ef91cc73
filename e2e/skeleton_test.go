package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/starter"
)

// echoServer is the outside system the skeleton's http step calls.
type echoServer struct {
	mu       sync.Mutex
	requests []echoRequest
}

type echoRequest struct {
	Method, Path, Host string
	Body               map[string]any
}

func (e *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	e.mu.Lock()
	e.requests = append(e.requests, echoRequest{Method: r.Method, Path: r.URL.Path, Host: r.URL.Query().Get("host"), Body: body})
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"echo": body, "host": r.URL.Query().Get("host")})
}

func (e *echoServer) received() []echoRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]echoRequest(nil), e.requests...)
}

// skeletonEvent is an alert event in the shape of §8.1 for the skeleton.
func skeletonEvent(ruleID, alertID string) []byte {
	b, _ := json.Marshal(map[string]any{
		"alerts": []any{map[string]any{
			"_id": alertID, "_index": ".internal.alerts-security.alerts-default-000001",
			"kibana": map[string]any{"alert": map[string]any{"uuid": alertID, "severity": "medium",
				"rule": map[string]any{"uuid": ruleID, "name": "Skeleton rule"}}},
			"host": map[string]any{"name": "ws-skel"},
		}},
		"rule":    map[string]any{"id": ruleID, "name": "Skeleton rule"},
		"spaceId": "default",
	})
	return b
}

// TestWalkingSkeleton (issue 2): an alert POSTed to the starter becomes a
// durable run of the definition whose trigger is `alert`; the run executes
// its console and http steps on the worker and completes; the http step is
// an activity named after the step in history; a redelivered alert is
// recognised and starts nothing.
func TestWalkingSkeleton(t *testing.T) {
	echo := &echoServer{}
	srv := httptest.NewServer(echo)
	t.Cleanup(srv.Close)
	src, err := os.ReadFile("testdata/skeleton.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "e2e-skeleton.yaml"),
		[]byte(strings.ReplaceAll(string(src), "__ECHO_URL__", srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, config{defsDir: dir})
	def, ok := p.defs.Get("e2e-skeleton")
	if !ok {
		t.Fatalf("definition id is not the file slug: %v", p.defs.All())
	}
	ctx := context.Background()

	// Alert ids unique in this test binary (-count=N reruns on the same server).
	alertID, otherID := fmt.Sprintf("alert-skel-%d", alerts.Add(1)), fmt.Sprintf("alert-skel-%d", alerts.Add(1))
	event := skeletonEvent("rule-skel", alertID)
	run := p.startAlert(t, event)
	if want := starter.SummaryWorkflowID(def.ID, "rule-skel", []string{alertID}); run.WorkflowID != want {
		t.Errorf("workflow ID %q, want %q (derived from definition, rule and alert ids)", run.WorkflowID, want)
	}
	if run.Definition != def.ID {
		t.Errorf("run of definition %q, want %q", run.Definition, def.ID)
	}

	res := p.result(t, run.WorkflowID, run.RunID)
	if res.Status != interpreter.StatusCompleted {
		t.Fatalf("run result %+v, want completed", res)
	}
	// The http step really called the outside system, with rendered templates.
	reqs := echo.received()
	if len(reqs) != 1 || reqs[0].Method != http.MethodPost || reqs[0].Path != "/echo" || reqs[0].Host != "ws-skel" ||
		reqs[0].Body["rule"] != "rule-skel" || reqs[0].Body["alert"] != alertID {
		t.Errorf("echo server received %+v, want one POST /echo?host=ws-skel with the rule and alert ids", reqs)
	}
	if got := get(res.Output, "echoed.host"); got != "ws-skel" {
		t.Errorf("output %v: the http step's parsed response did not reach workflow.output", res.Output)
	}

	// Temporal: workflow type = definition id, pinned revision in the memo,
	// the http step an activity with ActivityId = step path and a summary
	// naming the step; the console step is not an activity.
	desc, err := p.env.Client.DescribeWorkflowExecution(ctx, run.WorkflowID, run.RunID)
	if err != nil {
		t.Fatal(err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetType().GetName() != def.ID || info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("execution type %q status %v, want %q completed", info.GetType().GetName(), info.GetStatus(), def.ID)
	}
	var rev string
	_ = converter.GetDefaultDataConverter().FromPayload(info.GetMemo().GetFields()[interpreter.MemoRevision], &rev)
	if rev == "" || rev != def.Revision {
		t.Errorf("memo revision %q, want %q", rev, def.Revision)
	}
	acts := scheduledActivities(t, p, run.WorkflowID, run.RunID)
	if want := []string{"call_echo http [call_echo (http)]"}; !slices.Equal(acts, want) {
		t.Errorf("scheduled activities %q, want %q: the http step with ActivityId = its path and a summary naming it", acts, want)
	}

	p.replay(t, run.WorkflowID, run.RunID)

	// Redelivery: same workflow ID and run, reported as duplicate, nothing started.
	again := p.postAlert(t, event)
	if again.Started != 0 || again.Duplicates != 1 || len(again.Runs) != 1 ||
		again.Runs[0].Status != starter.StatusDuplicate || again.Runs[0].WorkflowID != run.WorkflowID || again.Runs[0].RunID != run.RunID {
		t.Errorf("second delivery answered %+v, want the same run as duplicate", again)
	}
	if n := len(echo.received()); n != 1 {
		t.Errorf("the echo server was called %d times after the redelivery, want 1", n)
	}
	latest, err := p.env.Client.DescribeWorkflowExecution(ctx, run.WorkflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := latest.GetWorkflowExecutionInfo().GetExecution().GetRunId(); got != run.RunID {
		t.Errorf("latest run of %s is %s, want the first run %s: the redelivery started a run", run.WorkflowID, got, run.RunID)
	}
	// Visibility is eventually consistent: wait until it lists the closed
	// run, then there must be exactly one execution with this workflow ID.
	query := "WorkflowId = '" + run.WorkflowID + "'"
	var listed []string
	deadline := time.Now().Add(pollTimeout)
	for {
		listed = nil
		resp, err := p.env.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: p.env.Namespace, Query: query})
		if err != nil {
			t.Fatal(err)
		}
		closed := false
		for _, e := range resp.GetExecutions() {
			listed = append(listed, e.GetExecution().GetWorkflowId()+"/"+e.GetExecution().GetRunId())
			closed = closed || e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		}
		if closed || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(listed) != 1 || listed[0] != run.WorkflowID+"/"+run.RunID {
		t.Errorf("visibility lists %q for %s, want only %s/%s", listed, query, run.WorkflowID, run.RunID)
	}

	// A different alert of the same rule is a new run.
	other := p.startAlert(t, skeletonEvent("rule-skel", otherID))
	if other.WorkflowID == run.WorkflowID {
		t.Errorf("a different alert got the same workflow ID %s", other.WorkflowID)
	}
	if res := p.result(t, other.WorkflowID, other.RunID); res.Status != interpreter.StatusCompleted {
		t.Errorf("second alert's run: %+v", res)
	}
}
