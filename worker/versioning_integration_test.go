package worker_test

import (
	"context"
	"testing"
	"time"

	deploymentpb "go.temporal.io/api/deployment/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/worker"
)

// buildRegistry is the step registry of one build: test.build returns the
// build ID of the worker whose activity ran it.
func buildRegistry(buildID string) *step.Registry {
	reg := step.NewRegistry()
	reg.MustAdd(&step.Spec{Type: "test.build", Kind: step.KindActivity, OpenWith: true,
		Activity: func(context.Context, step.Runtime, step.Input) (any, error) {
			return map[string]any{"build": buildID}, nil
		}})
	return reg
}

const versionedYAML = `
steps:
  - { name: before, type: test.build }
  - { name: ask, type: waitForInput, with: { message: "go on?" } }
  - { name: after, type: test.build }
  - { name: out, type: workflow.output, with: { before: "{{ steps.before.output.build }}", after: "{{ steps.after.output.build }}" } }
`

// TestWorkerVersioningPinsRuns: two builds of the worker poll one task
// queue as versions A and B of a Worker Deployment. A run started while A
// is current finishes on A after B became current; a run started after
// that runs on B. Every workflow task and every activity of a run is
// served by its build.
func TestWorkerVersioningPinsRuns(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	name := "secflow-" + tq // unique per test; task queue names have no '.' or ':'
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, build := range []string{"A", "B"} {
		reg := buildRegistry(build)
		w, err := worker.New(worker.Config{Client: env.Client, TaskQueue: tq, Namespace: env.Namespace, Registry: reg,
			Deployment: worker.Deployment{Name: name, BuildID: build}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	def := load(t, "versioned", versionedYAML, buildRegistry(""))

	setCurrent := func(build string) {
		t.Helper()
		awaitVersionPolled(ctx, t, env, name, build, tq)
		if _, err := env.Client.WorkerDeploymentClient().GetHandle(name).SetCurrentVersion(ctx,
			client.WorkerDeploymentSetCurrentVersionOptions{BuildID: build}); err != nil {
			t.Fatalf("setting %s current: %v", build, err)
		}
		awaitRoutingPropagated(ctx, t, env, name, build)
	}
	start := func(id string) client.WorkflowRun {
		t.Helper()
		run, err := env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, def.ID,
			interpreter.RunInput{Definition: def})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, env.Client, id, id+" waiting for input", func(s interpreter.State) bool { return s.Status == interpreter.StatusWaitingForInput })
		return run
	}
	resume := func(id string) {
		t.Helper()
		h, err := env.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: interpreter.Resume,
			Args: []any{interpreter.ResumeRequest{Input: map[string]any{}}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			t.Fatalf("resuming %s: %v", id, err)
		}
		if err := h.Get(ctx, nil); err != nil {
			t.Fatalf("resuming %s: %v", id, err)
		}
	}

	setCurrent("A")
	id1 := "versioned-1-" + tq
	run1 := start(id1)
	setCurrent("B")
	id2 := "versioned-2-" + tq
	run2 := start(id2)
	resume(id1)
	resume(id2)

	for _, tc := range []struct {
		id    string
		run   client.WorkflowRun
		build string
	}{{id1, run1, "A"}, {id2, run2, "B"}} {
		var res interpreter.RunResult
		if err := tc.run.Get(ctx, &res); err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
		if res.Output["before"] != tc.build || res.Output["after"] != tc.build {
			t.Errorf("%s: activities ran on builds %v/%v, want %s", tc.id, res.Output["before"], res.Output["after"], tc.build)
		}
		tasks := 0
		for _, e := range testenv.History(t, env.Client, tc.id, "").GetEvents() {
			a := e.GetWorkflowTaskCompletedEventAttributes()
			if a == nil {
				continue
			}
			tasks++
			if v := a.GetDeploymentVersion(); v.GetDeploymentName() != name || v.GetBuildId() != tc.build {
				t.Errorf("%s: workflow task %d completed by %s:%s, want %s:%s", tc.id, e.GetEventId(), v.GetDeploymentName(), v.GetBuildId(), name, tc.build)
			}
			if a.GetVersioningBehavior() != enumspb.VERSIONING_BEHAVIOR_PINNED {
				t.Errorf("%s: workflow task %d reported behaviour %v, want pinned", tc.id, e.GetEventId(), a.GetVersioningBehavior())
			}
		}
		// start, resume, end at least: run 1's later tasks came after B became current.
		if tasks < 3 {
			t.Errorf("%s: %d workflow tasks", tc.id, tasks)
		}
	}
}

// awaitVersionPolled waits until the server has seen pollers of version
// name:build on both the workflow and the activity side of tq (a version
// becomes known to its deployment when its workers first poll, and
// SetCurrentVersion refuses a version missing a task queue of the current
// one).
func awaitVersionPolled(ctx context.Context, t *testing.T, env *testenv.Env, name, build, tq string) {
	t.Helper()
	poll(ctx, t, "version "+name+":"+build+" registered with its task queue", func() (bool, error) {
		resp, err := env.Client.WorkflowService().DescribeWorkerDeploymentVersion(ctx, &workflowservice.DescribeWorkerDeploymentVersionRequest{
			Namespace: env.Namespace, DeploymentVersion: &deploymentpb.WorkerDeploymentVersion{DeploymentName: name, BuildId: build}})
		if err != nil {
			return false, nil // not created yet (NotFound)
		}
		kinds := map[enumspb.TaskQueueType]bool{}
		for _, q := range resp.GetWorkerDeploymentVersionInfo().GetTaskQueueInfos() {
			if q.GetName() == tq {
				kinds[q.GetType()] = true
			}
		}
		return kinds[enumspb.TASK_QUEUE_TYPE_WORKFLOW] && kinds[enumspb.TASK_QUEUE_TYPE_ACTIVITY], nil
	})
}

// awaitRoutingPropagated waits until build is the current version of the
// deployment and the routing change has reached every task queue
// partition (the server propagates it asynchronously after
// SetCurrentVersion returns).
func awaitRoutingPropagated(ctx context.Context, t *testing.T, env *testenv.Env, name, build string) {
	t.Helper()
	poll(ctx, t, "routing to "+name+":"+build+" propagated", func() (bool, error) {
		resp, err := env.Client.WorkflowService().DescribeWorkerDeployment(ctx, &workflowservice.DescribeWorkerDeploymentRequest{
			Namespace: env.Namespace, DeploymentName: name})
		if err != nil {
			return false, err
		}
		info := resp.GetWorkerDeploymentInfo()
		return info.GetRoutingConfig().GetCurrentDeploymentVersion().GetBuildId() == build &&
			info.GetRoutingConfigUpdateState() == enumspb.ROUTING_CONFIG_UPDATE_STATE_COMPLETED, nil
	})
}

// poll calls cond every 100ms until it holds, fails or ctx ends.
func poll(ctx context.Context, t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
