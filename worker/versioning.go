package worker

import (
	"fmt"
	"strings"

	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Deployment opts a worker into Temporal Worker Versioning (Worker
// Deployments): the worker polls as version Name:BuildID, and every run of
// the interpreter workflow is Pinned to the version whose worker started it.
// Such a run ends on that build (its continue-as-new runs too), and its
// activities go to pollers of the same version, whatever version is current
// by then; new runs start on the deployment's current version, which an
// operator sets (see docs/operating.md, "Deploying a new worker version").
//
// The zero Deployment leaves the worker unversioned (the default).
type Deployment struct {
	// Name is the Worker Deployment name, shared by every build of the
	// same fleet (e.g. "secflow"). It cannot contain '.' or ':'.
	Name string
	// BuildID identifies this build within the deployment (e.g. the
	// release tag or image digest).
	BuildID string
}

// Enabled reports whether d turns versioning on.
func (d Deployment) Enabled() bool { return d.Name != "" || d.BuildID != "" }

// Validate checks what the server would reject when the worker polls: both
// fields or neither, no '.' or ':' in the name, neither starting with "__".
func (d Deployment) Validate() error {
	if !d.Enabled() {
		return nil
	}
	if d.Name == "" || d.BuildID == "" {
		return fmt.Errorf("worker versioning needs both a deployment name and a build ID (got name %q, build ID %q)", d.Name, d.BuildID)
	}
	if strings.ContainsAny(d.Name, ".:") {
		return fmt.Errorf("deployment name %q: must not contain '.' or ':'", d.Name)
	}
	for _, f := range [...][2]string{{"deployment name", d.Name}, {"build ID", d.BuildID}} {
		if strings.HasPrefix(f[1], "__") {
			return fmt.Errorf("%s %q: must not start with \"__\"", f[0], f[1])
		}
	}
	return nil
}

// String is the version as the server spells it in search attributes
// (TemporalWorkerDeploymentVersion): "<name>:<build ID>", or "" when off.
func (d Deployment) String() string {
	if !d.Enabled() {
		return ""
	}
	return d.Name + ":" + d.BuildID
}

// apply sets the Temporal worker's deployment options from d. It refuses
// options that already carry a different deployment version.
func (d Deployment) apply(opts *sdkworker.Options) error {
	if !d.Enabled() {
		return nil
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	want := sdkworker.WorkerDeploymentVersion{DeploymentName: d.Name, BuildID: d.BuildID}
	if cur := opts.DeploymentOptions.Version; cur != (sdkworker.WorkerDeploymentVersion{}) && cur != want {
		return fmt.Errorf("worker: Deployment %s conflicts with Options.DeploymentOptions version %s", d, cur.DeploymentName+":"+cur.BuildID)
	}
	opts.DeploymentOptions.UseVersioning = true
	opts.DeploymentOptions.Version = want
	return nil
}

// workflowOptions are the registration options of the interpreter
// workflow: Pinned when d is enabled. The SDK refuses to register a dynamic
// workflow without a behaviour on a versioned worker, and Pinned is what a
// definition interpreter needs: its commands and its carried state
// (continue-as-new ResumeState) may change between builds, so a run must
// not move to another build halfway. Continue-as-new keeps the default
// behaviour (the new run stays pinned to the same build).
func (d Deployment) workflowOptions() workflow.DynamicRegisterOptions {
	if !d.Enabled() {
		return workflow.DynamicRegisterOptions{}
	}
	return workflow.DynamicRegisterOptions{
		LoadDynamicRuntimeOptions: func(workflow.LoadDynamicRuntimeOptionsDetails) (workflow.DynamicRuntimeOptions, error) {
			return workflow.DynamicRuntimeOptions{VersioningBehavior: workflow.VersioningBehaviorPinned}, nil
		},
	}
}
