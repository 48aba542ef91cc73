package interpreter_test

import (
	"context"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

// TestReplayHistories replays the checked-in histories of representative
// runs, so a change of the interpreter that would break running workflows
// fails here. The histories were produced on the embedded Temporal server
// by worker/integration_test.go:
//
//	go test ./worker -run TestHistoryCost -args -update-histories
//
// blob-output.json (a 1 MiB output and an event kept in the blob store),
// continued-as-new-{first,last}.json (the first and the last run of a run
// that continued as new between top-level steps) and
// continued-as-new-loop.json (a run resuming inside a top-level foreach
// and continuing again) come from worker/longrun_integration_test.go;
// continued-as-new-while.json (a run resuming inside a while nested in an
// if, with the resume cursor of frames, and continuing again) from
// worker/longrun_while_integration_test.go; continued-as-new-switch.json and blob-nested-refs.json from worker/{longrun_switch,blob_nested}_integration_test.go:
//
//	go test ./worker -run 'TestBlob(Output|NestedRefs)OnServer|TestContinueAsNew.*OnServer' -args -update-histories
//
// Regenerate them only for a deliberate, versioned (workflow.GetVersion)
// change of the commands the interpreter issues.
func TestReplayHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no histories in testdata/histories")
	}
	// The histories use the integration test's fake step types; replay
	// runs no activity, but the registry must know the types.
	reg := step.NewRegistry()
	for _, typ := range []string{"test.fixable", "test.echo", "test.block", "cases.createCase", "test.big"} {
		reg.MustAdd(&step.Spec{Type: typ, Kind: step.KindActivity, OpenWith: true,
			Activity: func(context.Context, step.Runtime, step.Input) (any, error) { return nil, nil }})
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterDynamicWorkflow(interpreter.Workflow(interpreter.Options{Registry: reg}), workflow.DynamicRegisterOptions{})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}
