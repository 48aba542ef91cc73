package worker_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
)

// versionChanges is the change ID of every Version marker (recorded by
// workflow.GetVersion) in h, in order.
func versionChanges(t *testing.T, h *historypb.History) []string {
	t.Helper()
	var out []string
	for _, e := range h.Events {
		m := e.GetMarkerRecordedEventAttributes()
		if m.GetMarkerName() != "Version" {
			continue
		}
		var id string
		if err := converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()["change-id"], &id); err != nil {
			t.Fatalf("decoding a version marker: %v", err)
		}
		out = append(out, id)
	}
	return out
}

// localActivities is the activity type of every LocalActivity marker in
// h, in order.
func localActivities(t *testing.T, h *historypb.History) []string {
	t.Helper()
	var out []string
	for _, e := range h.Events {
		m := e.GetMarkerRecordedEventAttributes()
		if m.GetMarkerName() != "LocalActivity" {
			continue
		}
		var data struct{ ActivityType string }
		if err := converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()["data"], &data); err != nil {
			t.Fatalf("decoding a local activity marker: %v", err)
		}
		out = append(out, data.ActivityType)
	}
	return out
}

// occurrences is the number of elements of list equal to s.
func occurrences(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// continuedInput is the run input h's run continued as new with (nil when
// it did not continue as new).
func continuedInput(t *testing.T, h *historypb.History) *interpreter.RunInput {
	t.Helper()
	last := h.Events[len(h.Events)-1]
	if last.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
		return nil
	}
	var in interpreter.RunInput
	if err := converter.GetDefaultDataConverter().FromPayloads(last.GetWorkflowExecutionContinuedAsNewEventAttributes().GetInput(), &in); err != nil {
		t.Fatalf("decoding the continue-as-new input: %v", err)
	}
	return &in
}

// sharedDef is the definition interpreter/testdata/shared/<name>.yaml,
// shared with the interpreter's workflow tests.
func sharedDef(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "interpreter", "testdata", "shared", name+".yaml"))
	if err != nil {
		t.Fatalf("reading the shared definition: %v", err)
	}
	return string(b)
}

// TestContinueAsNewInsideSwitchOnServer: a foreach of 24 items in the
// second case of a switch is cut between iterations on the server. Every
// continuation resumes inside the recorded case (the loop changes what the
// switch expression reads, so rendering it again would take the first
// case); a run that resumes inside the case and continues again replays
// (checked in as continued-as-new-switch.json, with its
// continue-as-new-switch version marker).
func TestContinueAsNewInsideSwitchOnServer(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	reg := longRegistry(&sideEffects{})
	startLongWorker(t, env, tq, reg, nil, 40)
	def := load(t, "continued-as-new-switch", sharedDef(t, "switch-foreach"), reg)
	res, chain := runLong(t, env, tq, "continued-as-new-switch-"+tq, interpreter.RunInput{Definition: def})
	var seen strings.Builder
	for i := 1; i <= 24; i++ {
		fmt.Fprintf(&seen, "%dpre,", i)
	}
	want := map[string]any{"seen": seen.String(), "post": "24/24", "matched": "1:scan:scan", "idle": nil, "never": nil}
	got, _ := json.Marshal(res.Output)
	wantJSON, _ := json.Marshal(want)
	if res.Status != interpreter.StatusCompleted || string(got) != string(wantJSON) {
		t.Fatalf("result %s %s, want %s", res.Status, got, wantJSON)
	}
	// Every continuation but the last resumes inside case 1 of route
	// (step 1) at its foreach (step 1 of the case).
	inside := 0
	for i, h := range chain {
		in := continuedInput(t, h)
		if in == nil || in.Resume == nil {
			continue
		}
		fr := in.Resume.Frames
		if len(fr) == 2 && fr[0].Step == 1 && fr[0].Case == 1 && fr[1].Step == 1 && fr[1].Iteration > 0 {
			inside++
		} else if len(fr) > 0 {
			t.Errorf("run %d continued with frames %+v, want route case 1, foreach each", i+1, fr)
		}
	}
	if inside < 2 {
		t.Fatalf("%d continuations inside the switch case (%d runs), want several", inside, len(chain))
	}
	saved := chain[1]
	if n := occurrences(versionChanges(t, saved), "continue-as-new-switch"); n == 0 || continuedInput(t, saved) == nil {
		t.Fatalf("the saved run has %d continue-as-new-switch markers (changes %v) and continued: %v",
			n, versionChanges(t, saved), continuedInput(t, saved) != nil)
	}
	replayLoopChain(t, "continued-as-new-switch", chain, reg)
}
