package worker_test

import (
	"context"
	"fmt"
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

// versionedYAML: two iterations of a loop, each running test.build and
// then waiting for input; with ContinueAsNewAfterEvents the run continues as
// new between the iterations.
const versionedYAML = `
steps:
  - { name: init, type: data.set, with: { n: 0, builds: "" } }
  - name: poll
    type: while
    condition: "${{ variables.n < 2 }}"
    max-iterations: 5
    steps:
      - { name: which, type: test.build }
      - { name: ask, type: waitForInput, with: { message: "go on?" } }
      - { name: bump, type: data.set, with: { n: "${{ variables.n | plus: 1 }}", builds: "{{ variables.builds }}{{ steps.which.output.build }}," } }
  - { name: out, type: workflow.output, with: { builds: "{{ variables.builds }}" } }
`

// TestWorkerVersioningPinsRuns: two builds of the worker poll one task
// queue as versions A and B of a Worker Deployment. A run started while A
// is current finishes on A after B became current, across its
// continue-as-new; a run started after that runs on B. Every workflow task
// and every activity of each run of a chain is served by its build.
func TestWorkerVersioningPinsRuns(t *testing.T) {
	env := testenv.Start(t)
	tq := env.TaskQueue(t)
	name := "secflow-" + tq // unique per test; task queue names have no '.' or ':'
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, build := range []string{"A", "B"} {
		reg := buildRegistry(build)
		w, err := worker.New(worker.Config{Client: env.Client, TaskQueue: tq, Namespace: env.Namespace, Registry: reg,
			ContinueAsNewAfterEvents: 10, Deployment: worker.Deployment{Name: name, BuildID: build}})
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
	// await waits until iteration it of the loop asks for input.
	await := func(id string, it int) {
		t.Helper()
		path := fmt.Sprintf("poll/while[%d]/ask", it)
		waitFor(t, env.Client, id, id+" waiting at "+path, func(s interpreter.State) bool {
			return s.Status == interpreter.StatusWaitingForInput && s.WaitingFor != nil && s.WaitingFor.Step == path
		})
	}
	start := func(id string) string {
		t.Helper()
		run, err := env.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, def.ID,
			interpreter.RunInput{Definition: def})
		if err != nil {
			t.Fatal(err)
		}
		await(id, 0)
		return run.GetRunID()
	}
	resume := func(id string, it int) {
		t.Helper()
		h, err := env.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: interpreter.Resume,
			Args:         []any{interpreter.ResumeRequest{Step: fmt.Sprintf("poll/while[%d]/ask", it), Input: map[string]any{}}},
			WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			t.Fatalf("resuming %s: %v", id, err)
		}
		if err := h.Get(ctx, nil); err != nil {
			t.Fatalf("resuming %s: %v", id, err)
		}
	}

	setCurrent("A")
	id1 := "versioned-1-" + tq
	first1 := start(id1)
	setCurrent("B")
	id2 := "versioned-2-" + tq
	first2 := start(id2)
	for _, id := range []string{id1, id2} {
		resume(id, 0) // the run continues as new, then waits in iteration 1
		await(id, 1)
		resume(id, 1)
	}

	for _, tc := range []struct {
		id, firstRun, build string
	}{{id1, first1, "A"}, {id2, first2, "B"}} {
		var res interpreter.RunResult
		if err := env.Client.GetWorkflow(ctx, tc.id, "").Get(ctx, &res); err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
		if want := tc.build + "," + tc.build + ","; res.Output["builds"] != want {
			t.Errorf("%s: activities ran on builds %v, want %s", tc.id, res.Output["builds"], want)
		}
		runs := 0
		for runID := tc.firstRun; runID != ""; runs++ {
			h := testenv.History(t, env.Client, tc.id, runID)
			tasks := 0
			for _, e := range h.GetEvents() {
				a := e.GetWorkflowTaskCompletedEventAttributes()
				if a == nil {
					continue
				}
				tasks++
				if v := a.GetDeploymentVersion(); v.GetDeploymentName() != name || v.GetBuildId() != tc.build {
					t.Errorf("%s run %d: workflow task %d completed by %s:%s, want %s:%s", tc.id, runs, e.GetEventId(), v.GetDeploymentName(), v.GetBuildId(), name, tc.build)
				}
				if a.GetVersioningBehavior() != enumspb.VERSIONING_BEHAVIOR_PINNED {
					t.Errorf("%s run %d: workflow task %d reported behaviour %v, want pinned", tc.id, runs, e.GetEventId(), a.GetVersioningBehavior())
				}
			}
			if tasks == 0 {
				t.Errorf("%s run %d: no workflow task completed", tc.id, runs)
			}
			runID = h.Events[len(h.Events)-1].GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
		}
		// Run 1's second run started after B became current: it must have
		// inherited A rather than gone to the current version.
		if runs < 2 {
			t.Errorf("%s: %d runs, want the loop to continue as new", tc.id, runs)
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
