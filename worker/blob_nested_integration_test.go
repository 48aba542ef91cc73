package worker_test

import (
	"bytes"
	"encoding/json"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/worker"
)

// TestBlobNestedRefsOnServer: with a 1 KiB blob threshold, the branches
// of a parallel step return outputs kept in the blob store, so the
// parallel step's output.results holds blob references. Templates, a
// foreach, data.set, a condition and data.map reading those results
// (interpreter/testdata/shared/blob-nested-refs.yaml) go through the fetch
// local activity and see the real values; no activity receives a
// reference. The run replays (checked in as blob-nested-refs.json, with
// its blob-nested-refs version marker).
func TestBlobNestedRefsOnServer(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	reg := longRegistry(&sideEffects{})
	w, err := worker.New(worker.Config{Client: env.Client, TaskQueue: tq, Namespace: env.Namespace, Registry: reg,
		UIBaseURL: env.UIURL, Blobs: blobstore.NewMemory(), BlobThreshold: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	def := load(t, "blob-nested-refs", sharedDef(t, "blob-nested-refs"), reg)
	res, chain := runLong(t, env, tq, "blob-nested-refs-"+tq, interpreter.RunInput{Definition: def})
	want := `{"first":"a","fromvar":"b","gate":"yes","items":"a,b","per":"b","raw":"a","whole":"a,b"}`
	if got, _ := json.Marshal(res.Output); res.Status != interpreter.StatusCompleted || string(got) != want {
		t.Fatalf("result %s %s, want %s", res.Status, got, want)
	}
	if len(chain) != 1 {
		t.Fatalf("%d runs, want 1", len(chain))
	}
	h := chain[0]
	// The branch outputs are references in history, and no activity was
	// scheduled with one.
	refs := 0
	for _, e := range h.Events {
		raw := testenv.ProtoBytes(t, e)
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			if bytes.Contains(raw, []byte(interpreter.BlobRefKey)) {
				refs++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if bytes.Contains(raw, []byte(interpreter.BlobRefKey)) {
				t.Errorf("activity scheduled with a blob reference: %.300s", raw)
			}
		}
	}
	if refs != 3 {
		t.Fatalf("%d activity results are blob references, want the 2 branch outputs and raw's echo of one", refs)
	}
	if n := occurrences(versionChanges(t, h), "blob-nested-refs"); n == 0 {
		t.Fatalf("no blob-nested-refs version marker (changes %v)", versionChanges(t, h))
	}
	if n := occurrences(localActivities(t, h), interpreter.FetchBlobActivity); n < 4 {
		t.Fatalf("%d %s local activities (%v), want one per reading of the results", n, interpreter.FetchBlobActivity, localActivities(t, h))
	}
	replay(t, "blob-nested-refs", h, reg)
	saveHistory(t, "blob-nested-refs", h)
}
