package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter"
)

// TestOperatorSkipsFailedNotification: Slack rejects the demo's webhook
// post for good (400), so the run parks waiting for an operator — visible
// in the StepStatus search attribute and the state query, with the case
// already open. An operator outside the worker sends the step-control
// update "skip" with a stand-in output, and the run completes with it.
// (worker/integration_test.go covers retry and fail on the server.)
func TestOperatorSkipsFailedNotification(t *testing.T) {
	p := start(t, config{defsDir: demoDir})
	slack := p.sandbox.Service("slack").(*sandbox.Slack)
	slack.Inject(sandbox.SlackWebhookPath, http.StatusBadRequest, "", "invalid_payload", 1)
	raw, _ := alertEvent(t, demoAlert, "high")
	run := p.startAlert(t, raw)
	const path = "route/notify_slack"

	st := p.waitState(t, run.WorkflowID, "the Slack step to park", func(s interpreter.State) bool {
		return s.Status == interpreter.StatusWaitingForOperator
	})
	if w := st.WaitingFor; w == nil || w.Kind != "operator" || w.Step != path || w.Error == nil ||
		w.Error.Type != "ConnectorExecutionError" || !strings.Contains(w.Message, interpreter.StepControl) {
		t.Fatalf("waitingFor %+v, want the operator asked about %s's ConnectorExecutionError", w, path)
	}
	if got := p.keyword(t, run.WorkflowID, searchattr.StepStatus); got != interpreter.StatusWaitingForOperator {
		t.Errorf("StepStatus = %q, want %q", got, interpreter.StatusWaitingForOperator)
	}
	if got := p.keyword(t, run.WorkflowID, searchattr.CurrentStep); got != path {
		t.Errorf("CurrentStep = %q, want %q", got, path)
	}
	// A permanent failure is not retried: one post, no message.
	if n := len(p.sandbox.ReceivedBy("slack")); n != 1 || len(slack.Messages()) != 0 {
		t.Errorf("Slack received %d posts and holds %d messages, want 1 rejected post", n, len(slack.Messages()))
	}
	cases := p.sandbox.Service("kibana").(*sandbox.Kibana).Cases()
	if len(cases) != 1 || len(cases[0].Comments) != 2 {
		t.Fatalf("before the decision: cases %+v, want the case with alert and summary", cases)
	}

	ctx := context.Background()
	upd, err := p.env.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: run.WorkflowID, UpdateName: interpreter.StepControl, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{interpreter.ControlRequest{Step: path, Action: interpreter.ActionSkip,
			Output: map[string]any{"text": "posted manually by the operator"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ack interpreter.ControlResponse
	if err := upd.Get(ctx, &ack); err != nil || ack.Step != path || ack.Action != interpreter.ActionSkip {
		t.Fatalf("step-control answered %+v, %v", ack, err)
	}

	res := p.result(t, run.WorkflowID, run.RunID)
	if res.Status != interpreter.StatusCompleted || res.Error != nil {
		t.Fatalf("result %+v, want completed after skip", res)
	}
	if out := get(p.steps(t, run.WorkflowID).Steps["notify_slack"], "output.text"); out != "posted manually by the operator" {
		t.Errorf("notify_slack output %v, want the operator's", out)
	}
	if got := p.keyword(t, run.WorkflowID, searchattr.StepStatus); got != interpreter.StatusCompleted {
		t.Errorf("final StepStatus = %q", got)
	}
	p.replay(t, run.WorkflowID, run.RunID)
	// Skipping does not post: the rejected request stays the only one, and
	// nothing else was redone.
	if n := len(p.sandbox.ReceivedBy("slack")); n != 1 || len(slack.Messages()) != 0 {
		t.Errorf("after skip Slack received %d posts, %d messages; want the 1 rejected post", n, len(slack.Messages()))
	}
	if cases := p.sandbox.Service("kibana").(*sandbox.Kibana).Cases(); len(cases) != 1 || len(cases[0].Comments) != 2 {
		t.Errorf("after skip: cases %+v, want the one case unchanged", cases)
	}
}
