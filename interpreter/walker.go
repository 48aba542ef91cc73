package interpreter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/duration"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/interpreter/template"
)

// executor runs one flow or pure step type in workflow code. It returns the
// step output; c.input and c.state may be set to record the step's input
// and loop state. Each interpreter/step_<name>.go registers its types with
// define in init().
//
// Adding a flow or pure step type is one file, interpreter/step_<name>.go:
//
//  1. its spec (fields, docs) goes in builtin_specs.go (validation, docs);
//  2. step_<name>.go calls define("<type>", flow, run) in init(), where
//     flow says settings.on-failure does not wrap it;
//  3. run(c *call) renders what it needs with c.renderWith / c.render /
//     c.r.evalCondition (context of §4.6 from the step's point of view),
//     runs nested steps with c.r.runSteps(c.ctx, c.inner("<segment>"), steps)
//     (iterations: c.iteration; loop state: c.setState), blocks only through
//     workflow APIs on c.ctx, and returns (output, error): a *step.Error or
//     any error is a catchable failure; workflow cancellation errors become
//     timeouts/cancellation automatically (c.classify);
//  4. a test in <name>_workflow_test.go on the test environment.
//
// Modifiers (if:, foreach:, timeout, on-failure, operator parking, records,
// steps.* results) are applied by the walker around every type; a type that
// treats its `timeout` as a wait limit adds itself to ownTimeout. A change
// that alters the commands an existing definition issues must be guarded
// with workflow.GetVersion and checked against testdata/histories.
type executor func(c *call) (any, error)

// kindInfo is one entry of the executor table.
type kindInfo struct {
	run executor
	// flow marks flow-control types that the workflow-level on-failure does
	// not wrap (§7.4).
	flow bool
}

// executors maps flow and pure step types to their implementation.
var executors = map[string]kindInfo{}

// ownTimeout lists the types that use the step's `timeout` themselves (as
// a wait limit) instead of a failing timeout zone.
var ownTimeout = map[string]bool{}

// define registers the executor of a flow (flow=true) or pure step type.
// It panics on a duplicate, a programming error found at start-up.
func define(typ string, flow bool, run executor) {
	if _, dup := executors[typ]; dup {
		panic("interpreter: executor for " + typ + " defined twice")
	}
	executors[typ] = kindInfo{run: run, flow: flow}
}

// run is the state of one workflow execution.
type run struct {
	ctx workflow.Context // root context (clock, logger, handlers)
	def *Definition
	reg *step.Registry
	tpl *template.Engine
	// tplOpts are the template limits (without the clock), handed to the
	// fetch local activity so it renders as the workflow would.
	tplOpts template.Options
	// engines are the engines with a template output limit, by limit
	// (limits.go).
	engines map[int]*template.Engine
	// outputBytes is the size of the step outputs of the run so far (runs
	// it continues included); outputBudget bounds it; maxChildOutput bounds
	// a workflow.execute child's output (limits.go).
	outputBytes    int64
	outputBudget   int64
	maxChildOutput int64

	layout *layout
	// aliases maps synthetic result names (foreach_<name>, workflow-level
	// fallback clones) to the step they belong to.
	aliases map[string]*Step

	wfID, runID string
	base        map[string]any // inputs, consts, event, execution, workflow, kibanaUrl, parent
	variables   map[string]any
	output      map[string]any

	transientRetry bool
	operator       bool
	operatorWait   time.Duration

	status      string
	currentStep string
	waiting     *Waiting
	records     records
	parked      map[string]*parkedStep
	inputs      map[string]*inputWait
	runErr      *step.Error
	// x is the state of the parallel and child-workflow steps (walker_scope.go).
	x runExt

	wfZone *zone
	sa     *saState
	root   *store // top-level step results (for the steps query)

	// env is the recorded worker configuration of the run.
	env runEnv
	// runs counts the runs this one continues (continue.go);
	// noContinue stops continuing as new for the rest of this run;
	// progress counts the top-level steps and loop iterations done in this
	// run; top is the index of the running top-level step; loopResume is a
	// container to resume (a top-level foreach at an iteration, or a
	// frame of the resume cursor); resumeFrames is the cursor runTop
	// starts from; noNested stops continuing as new inside nested loops
	// and top-level whiles (histories recorded before that), noSwitch
	// inside switch cases.
	runs         int
	noContinue   bool
	noNested     bool
	noSwitch     bool
	progress     int
	top          int
	loopResume   *loopResume
	resumeFrames []ResumeFrame
}

// now is the deterministic clock of the run.
func (r *run) now() time.Time { return workflow.Now(r.ctx) }

// scope is the lexical position a step runs in.
type scope struct {
	path    string         // path of the enclosing container ("" at top level)
	store   *store         // step results
	foreach map[string]any // innermost foreach {items, item, index, total}
	while   map[string]any // innermost while {iteration}
	errVal  map[string]any // `error` in fallbacks
	// viewAs, when set, renders every step of the scope from the point of
	// view just after that step (workflow-level fallback clones).
	viewAs *Step
	// caught says an enclosing on-failure policy (or parallel step) sees
	// failures raised here, so they are not parked for an operator.
	caught bool
	// inFallback disables the workflow-level on-failure (§7.4).
	inFallback bool
	zone       *zone
	// noCut says the loops of this scope may not be cut by continue-as-new
	// (an enclosing step other than a cuttable if/switch/foreach/while).
	noCut bool
	// inSwitch says a switch case encloses the scope (its loops are cut
	// since changeSwitchContinue, continue.go).
	inSwitch bool
}

// child returns a copy of sc for a nested step list.
func (sc *scope) child(path string) *scope {
	c := *sc
	c.path = path
	return &c
}

// stepPath appends name to a step path.
func stepPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "/" + name
}

// runSteps runs steps in order and stops at the first error (failure,
// abort, loop signal or termination).
func (r *run) runSteps(ctx workflow.Context, sc *scope, steps []*Step) error {
	return r.runStepsFrom(ctx, sc, steps, nil)
}

// runStep runs one step with its modifiers composed in Kibana's order
// (§2.1): on-failure (step level, else workflow level) ⊃ step-level if: ⊃
// step-level foreach: ⊃ timeout ⊃ the step. A failure nothing will catch is
// parked for an operator when operator recovery is on.
func (r *run) runStep(ctx workflow.Context, sc *scope, s *Step) error {
	path := stepPath(sc.path, s.Name)
	policy, wfLevel := r.policyFor(sc, s)
	for {
		var err error
		if policy != nil {
			err = r.withPolicy(ctx, sc, s, path, policy, wfLevel, func(ctx workflow.Context, isc *scope, at attempt) error {
				return r.runGuarded(ctx, isc, s, path, at)
			})
		} else {
			err = r.runGuarded(ctx, sc, s, path, attempt{})
		}
		if !r.shouldPark(ctx, sc, err) {
			return err
		}
		f := err.(*failure)
		req, perr := r.park(ctx, sc, path, f.E)
		if perr != nil {
			return perr
		}
		switch {
		case req == nil: // operator timeout: fail as Kibana would
			return &failure{E: f.E, final: true}
		case req.Action == ActionRetry:
			continue
		case req.Action == ActionSkip:
			r.skipStep(sc, s, path, req.Output)
			return nil
		default:
			return &failure{E: f.E, final: true}
		}
	}
}

// policyFor returns the on-failure policy around s: its own, else the
// workflow-level one for eligible steps (not flow control, not in a
// fallback path).
func (r *run) policyFor(sc *scope, s *Step) (*OnFailure, bool) {
	if s.OnFailure != nil {
		return s.OnFailure, false
	}
	wl := r.def.Settings.OnFailure
	if wl == nil || sc.inFallback {
		return nil, false
	}
	if k, ok := executors[s.Type]; ok && k.flow {
		return nil, false
	}
	return wl, true
}

// runGuarded applies the step-level if: and foreach: modifiers.
func (r *run) runGuarded(ctx workflow.Context, sc *scope, s *Step, path string, at attempt) error {
	if s.If != nil && r.resumedLoop(s) == nil { // a resumed loop passed its if: in an earlier run

		ok, err := r.evalCondition(ctx, s.If, r.templateContext(sc, viewer{at: s}), "if_"+s.Name)
		if err != nil {
			return &failure{E: step.AsError(err)}
		}
		if !ok {
			return nil
		}
	}
	if s.Foreach != nil && s.Type != "foreach" && s.Type != "parallel" {
		return r.stepLevelForeach(ctx, sc, s, path, at)
	}
	return r.runTimed(ctx, sc, s, path, at)
}

// runTimed applies the step's timeout zone. Activity steps rely on the
// activity's StartToClose timeout instead of a timer (fewer history events).
func (r *run) runTimed(ctx workflow.Context, sc *scope, s *Step, path string, at attempt) error {
	if s.Timeout == "" || r.isActivity(s.Type) || ownTimeout[s.Type] {
		return r.runAtomic(ctx, sc, s, path, at)
	}
	d, err := duration.Parse(s.Timeout)
	if err != nil {
		return &failure{E: step.AsError(err)}
	}
	return r.inZone(ctx, sc, d, stepTimeoutError(s.Timeout), func(ctx workflow.Context, zsc *scope) error {
		return r.runAtomic(ctx, zsc, s, path, at)
	})
}

// inZone runs fn in a timeout zone of duration d: a timer cancels fn's
// context when it fires, and the resulting abort becomes a failure with
// zerr (catchable from here on).
func (r *run) inZone(ctx workflow.Context, sc *scope, d time.Duration, zerr *step.Error, fn func(workflow.Context, *scope) error) error {
	z := &zone{parent: sc.zone, err: zerr}
	zctx, cancel := workflow.WithCancel(ctx)
	tctx, cancelTimer := workflow.WithCancel(ctx)
	workflow.Go(tctx, func(gctx workflow.Context) {
		if workflow.NewTimer(gctx, d).Get(gctx, nil) == nil {
			z.fired = true
			cancel()
		}
	})
	zsc := *sc
	zsc.zone = z
	err := fn(zctx, &zsc)
	cancelTimer()
	cancel()
	var a *abort
	if errors.As(err, &a) && a.zone == z {
		return &failure{E: a.E}
	}
	if z.fired && err == nil {
		// The step finished in the same instant the timer fired.
		return nil
	}
	return err
}

// runAtomic runs the step itself: records its execution, dispatches to the
// executor table or to an activity, and stores its result.
func (r *run) runAtomic(ctx workflow.Context, sc *scope, s *Step, path string, at attempt) error {
	c := &call{r: r, ctx: ctx, sc: sc, s: s, name: s.Name, path: path, at: at}
	var rec *StepRecord
	if lr := r.resumedLoop(s); lr != nil {
		rec = r.runningRecord(path)
		if rec == nil { // dropped from the bounded list in an earlier run
			rec = &StepRecord{Path: path, Type: s.Type, Status: StatusRunning, Attempts: at.n + 1, StartedAt: r.now()}
		}
		r.currentStep = path
	} else {
		rec = r.startRecord(path, s.Type, at.n)
	}
	var out any
	var err error
	if k, ok := executors[s.Type]; ok {
		out, err = k.run(c)
	} else if isDataStep(s.Type) {
		out, err = runDataStep(c)
	} else if spec, ok := r.reg.Lookup(s.Type); ok && spec.Kind == step.KindActivity {
		out, err = c.runActivity(spec)
	} else {
		err = &step.Error{Type: "UnknownStepType", Message: fmt.Sprintf("Unknown step type %q for step %s.", s.Type, s.Name)}
	}
	if err == nil && out != nil {
		if e := r.checkOutput(c.ctx, s, out); e != nil {
			out, err = nil, e
		}
	}
	if m, ok := out.(map[string]any); ok && err == nil && s.Type == "data.set" {
		// Only completed data.set executions feed `variables` (§6.3.1).
		r.setVariables(m)
	}
	err = c.classify(err)
	if _, ok := err.(*continueAsNew); ok {
		return err // the container goes on in the next run: its record stays running
	}
	r.finish(sc, s, rec, c, out, err)
	return err
}

// finish records the end of a step execution and stores its result.
func (r *run) finish(sc *scope, s *Step, rec *StepRecord, c *call, out any, err error) {
	now := r.now()
	rec.FinishedAt = &now
	res := &result{input: c.input, state: c.state}
	switch e := err.(type) {
	case nil:
		rec.Status = StatusCompleted
		res.output, res.hasOutput = out, out != nil
	case *loopSignal:
		rec.Status = StatusCompleted
	case *terminate:
		if e.status == StatusFailed {
			rec.Status = StatusFailed
			rec.Error = e.err
			res.err = e.err
		} else {
			rec.Status = StatusCompleted
			res.output, res.hasOutput = out, out != nil
		}
	default:
		rec.Status = StatusFailed
		rec.Error = errFor(err)
		res.err = rec.Error
		// A failed step may still have an output (a fail-fast parallel
		// step keeps its aggregate).
		res.output, res.hasOutput = out, out != nil
	}
	sc.store.put(c.name, res)
	r.noteExecution(sc, rec.Path, res)
	if r.currentStep == rec.Path {
		r.currentStep = ""
	}
	if res.hasOutput && s.Type == "cases.createCase" {
		r.noteCase(out)
	}
}

// startRecord appends a running record for path.
func (r *run) startRecord(path, typ string, attempt int) *StepRecord {
	rec := &StepRecord{Path: path, Type: typ, Status: StatusRunning, Attempts: attempt + 1, StartedAt: r.now()}
	r.records.add(rec)
	r.currentStep = path
	return rec
}

// skipStep stores the operator-supplied output of a skipped step.
func (r *run) skipStep(sc *scope, s *Step, path string, output any) {
	now := r.now()
	r.records.add(&StepRecord{Path: path, Type: s.Type, Status: StatusCompleted, Attempts: 1, StartedAt: now, FinishedAt: &now})
	sc.store.put(s.Name, &result{output: output, hasOutput: output != nil})
	if s.Type == "data.set" {
		if m, ok := output.(map[string]any); ok {
			r.setVariables(m)
		}
	}
}

// setVariables merges a data.set output into `variables` (later wins).
func (r *run) setVariables(m map[string]any) {
	for _, k := range keysSorted(m) {
		r.variables[k] = m[k]
	}
}

// isActivity reports whether typ runs as an activity.
func (r *run) isActivity(typ string) bool {
	if _, ok := executors[typ]; ok || isDataStep(typ) {
		return false
	}
	spec, ok := r.reg.Lookup(typ)
	return ok && spec.Kind == step.KindActivity
}

// isDataStep reports whether typ is one of the pure data.* steps that
// interpreter/datastep implements (data.set is the workflow's own).
func isDataStep(typ string) bool {
	return strings.HasPrefix(typ, "data.") && typ != "data.set"
}
