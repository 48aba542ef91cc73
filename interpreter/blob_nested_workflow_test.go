package interpreter_test

import (
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/interpreter"
)

// pad2k is a with-value that puts a test.echo output over the 1 KiB blob
// threshold of the nested-reference tests.
var pad2k = strings.Repeat("p", 2048)

// TestBlobRefsNestedInCollectedValues: a parallel fan-out collects its
// branches' outputs (blob references when over the threshold) into
// output.results. Templates, conditions, foreach items, data.set
// variables, data steps and activity inputs that read those results see
// the real values, never a {"$blobRef": …} object.
func TestBlobRefsNestedInCollectedValues(t *testing.T) {
	def := sharedDef(t, "blob-nested-refs")
	blobs := blobstore.NewMemory()
	r := runChain(t, def, chainOpts{blobs: blobs, threshold: 1024})
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s: %v", r.status(), r.err)
	}
	if _, _, ok := interpreter.BlobRefOf(r.output("call")); !ok {
		t.Fatalf("steps.call.output is not a blob reference (%d blobs): the test does not exercise references", blobs.Len())
	}
	want := map[string]any{"first": "a", "whole": "a,b", "per": "b", "fromvar": "b", "gate": "yes", "items": "a,b", "raw": "a"}
	if got := jsonOf(r.result().Output); got != jsonOf(want) {
		t.Errorf("output %s, want %s", got, jsonOf(want))
	}
	for _, in := range r.f.callsTo("test.echo") {
		if s := jsonOf(in.With); strings.Contains(s, interpreter.BlobRefKey) {
			t.Errorf("activity %s received a blob reference: %.200s", in.Path, s)
		}
	}
}

// runBlobDef runs yaml (children: defs) with a blob store and a 1 KiB
// threshold; gate, when set, answers DefaultVersion for that change ID
// (a history recorded before it).
func runBlobDef(t *testing.T, yaml string, defs mapDefs, gate string) *runResult {
	t.Helper()
	o := runOpts{defs: defs, blobs: blobstore.NewMemory(), blobThreshold: 1024}
	if gate != "" {
		o.setup = func(env *testsuite.TestWorkflowEnvironment, _ *fakes) {
			env.OnGetVersion(gate, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		}
	}
	return runDef(t, yaml, o)
}

// TestBlobRefsNestedInChildLoopOutput: a child run without workflow.output
// whose last step is a loop gives its parent the array of the iterations'
// outputs, each a blob reference when over the threshold; the parent
// reads the real values.
func TestBlobRefsNestedInChildLoopOutput(t *testing.T) {
	defs := childDefs(t, map[string]string{"collect": `
steps:
  - name: each
    type: foreach
    foreach: '["x","y","z"]'
    steps:
      - { name: call, type: test.echo, with: { item: "{{ foreach.item }}", pad: "` + pad2k + `" } }
`})
	r := runBlobDef(t, `
steps:
  - { name: child, type: workflow.execute, with: { workflow-id: collect } }
  - { name: use, type: test.echo, with: { last: "{{ steps.child.output[2].item }}", n: "${{ steps.child.output | size }}" } }
  - { name: out, type: workflow.output, with: { items: "{{ steps.child.output | map: 'item' | join: ',' }}", last: "{{ steps.use.output.last }}" } }
`, defs, "")
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s: %v %+v", r.status(), r.err, r.errorOf())
	}
	if got, want := jsonOf(r.result().Output), `{"items":"x,y,z","last":"z"}`; got != want {
		t.Errorf("output %s, want %s", got, want)
	}
	if calls := r.f.callsTo("test.echo"); len(calls) != 4 || jsonOf(calls[3].With) != `{"last":"z","n":3}` {
		t.Errorf("calls %.400s", jsonOf(calls))
	}
}

// TestBlobRefsNestedVersionGate: a history recorded before nested
// references were resolved (GetVersion of blob-nested-refs answers
// DefaultVersion) reads them as it did, without the fetch local activity.
func TestBlobRefsNestedVersionGate(t *testing.T) {
	r := runBlobDef(t, `
steps:
  - name: fan
    type: parallel
    foreach: '["a","b"]'
    steps:
      - { name: call, type: test.echo, with: { item: "{{ foreach.item }}", pad: "`+pad2k+`" } }
  - { name: out, type: workflow.output, with: { first: "{{ steps.fan.output.results[0].output.item }}", ref: "${{ steps.fan.output.results[0].output }}" } }
`, nil, "blob-nested-refs")
	if r.status() != interpreter.StatusCompleted {
		t.Fatalf("status %s: %v", r.status(), r.err)
	}
	out := r.result().Output
	if _, _, ok := interpreter.BlobRefOf(out["ref"]); !ok || out["first"] == "a" {
		t.Errorf("output %s, want the reference read as it is", jsonOf(out))
	}
}

// TestBlobRefsNestedAcrossContinueAsNew: a parallel step's results too
// large to carry inline cross a continue-as-new as one reference whose
// stored value holds the branches' references; reading a branch output
// after the boundary resolves both levels.
func TestBlobRefsNestedAcrossContinueAsNew(t *testing.T) {
	r := runChain(t, `
steps:
  - name: fan
    type: parallel
    foreach: '["a","b","c","d","e","f","g","h","i","j"]'
    steps:
      - { name: call, type: test.echo, with: { item: "{{ foreach.item }}", pad: "`+pad2k+`" } }
  - { name: pad, type: test.echo, with: { v: 1 } }
  - { name: out, type: workflow.output, with: { last: "{{ steps.fan.output.results[9].output.item }}", all: "{{ steps.fan.output.results | map: 'output' | map: 'item' | join: '' }}" } }
`, chainOpts{blobs: blobstore.NewMemory(), threshold: 1024, suggestCAN: true})
	if r.runs < 2 {
		t.Fatalf("%d runs, want a continue-as-new", r.runs)
	}
	carried := r.inputs[len(r.inputs)-1].Resume.Results["fan"].Output
	if _, _, ok := interpreter.BlobRefOf(carried); !ok {
		t.Fatalf("steps.fan.output carried as %.200s, want a blob reference", jsonOf(carried))
	}
	if got, want := jsonOf(r.result().Output), `{"all":"abcdefghij","last":"j"}`; got != want {
		t.Errorf("output %s, want %s", got, want)
	}
}
