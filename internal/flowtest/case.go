package flowtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/worker"
)

// Run statuses a case may stop at.
const (
	statusWaitingForInput    = interpreter.StatusWaitingForInput
	statusWaitingForOperator = interpreter.StatusWaitingForOperator
)

// runID is the workflow ID of a case's run (execution.id); a child started
// by workflow.execute at path p has the ID runID + "/" + p.
const runID = "secflow-test"

// quietLogger discards the test environment's and the workflow's logs.
var quietLogger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// execution is one execution of one step, in run order.
type execution struct {
	name, path, typ, status string
	// alias is the fallback step a workflow-level fallback clone runs.
	alias string
}

// observed is what a case run produced.
type observed struct {
	status string
	err    *step.Error
	output map[string]any
	// steps is the "steps" query: the latest execution of every step.
	steps map[string]any
	// execs lists every step execution in order; gaps says some could not
	// be observed (more than the state query's bound between two looks).
	execs []execution
	gaps  bool
	// notes explain the status (e.g. a rejected HITL answer).
	notes []string
}

// caseRun is the state of one case while it runs.
type caseRun struct {
	r   *Runner
	f   *File
	c   *Case
	ld  *loaded
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	mocks    map[string]*Mock
	used     map[string]int // mock entries consumed, by mock step name
	problems []Failure      // no mock, mock list exhausted

	// records holds the step records seen by the state query of each
	// workflow (the run and its workflow.execute children), by workflow ID
	// and global index (DroppedSteps + position).
	records map[string]map[int]interpreter.StepRecord
	// notes explain a waiting status (a rejected answer).
	notes []string
	// final, when set, is a waiting status the case stopped at.
	final   string
	resumed map[string]bool // resume updates in flight, by workflow ID and step path
	// trigger, for a case with a trigger, is the start input the starter
	// would build (Event, TriggeredBy, SpaceID).
	trigger *interpreter.RunInput
}

// runCase runs one case and checks its expectations.
func (r *Runner) runCase(f *File, ld *loaded, c *Case) CaseResult {
	start := time.Now()
	res := CaseResult{Name: c.Name, Pos: c.Pos}
	cr := &caseRun{r: r, f: f, c: c, ld: ld, used: map[string]int{}, records: map[string]map[int]interpreter.StepRecord{},
		resumed: map[string]bool{}, mocks: map[string]*Mock{}}
	for k, m := range f.Mocks {
		cr.mocks[k] = m
	}
	for k, m := range c.Mocks {
		if m.Unset {
			delete(cr.mocks, k)
			continue
		}
		cr.mocks[k] = m
	}
	if c.Trigger != "" {
		received := c.Now
		if received.IsZero() {
			received = time.Now()
		}
		ts := routeTrigger(ld.def, c, received)
		if ts.in == nil || len(ts.failures) > 0 {
			res.Failures = ts.failures // the starter would start no run
			res.Duration = time.Since(start)
			return res
		}
		cr.trigger = ts.in
	}
	obs, err := cr.execute()
	res.Duration = time.Since(start)
	cr.mu.Lock()
	res.Failures = append([]Failure(nil), cr.problems...)
	cr.mu.Unlock()
	if err != nil {
		res.Failures = append(res.Failures, Failure{Msg: err.Error()})
		return res
	}
	res.Status = obs.status
	res.Failures = append(res.Failures, check(c.Expect, obs)...)
	return res
}

// execute runs the workflow of the case in a fresh test environment.
func (cr *caseRun) execute() (obs *observed, err error) {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quietLogger)
	env := suite.NewTestWorkflowEnvironment()
	cr.env = env
	env.SetTestTimeout(cr.r.opts.CaseTimeout)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: runID})
	// A loaded machine can stall a workflow task for more than the default
	// second; that is not a deadlock of the definition.
	env.SetWorkerOptions(sdkworker.Options{DeadlockDetectionTimeout: cr.r.opts.CaseTimeout})
	if !cr.c.Now.IsZero() {
		env.SetStartTime(cr.c.Now)
	}
	no := false
	var rt step.Runtime
	if cr.r.opts.Sandbox {
		if rt, err = cr.r.sandboxRuntime(); err != nil {
			return nil, err
		}
	}
	if err := worker.Register(env, worker.Config{Registry: cr.registry(), Runtime: rt, SearchAttributes: &no,
		Definitions: cr.ld.defs}); err != nil {
		return nil, fmt.Errorf("registering the workflow: %w", err)
	}
	// Look at the run whenever it may have moved on: before each activity
	// (records) and when it schedules a timer (long waits, HITL waits and
	// operator parking all wait on one).
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) {
		env.RegisterDelayedCallback(cr.look, 0)
	})
	env.SetOnTimerScheduledListener(func(string, time.Duration) {
		env.RegisterDelayedCallback(cr.look, 0)
	})

	def := *cr.ld.def
	if cr.c.Consts != nil {
		def.Consts = mergeDeep(def.Consts, cr.c.Consts)
	}
	eng := cr.f.Engine
	if cr.c.Engine != nil {
		eng = *cr.c.Engine
	}
	in := interpreter.RunInput{
		Definition: &def,
		Inputs:     cr.c.Inputs,
		Event:      cr.c.Event,
		Engine:     &interpreter.EngineOptions{TransientRetry: &eng.TransientRetry, OperatorRecovery: &eng.OperatorRecovery},
	}
	switch {
	case cr.trigger != nil:
		// As the starter starts it: the built event, the trigger id as
		// execution.triggeredBy, the event's space.
		in.Event, in.TriggeredBy, in.SpaceID = cr.trigger.Event, cr.trigger.TriggeredBy, cr.trigger.SpaceID
	case in.Event != nil:
		in.TriggeredBy = interpreter.TriggeredByAlert
	}
	if err := cr.run(def.ID, in); err != nil {
		return nil, err
	}
	return cr.observe()
}

// run executes the workflow, turning a panic of the test environment (a
// stuck run hits the idle timeout) into an error.
func (cr *caseRun) run(id string, in interpreter.RunInput) (err error) {
	defer func() {
		if p := recover(); p != nil {
			msg := fmt.Sprint(p)
			if i := strings.Index(msg, ", workflow stack:"); i > 0 {
				msg = msg[:i]
			}
			err = fmt.Errorf("the run did not finish: %s (a step is stuck for more than %s of real time)", msg, cr.r.opts.CaseTimeout)
		}
	}()
	cr.env.ExecuteWorkflow(id, in)
	if !cr.env.IsWorkflowCompleted() {
		return errors.New("the run did not finish")
	}
	return nil
}

// look queries the state of the run and of its children: it collects step
// records and answers or stops a run that waits for input or for an
// operator.
func (cr *caseRun) look() {
	if cr.final == "" {
		cr.lookAt(runID, true, map[string]bool{})
	}
}

// lookAt queries the workflow id and its workflow.execute children. With
// act, waiting steps are answered (or the case stopped).
func (cr *caseRun) lookAt(id string, act bool, seen map[string]bool) {
	if seen[id] {
		return
	}
	seen[id] = true
	var st interpreter.State
	v, err := cr.env.QueryWorkflowByID(id, interpreter.QueryState)
	if err != nil || v.Get(&st) != nil {
		return
	}
	cr.mu.Lock()
	recs := cr.records[id]
	if recs == nil {
		recs = map[int]interpreter.StepRecord{}
		cr.records[id] = recs
	}
	for i, rec := range st.Steps {
		recs[st.DroppedSteps+i] = rec
	}
	var children []string
	for _, rec := range recs {
		if isChildStep(rec.Type) {
			children = append(children, id+"/"+rec.Path)
		}
	}
	cr.mu.Unlock()
	if act && cr.final == "" {
		if st.Status == statusWaitingForOperator {
			cr.stop(statusWaitingForOperator)
			return
		}
		// Every HITL step still running waits for an answer (parallel
		// branches may wait at once).
		waiting := map[string]bool{}
		for _, rec := range st.Steps {
			if rec.Status == interpreter.StatusRunning && contains(hitlTypes, rec.Type) {
				waiting[rec.Path] = true
			}
		}
		if w := st.WaitingFor; w != nil && w.Kind == "input" {
			waiting[w.Step] = true
		}
		for _, path := range sortedKeys(waiting) {
			if cr.final != "" {
				return
			}
			cr.resume(id, path)
		}
	}
	sort.Strings(children)
	for _, c := range children {
		cr.lookAt(c, act, seen)
	}
}

// isChildStep reports whether steps of type typ start a child workflow.
func isChildStep(typ string) bool { return typ == "workflow.execute" || typ == "workflow.executeAsync" }

// stop ends the case at a waiting status: the run is cancelled and the
// case reports status.
func (cr *caseRun) stop(status string) {
	cr.final = status
	cr.env.CancelWorkflow()
}

// resume answers a waiting HITL step of workflow id from its mock, or
// stops the case at waiting_for_input when the step has no mock. A mock
// that says the wait timed out (waitForInput output {timedOut: true},
// waitForApproval error ApprovalTimedOut) sends nothing and lets the
// skipped time run out.
func (cr *caseRun) resume(id, path string) {
	name := stepName(path)
	typ := cr.ld.types[name]
	key := id + "|" + path
	cr.mu.Lock()
	if cr.resumed[key] {
		// Already answered; the update is on its way.
		cr.mu.Unlock()
		return
	}
	m := cr.mockFor(name)
	if m == nil {
		cr.mu.Unlock()
		cr.stop(statusWaitingForInput)
		return
	}
	cr.resumed[key] = true
	entry, fail := cr.nextLocked(m, name, typ)
	cr.mu.Unlock()
	if fail != nil {
		cr.stop(statusWaitingForInput)
		return
	}
	req, answer := resumeRequest(path, typ, entry)
	if !answer {
		return
	}
	cb := &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) {
			cr.mu.Lock()
			cr.notes = append(cr.notes, fmt.Sprintf("the answer to %q was rejected: %v", name, err))
			cr.mu.Unlock()
			cr.stop(statusWaitingForInput)
		},
		OnComplete: func(any, error) {
			// Answered: the step may wait again (in a loop).
			cr.mu.Lock()
			delete(cr.resumed, key)
			cr.mu.Unlock()
		},
	}
	if id == runID {
		cr.env.UpdateWorkflow(interpreter.Resume, "flowtest-"+key, cb, req)
	} else if err := cr.env.UpdateWorkflowByID(id, interpreter.Resume, "flowtest-"+key, cb, req); err != nil {
		cb.OnReject(err)
	}
}

// resumeRequest turns the mock entry of a HITL step into the resume
// update it stands for; answer is false for a timeout.
//
//	waitForInput     output {input: {...}, resumedBy}   → input, by
//	                 output without input               → the output is the input
//	                 output {timedOut: true}            → no answer
//	waitForApproval  output {approved, comment, respondedBy}
//	                 error {type: ApprovalRejected, details: {comment, respondedBy}} → approved: false
//	                 error {type: ApprovalTimedOut}     → no answer
func resumeRequest(path, typ string, e MockEntry) (interpreter.ResumeRequest, bool) {
	req := interpreter.ResumeRequest{Step: path}
	out, _ := e.Output.(map[string]any)
	if typ == "waitForApproval" {
		if e.Error != nil {
			if e.Error.Type == "ApprovalTimedOut" {
				return req, false
			}
			no := false
			req.Approved = &no
			req.Comment, _ = e.Error.Details["comment"].(string)
			req.By, _ = e.Error.Details["respondedBy"].(string)
			return req, true
		}
		ok, _ := out["approved"].(bool)
		req.Approved = &ok
		req.Comment, _ = out["comment"].(string)
		req.By, _ = out["respondedBy"].(string)
		return req, true
	}
	if to, _ := out["timedOut"].(bool); to || e.Error != nil {
		return req, false
	}
	req.By, _ = out["resumedBy"].(string)
	if in, ok := out["input"].(map[string]any); ok {
		req.Input = in
	} else {
		req.Input = out
	}
	return req, true
}

// observe collects the outcome of a finished run.
func (cr *caseRun) observe() (*observed, error) {
	env := cr.env
	obs := &observed{}
	if err := env.GetWorkflowError(); err == nil {
		var res interpreter.RunResult
		if err := env.GetWorkflowResult(&res); err != nil {
			return nil, fmt.Errorf("decoding the run result: %w", err)
		}
		obs.status, obs.err, obs.output = res.Status, res.Error, res.Output
	} else if res, ok := interpreter.ResultFromError(err); ok {
		obs.status, obs.err, obs.output = res.Status, res.Error, res.Output
	} else if temporal.IsCanceledError(err) {
		obs.status = interpreter.StatusCancelled
	} else {
		obs.status, obs.err = interpreter.StatusFailed, errorOf(err)
	}
	if cr.final != "" {
		obs.status = cr.final
	}
	cr.lookAt(runID, false, map[string]bool{})
	obs.steps = map[string]any{}
	if err := cr.results(runID, obs); err != nil {
		return nil, err
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	obs.notes = cr.notes
	for _, id := range sortedKeys(cr.records) {
		if id != runID {
			// Child step results, where the parent has no step of that name.
			_ = cr.results(id, obs)
		}
	}
	cr.flatten(runID, obs, map[string]bool{})
	return obs, nil
}

// results merges the "steps" query of workflow id into obs.steps (names
// already present win) and takes the run output from the root.
func (cr *caseRun) results(id string, obs *observed) error {
	var results interpreter.Results
	v, err := cr.env.QueryWorkflowByID(id, interpreter.QuerySteps)
	if err != nil {
		return fmt.Errorf("querying steps: %w", err)
	}
	if err := v.Get(&results); err != nil {
		return fmt.Errorf("decoding the steps query: %w", err)
	}
	for k, r := range results.Steps {
		if _, dup := obs.steps[k]; !dup {
			obs.steps[k] = r
		}
	}
	if id == runID && obs.output == nil {
		obs.output = results.Output
	}
	return nil
}

// flatten appends the executions of workflow id to obs in run order, each
// child's executions right after the step that started it. cr.mu must be
// held.
func (cr *caseRun) flatten(id string, obs *observed, seen map[string]bool) {
	if seen[id] {
		return
	}
	seen[id] = true
	recs := cr.records[id]
	last := -1
	for i := range recs {
		last = max(last, i)
	}
	for i := 0; i <= last; i++ {
		rec, ok := recs[i]
		if !ok {
			obs.gaps = true
			continue
		}
		name := stepName(rec.Path)
		if rec.Type == "foreach" && cr.ld.types[name] != "" && cr.ld.types[name] != "foreach" {
			// The wrapper record of a step-level foreach: its iterations
			// are the executions of the step.
			continue
		}
		x := execution{name: name, path: rec.Path, typ: rec.Type, status: rec.Status, alias: cr.ld.alias(name)}
		if v, ok := obs.steps[name]; ok && x.alias != "" {
			// steps.<fallback name> shows the latest clone's execution.
			obs.steps[x.alias] = v
		}
		obs.execs = append(obs.execs, x)
		if isChildStep(rec.Type) {
			cr.flatten(id+"/"+rec.Path, obs, seen)
		}
	}
}

// errorOf converts a workflow error without a RunResult.
func errorOf(err error) *step.Error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return &step.Error{Type: ae.Type(), Message: ae.Message()}
	}
	return step.AsError(err)
}

// loopSegment matches the path segments loops add (foreach[3], while[0]).
var loopSegment = regexp.MustCompile(`^(foreach|while)\[\d+\]$`)

// stepName returns the name of the step a record path belongs to.
func stepName(path string) string {
	segs := strings.Split(path, "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if !loopSegment.MatchString(segs[i]) {
			return segs[i]
		}
	}
	return path
}

// fail records a problem found while the case runs.
func (cr *caseRun) fail(f Failure) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.problems = append(cr.problems, f)
}
