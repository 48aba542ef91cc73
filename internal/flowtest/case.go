package flowtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
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

// quietLogger discards the test environment's and the workflow's logs.
var quietLogger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// execution is one execution of one step, in run order.
type execution struct {
	name, path, typ, status string
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

	// records holds the step records seen by the state query, by their
	// global index (DroppedSteps + position).
	records map[int]interpreter.StepRecord
	// final, when set, is a waiting status the case stopped at.
	final   string
	resumed map[string]bool // resume updates in flight, by step path
}

// runCase runs one case and checks its expectations.
func (r *Runner) runCase(f *File, ld *loaded, c *Case) CaseResult {
	start := time.Now()
	res := CaseResult{Name: c.Name, Pos: c.Pos}
	cr := &caseRun{r: r, f: f, c: c, ld: ld, used: map[string]int{}, records: map[int]interpreter.StepRecord{},
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
	obs, err := cr.execute()
	res.Duration = time.Since(start)
	if err != nil {
		res.Failures = append(cr.problems, Failure{Msg: err.Error()})
		return res
	}
	res.Status = obs.status
	res.Failures = append(cr.problems, check(c.Expect, obs)...)
	return res
}

// execute runs the workflow of the case in a fresh test environment.
func (cr *caseRun) execute() (obs *observed, err error) {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quietLogger)
	env := suite.NewTestWorkflowEnvironment()
	cr.env = env
	env.SetTestTimeout(cr.r.opts.CaseTimeout)
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
	if in.Event != nil {
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

// look queries the run state: it collects step records and answers or
// stops a run that waits for input or for an operator.
func (cr *caseRun) look() {
	st, ok := cr.state()
	if !ok || cr.final != "" {
		return
	}
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
		cr.resume(path)
	}
}

// state queries "state" and merges its records.
func (cr *caseRun) state() (interpreter.State, bool) {
	var st interpreter.State
	v, err := cr.env.QueryWorkflow(interpreter.QueryState)
	if err != nil || v.Get(&st) != nil {
		return st, false
	}
	cr.mu.Lock()
	for i, rec := range st.Steps {
		cr.records[st.DroppedSteps+i] = rec
	}
	cr.mu.Unlock()
	return st, true
}

// stop ends the case at a waiting status: the run is cancelled and the
// case reports status.
func (cr *caseRun) stop(status string) {
	cr.final = status
	cr.env.CancelWorkflow()
}

// resume answers a waiting HITL step from its mock, or stops the case at
// waiting_for_input when the step has no mock. A mock that says the wait
// timed out (waitForInput output {timedOut: true}, waitForApproval error
// ApprovalTimedOut) sends nothing and lets the skipped time run out.
func (cr *caseRun) resume(path string) {
	name := stepName(path)
	typ := cr.ld.types[name]
	cr.mu.Lock()
	if cr.resumed[path] {
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
	cr.resumed[path] = true
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
	cr.env.UpdateWorkflow(interpreter.Resume, "flowtest-"+path, &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) {
			cr.fail(Failure{Step: name, Field: "mocks", Msg: "the answer was rejected: " + err.Error()})
			cr.stop(statusWaitingForInput)
		},
		OnComplete: func(any, error) {
			// Answered: the step may wait again (in a loop).
			cr.mu.Lock()
			delete(cr.resumed, path)
			cr.mu.Unlock()
		},
	}, req)
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
	if _, ok := cr.state(); !ok {
		return nil, errors.New("the state query failed")
	}
	var results interpreter.Results
	v, err := env.QueryWorkflow(interpreter.QuerySteps)
	if err != nil {
		return nil, fmt.Errorf("querying steps: %w", err)
	}
	if err := v.Get(&results); err != nil {
		return nil, fmt.Errorf("decoding the steps query: %w", err)
	}
	obs.steps = results.Steps
	if obs.output == nil {
		obs.output = results.Output
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	last := -1
	for i := range cr.records {
		last = max(last, i)
	}
	for i := 0; i <= last; i++ {
		rec, ok := cr.records[i]
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
		obs.execs = append(obs.execs, execution{name: name, path: rec.Path, typ: rec.Type, status: rec.Status})
	}
	return obs, nil
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
