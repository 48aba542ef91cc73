package worker

import (
	"strings"
	"testing"

	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

func TestDeploymentVersionValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    Deployment
		err  string // substring; "" = valid
	}{
		{"off", Deployment{}, ""},
		{"on", Deployment{Name: "secflow", BuildID: "1.4.0"}, ""},
		{"build id with dots and colons", Deployment{Name: "secflow", BuildID: "v1.4.0:abc"}, ""},
		{"name only", Deployment{Name: "secflow"}, "both"},
		{"build id only", Deployment{BuildID: "1.4.0"}, "both"},
		{"dot in name", Deployment{Name: "sec.flow", BuildID: "1"}, "must not contain"},
		{"colon in name", Deployment{Name: "sec:flow", BuildID: "1"}, "must not contain"},
		{"reserved name", Deployment{Name: "__secflow", BuildID: "1"}, "deployment name"},
		{"reserved build id", Deployment{Name: "secflow", BuildID: "__1"}, "build ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			if tc.err == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestDeploymentVersionApply(t *testing.T) {
	var off sdkworker.Options
	if err := (Deployment{}).apply(&off); err != nil || off.DeploymentOptions.UseVersioning {
		t.Fatalf("off: %v, options %+v", err, off.DeploymentOptions)
	}
	if (Deployment{}).workflowOptions().LoadDynamicRuntimeOptions != nil {
		t.Error("off: the workflow got a versioning behaviour")
	}

	d := Deployment{Name: "secflow", BuildID: "B"}
	var on sdkworker.Options
	if err := d.apply(&on); err != nil {
		t.Fatal(err)
	}
	want := sdkworker.WorkerDeploymentVersion{DeploymentName: "secflow", BuildID: "B"}
	if !on.DeploymentOptions.UseVersioning || on.DeploymentOptions.Version != want {
		t.Errorf("options %+v", on.DeploymentOptions)
	}
	load := d.workflowOptions().LoadDynamicRuntimeOptions
	if load == nil {
		t.Fatal("no versioning behaviour for the interpreter workflow")
	}
	got, err := load(workflow.LoadDynamicRuntimeOptionsDetails{WorkflowType: workflow.Type{Name: "any-definition"}})
	if err != nil || got.VersioningBehavior != workflow.VersioningBehaviorPinned {
		t.Errorf("behaviour %v, %v; want Pinned", got.VersioningBehavior, err)
	}
	if d.String() != "secflow:B" {
		t.Errorf("String() = %q", d.String())
	}

	conflict := sdkworker.Options{DeploymentOptions: sdkworker.DeploymentOptions{Version: sdkworker.WorkerDeploymentVersion{DeploymentName: "other", BuildID: "A"}}}
	if err := d.apply(&conflict); err == nil {
		t.Error("a conflicting Options.DeploymentOptions version was overwritten")
	}
	if err := (Deployment{Name: "secflow"}).apply(&sdkworker.Options{}); err == nil {
		t.Error("a deployment name without build ID was accepted")
	}
}
