package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/internal/payloadcodec"
	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
)

// TestSealedBlobsOnServer: with a payload key ring, the worker's 1 MiB
// step output is stored sealed (no plaintext on disk) and read back by
// later steps, and an event stored in clear before encryption was turned
// on is still read.
func TestSealedBlobsOnServer(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	reg := longRegistry(&sideEffects{})
	dir := t.TempDir()
	plain, err := blobstore.NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := payloadcodec.New([]payloadcodec.Key{{ID: "it-1", Secret: bytes.Repeat([]byte{7}, payloadcodec.KeySize)}})
	if err != nil {
		t.Fatal(err)
	}
	ev := map[string]any{"rule": map[string]any{"id": "r1", "name": "Plain event"},
		"alerts": []any{map[string]any{"_id": "a1", "message": strings.Repeat("m", 300<<10)}}}
	b, _ := json.Marshal(ev)
	evRef, err := plain.Put(context.Background(), "event", b) // before encryption
	if err != nil {
		t.Fatal(err)
	}
	startLongWorker(t, env, tq, reg, plain.WithSealer(codec), 0)
	def := load(t, "sealed-blob-output", `
steps:
  - { name: big, type: test.big }
  - { name: out, type: workflow.output, with: { name: "{{ steps.big.output.items[3].name }}", rule: "{{ event.rule.name }}" } }
`, reg)
	res, _ := runLong(t, env, tq, "sealed-blob-output-"+tq, interpreter.RunInput{Definition: def, EventRef: evRef})
	if res.Output["name"] != "n3" || res.Output["rule"] != "Plain event" {
		t.Fatalf("output %+v", res.Output)
	}
	sealed := 0
	err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if filepath.Base(p) == strings.TrimPrefix(evRef, "sha256:") {
			return nil // the event, written in clear
		}
		if !blobstore.IsSealed(data) || bytes.Contains(data, []byte(`"pad":"xxxx`)) {
			t.Errorf("%s is not sealed (%.24q)", p, data)
		}
		sealed++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sealed == 0 {
		t.Fatal("the step output was not stored in the blob store")
	}
}
