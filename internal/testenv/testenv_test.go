package testenv

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

func TestMain(m *testing.M) { Main(m) }

func TestSharedStack(t *testing.T) {
	env := Start(t)
	if again := Start(t); again != env {
		t.Fatal("second Start returned a different Env: the stack is not shared")
	}
	if env.Namespace != "default" || env.HostPort == "" || env.UIURL == "" {
		t.Fatalf("env: %+v", env)
	}
	resp, err := env.Client.OperatorService().ListSearchAttributes(context.Background(),
		&operatorservice.ListSearchAttributesRequest{Namespace: env.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := resp.GetCustomAttributes()["RuleName"]; !ok {
		t.Errorf("search attributes missing: %v", resp.GetCustomAttributes())
	}
	r, err := http.Get(env.UIURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Errorf("UI health: %s", r.Status)
	}
}

func TestTaskQueueUnique(t *testing.T) {
	env := Start(t)
	a, b := env.TaskQueue(t), env.TaskQueue(t)
	if a == b {
		t.Errorf("task queues not unique: %q", a)
	}
	t.Run("sub/test name", func(t *testing.T) {
		if q := env.TaskQueue(t); q == a || q == b || strings.ContainsAny(q, "/ ") {
			t.Errorf("task queue %q", q)
		}
	})
}

func TestHistory(t *testing.T) {
	env := Start(t)
	tq := env.TaskQueue(t)
	id := "history-" + tq
	// No worker polls tq: the run stays at its first workflow task.
	run, err := env.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: tq}, "no-such-type", "in")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.TerminateWorkflow(context.Background(), id, "", "test done") })
	for _, runID := range []string{run.GetRunID(), ""} {
		h := History(t, env.Client, id, runID)
		if len(h.Events) < 2 {
			t.Fatalf("run %q: %d events", runID, len(h.Events))
		}
		first := h.Events[0]
		if first.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED ||
			first.GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName() != "no-such-type" {
			t.Errorf("run %q: first event %v", runID, first)
		}
		if h.Events[1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED {
			t.Errorf("run %q: second event %v", runID, h.Events[1].GetEventType())
		}
	}
}

func TestSyncBuffer(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				_, _ = fmt.Fprintf(&b, "w%d;", i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	out := b.String()
	for i := 0; i < 8; i++ {
		if n := strings.Count(out, fmt.Sprintf("w%d;", i)); n != 100 {
			t.Errorf("writer %d: %d lines, want 100", i, n)
		}
	}
}

func TestProtoBytes(t *testing.T) {
	p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"secret-value"`)}
	b := string(ProtoBytes(t, p))
	// The wire form may hold newline bytes (a tag); compact JSON holds none.
	i := strings.LastIndex(b, "\n")
	if i < 0 {
		t.Fatalf("no newline between the wire form and the JSON: %q", b)
	}
	wire, js := b[:i], b[i+1:]
	if !strings.Contains(wire, `"secret-value"`) {
		t.Errorf("wire form %q lacks the payload data", wire)
	}
	if !strings.Contains(js, `"encoding"`) || !strings.Contains(js, base64.StdEncoding.EncodeToString([]byte(`"secret-value"`))) {
		t.Errorf("protojson %q lacks the fields", js)
	}
}
