package worker_test

import (
	"bytes"
	"encoding/json"
	"strings"
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
// foreach and a condition reading those results go through the fetch
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
	pad := strings.Repeat("p", 2048) // puts each branch output over the threshold
	def := load(t, "blob-nested-refs", `
steps:
  - name: fan
    type: parallel
    foreach: '["a","b"]'
    concurrency: 1
    steps:
      - { name: call, type: test.echo, with: { item: "{{ foreach.item }}", pad: "`+pad+`" } }
  - { name: first, type: test.echo, with: { v: "{{ steps.fan.output.results[0].output.item }}" } }
  - { name: whole, type: test.echo, with: { items: "${{ steps.fan.output.results | map: 'output' | map: 'item' }}" } }
  - name: each
    type: foreach
    foreach: "${{ steps.fan.output.results }}"
    steps:
      - { name: per, type: test.echo, with: { v: "{{ foreach.item.output.item }}" } }
  - name: gate
    type: if
    condition: "${{ steps.fan.output.results[1].output.item == 'b' }}"
    steps:
      - { name: yes, type: test.echo, with: { v: "yes" } }
  - name: out
    type: workflow.output
    with:
      first: "{{ steps.first.output.v }}"
      whole: "{{ steps.whole.output.items | join: ',' }}"
      per: "{{ steps.per.output.v }}"
      gate: "{{ steps.yes.output.v }}"
`, reg)
	res, chain := runLong(t, env, tq, "blob-nested-refs-"+tq, interpreter.RunInput{Definition: def})
	want := `{"first":"a","gate":"yes","per":"b","whole":"a,b"}`
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
	if refs != 2 {
		t.Fatalf("%d activity results are blob references, want the 2 branch outputs", refs)
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
