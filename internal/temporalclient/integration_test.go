package temporalclient_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/secflow/secflow/internal/payloadcodec"
	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/internal/temporalclient"
	"github.com/secflow/secflow/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Markers that must not appear in clear in Temporal: in the input, the
// activity's input and output, the result, the memo, the summary and a
// failure message. The search attribute marker must (codecs do not touch
// search attributes).
const (
	inputMarker   = "alert-host-7f3a9c-INPUT-MARKER"
	memoMarker    = "memo-user-alice-MEMO-MARKER"
	summaryMarker = "summary-rule-brute-force-SUMMARY-MARKER"
	failMarker    = "failure-detail-FAIL-MARKER"
	saMarker      = "visible-search-attribute-value"
)

// echo is the activity: its input and output are payloads too.
func echo(_ context.Context, s string) (string, error) { return "ai summary of " + s, nil }

// codecWorkflow runs echo and returns its answer, or fails with a message
// holding the input when asked to.
func codecWorkflow(ctx workflow.Context, in string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	if err := workflow.ExecuteActivity(ctx, "codec-echo", in).Get(ctx, &out); err != nil {
		return "", err
	}
	if strings.HasPrefix(in, "fail:") {
		return "", temporal.NewNonRetryableApplicationError("step failed: "+failMarker, "StepFailed", nil)
	}
	return "result: " + out, nil
}

// TestEncryptedHistory: a run started and worked by clients with a key
// ring leaves no plaintext of its input, activity data, result, memo,
// summary or failure message in the server (history and describe, read
// by a client without the codec); a client with the codec and the codec
// server read them back; search attributes stay readable; and a run
// written without encryption is still read by the codec client.
func TestEncryptedHistory(t *testing.T) {
	env := testenv.Start(t)
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))
	opts := &temporalclient.Options{Address: env.HostPort, Namespace: env.Namespace, Payload: payloadcodec.Source{Keys: "it-1:" + key}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := temporalclient.Dial(ctx, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	tq := env.TaskQueue(t)
	w := worker.New(c, tq, worker.Options{})
	w.RegisterWorkflowWithOptions(codecWorkflow, workflow.RegisterOptions{Name: "codec-workflow"})
	w.RegisterActivityWithOptions(echo, activity.RegisterOptions{Name: "codec-echo"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	start := func(cl client.Client, id, in string) client.WorkflowRun {
		t.Helper()
		run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: tq,
			Memo:                  map[string]any{"note": memoMarker},
			StaticSummary:         summaryMarker + strings.Repeat("x", 200-len(summaryMarker)), // the starter's maximum
			TypedSearchAttributes: temporal.NewSearchAttributes(searchattr.HostName.ValueSet(saMarker)),
		}, "codec-workflow", in)
		if err != nil {
			t.Fatalf("starting %s: %v", id, err)
		}
		return run
	}

	ok := start(c, t.Name()+"-ok", inputMarker)
	var res string
	if err := ok.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res != "result: ai summary of "+inputMarker {
		t.Fatalf("result %q", res)
	}
	failed := start(c, t.Name()+"-fail", "fail:"+inputMarker)
	err = failed.Get(ctx, nil)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !strings.Contains(appErr.Error(), failMarker) {
		t.Fatalf("failed run: %v (the codec client must decode the failure message)", err)
	}

	// The server's bytes, read with the plain shared client.
	evidence := map[string][]byte{}
	for _, r := range []client.WorkflowRun{ok, failed} {
		evidence[r.GetID()+" history"] = testenv.ProtoBytes(t, testenv.History(t, env.Client, r.GetID(), r.GetRunID()))
		d, err := env.Client.DescribeWorkflowExecution(ctx, r.GetID(), r.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		evidence[r.GetID()+" describe"] = testenv.ProtoBytes(t, d)
	}
	for _, m := range []string{inputMarker, memoMarker, summaryMarker, failMarker, "ai summary of"} {
		for name, b := range evidence {
			if bytes.Contains(b, []byte(m)) {
				t.Errorf("%q in clear in %s", m, name)
			}
		}
	}
	// Positive controls: the scan sees payloads (encrypted ones) and the
	// unencoded search attribute.
	for name, b := range evidence {
		if !bytes.Contains(b, []byte(payloadcodec.EncodingEncrypted)) {
			t.Errorf("%s holds no encrypted payload: the scan misses payloads", name)
		}
		if strings.HasSuffix(name, "describe") && !bytes.Contains(b, []byte(saMarker)) {
			t.Errorf("%s: search attribute %q not visible; codecs must not encode search attributes", name, saMarker)
		}
	}

	// The plain client cannot read the result.
	var plainRes string
	if err := env.Client.GetWorkflow(ctx, ok.GetID(), ok.GetRunID()).Get(ctx, &plainRes); err == nil {
		t.Errorf("a client without the codec decoded the result: %q", plainRes)
	}

	// The codec server decodes the workflow input as the UI / CLI would ask.
	codec, err := opts.Payload.Load()
	if err != nil {
		t.Fatal(err)
	}
	h, err := payloadcodec.NewHandler(payloadcodec.HandlerOptions{Codec: codec})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	hist := testenv.History(t, env.Client, ok.GetID(), ok.GetRunID())
	input := hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput()
	body, err := protojson.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/"+env.Namespace+"/decode", bytes.NewReader(body))
	req.Header.Set("X-Namespace", env.Namespace)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var decoded commonpb.Payloads
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if err := protojson.Unmarshal(buf.Bytes(), &decoded); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("codec server: %d %s %v", resp.StatusCode, buf.String(), err)
	}
	var in string
	if err := converter.GetDefaultDataConverter().FromPayloads(&decoded, &in); err != nil || in != inputMarker {
		t.Errorf("codec server decoded the input to %q, %v", in, err)
	}

	// A run written without encryption (before the key ring was set) is
	// still read by the codec client: plain payloads pass through.
	plainW := worker.New(env.Client, tq+"-plain", worker.Options{})
	plainW.RegisterWorkflowWithOptions(codecWorkflow, workflow.RegisterOptions{Name: "codec-workflow"})
	plainW.RegisterActivityWithOptions(echo, activity.RegisterOptions{Name: "codec-echo"})
	if err := plainW.Start(); err != nil {
		t.Fatal(err)
	}
	defer plainW.Stop()
	old, err := env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: t.Name() + "-plain", TaskQueue: tq + "-plain"}, "codec-workflow", "old run")
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var oldRes string
	if err := c.GetWorkflow(ctx, old.GetID(), old.GetRunID()).Get(ctx, &oldRes); err != nil || oldRes != "result: ai summary of old run" {
		t.Errorf("codec client reading an unencrypted run: %q, %v", oldRes, err)
	}
}
