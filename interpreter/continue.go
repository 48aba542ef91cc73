package interpreter

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/step"
)

// continue.go: continue-as-new at top-level step boundaries (issue 4
// item 9).
//
// Between two top-level steps of the main step list, when Temporal
// suggests it (GetContinueAsNewSuggested: 4 Ki events or 4 MiB by default)
// or the run's history holds Options.ContinueAsNewAfterEvents events, the
// run continues as new with RunInput.Resume: the index of the next
// top-level step, the resolved inputs, variables, every step result (by
// name, with the aliases of synthetic results), the output so far, the step
// records of the state query, a child run's execution log, the CaseId set
// and execution.startedAt of the first run. The workflow ID (execution.id,
// idempotency keys, child workflow IDs) does not change, memo and search
// attributes are carried by Temporal, settings.timeout keeps counting from
// the first run's start, and the definition is pinned in the new input.
//
// Boundaries are the points between two top-level steps and, inside a
// top-level `type: foreach` without `timeout` and without its own
// `on-failure` (both would span the boundary), the points between two
// iterations: the loop goes on in the new run with the next item, its
// `if:` not evaluated again, its items and state carried, and its step
// record continued. Nothing else is cut: a long while, a nested loop, a
// step-level `foreach:`, a parallel step or a child workflow runs to its
// end in one run (split such work with workflow.execute). A run continues
// only after it made progress (a step or an iteration), never while a step
// is parked or waits for input, and only after every update handler
// finished.
// Values over the blob threshold (step inputs/outputs, variables, log
// outputs) are carried as blob references through StoreBlobActivity when
// a blob store is configured; if the new input would still be too large
// for a Temporal payload, the run goes on without continuing as new.
//
// The decision point is guarded with workflow.GetVersion(changeContinue):
// histories recorded before it replay without ever continuing.

// changeContinue is the GetVersion change ID of continue-as-new.
const changeContinue = "continue-as-new"

// maxResumeBytes bounds the encoded continue-as-new input (Temporal
// rejects payloads over 2 MiB).
const maxResumeBytes = 1536 << 10

// continueAsNew ends the walk so that the run continues as new at the
// top-level step next (at its iteration iteration, when > 0).
type continueAsNew struct{ next, iteration int }

func (c *continueAsNew) Error() string {
	return fmt.Sprintf("continue as new at step %d, iteration %d", c.next, c.iteration)
}

// loopResume is a top-level foreach that goes on at iteration next.
type loopResume struct {
	step *Step
	next int
	// record is the loop's step record carried over (nil when it was
	// dropped from the bounded list).
	record *StepRecord
}

// runTop runs the top-level steps from index from (a foreach resuming at
// iteration when > 0), continuing as new at a boundary when due.
func (r *run) runTop(ctx workflow.Context, sc *scope, from, iteration int) error {
	steps := r.def.Steps
	for i := from; i < len(steps); i++ {
		s := steps[i]
		if s == nil {
			continue
		}
		if i == from && iteration > 0 {
			r.resumeLoopAt(s, iteration)
		} else if ctx.Err() == nil && r.continueDue() {
			return &continueAsNew{next: i}
		}
		r.top = i
		if err := r.runStep(ctx, sc, s); err != nil {
			return err
		}
		r.progress++
	}
	return nil
}

// resumeLoopAt prepares the foreach s to go on at iteration next, with the
// step record it had.
func (r *run) resumeLoopAt(s *Step, next int) {
	lr := &loopResume{step: s, next: next}
	for i := len(r.records.list) - 1; i >= 0; i-- {
		if rec := r.records.list[i]; rec.Path == s.Name && rec.Status == StatusRunning {
			lr.record = rec
			break
		}
	}
	r.loopResume = lr
}

// resumedLoop returns (and consumes) the pending resume of loop step s.
func (r *run) resumedLoop(s *Step) *loopResume {
	if lr := r.loopResume; lr != nil && lr.step == s {
		return lr
	}
	return nil
}

// splittable reports whether the run may continue as new between
// iterations of the loop of call c: a top-level `type: foreach` without
// timeout and without its own on-failure.
func (c *call) splittable() bool {
	s := c.s
	return c.sc.path == "" && c.name == s.Name && s.Type == "foreach" && s.Timeout == "" && s.OnFailure == nil &&
		c.r.def.Steps[c.r.top] == s
}

// continueDue reports whether the run should continue as new now.
func (r *run) continueDue() bool {
	if r.progress == 0 || r.noContinue || len(r.parked) > 0 || len(r.inputs) > 0 {
		return false
	}
	info := workflow.GetInfo(r.ctx)
	due := info.GetContinueAsNewSuggested() ||
		(r.env.ContinueAfterEvents > 0 && info.GetCurrentHistoryLength() >= r.env.ContinueAfterEvents)
	if !due {
		return false
	}
	if workflow.GetVersion(r.ctx, changeContinue, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		r.noContinue = true
		return false
	}
	return true
}

// continueRun returns the error that ends the run with the continuation c,
// or ok=false when the carried state is too large (the run then goes on
// where it is).
func (r *run) continueRun(in RunInput, c *continueAsNew) (ok bool, err error) {
	ctx := r.ctx
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	// Signals sent now would be lost with this run: nothing is parked or
	// waiting at a top-level boundary, so they could only be rejected.
	for _, name := range []string{Resume, StepControl} {
		ch := workflow.GetSignalChannel(ctx, name)
		var ignored any
		for ch.ReceiveAsync(&ignored) {
			workflow.GetLogger(ctx).Warn("signal ignored at continue-as-new: no step waits", "signal", name)
		}
	}
	rs := r.resumeState(c.next)
	rs.Iteration = c.iteration
	nin := in
	nin.Definition = r.def
	nin.Resume = rs
	if n := len(jsonMarshal(nin)); n > maxResumeBytes {
		workflow.GetLogger(ctx).Warn("not continuing as new: the carried state is too large", "bytes", n, "limit", maxResumeBytes)
		r.noContinue = true
		return false, nil
	}
	workflow.GetLogger(ctx).Info("continuing as new", "nextStep", c.next, "iteration", c.iteration, "runs", rs.Runs)
	return true, workflow.NewContinueAsNewError(ctx, workflow.GetInfo(ctx).WorkflowType.Name, nin)
}

// resumeState captures what the next run carries over.
func (r *run) resumeState(next int) *ResumeState {
	rs := &ResumeState{
		Next:           next,
		StartedAt:      r.startedAt(),
		Runs:           r.runs + 1,
		Inputs:         r.inputsValue(),
		Variables:      map[string]any{},
		Results:        map[string]ResumeResult{},
		Output:         r.output,
		Records:        r.records.snapshot(),
		DroppedRecords: r.records.dropped,
		CaseID:         r.sa.caseID,
		OutputBytes:    r.outputBytes,
	}
	for _, k := range keysSorted(r.variables) {
		rs.Variables[k] = r.offload("variables/"+k, r.variables[k])
	}
	for _, name := range keysSorted(r.root.results) {
		res := r.root.results[name]
		rs.Results[name] = ResumeResult{
			Input:     r.offload("steps/"+name+"/input", res.input),
			Output:    r.offload("steps/"+name+"/output", res.output),
			HasOutput: res.hasOutput,
			Error:     res.err,
			State:     res.state,
		}
	}
	for _, name := range keysSorted(r.aliases) {
		if _, ok := r.root.results[name]; ok {
			if rs.Aliases == nil {
				rs.Aliases = map[string]string{}
			}
			rs.Aliases[name] = r.aliases[name].Name
		}
	}
	for _, e := range r.x.log {
		rs.Log = append(rs.Log, ResumeLogEntry{Path: e.path, Output: r.offload("log/"+e.path, e.output), HasOutput: e.hasOutput})
	}
	return rs
}

// offload returns v, or its blob reference when its JSON is over the blob
// threshold and a blob store is configured. A store failure keeps v inline.
func (r *run) offload(key string, v any) any {
	if v == nil || !r.env.BlobStore || r.env.BlobThreshold < 0 {
		return v
	}
	if _, _, ok := BlobRefOf(v); ok {
		return v
	}
	if len(jsonMarshal(v)) <= r.env.BlobThreshold {
		return v
	}
	lctx := workflow.WithLocalActivityOptions(r.ctx, blobActivityOptions)
	var ref map[string]any
	if err := workflow.ExecuteLocalActivity(lctx, StoreBlobActivity, &StoreBlobRequest{Key: r.wfID + "/" + key, Value: v}).Get(lctx, &ref); err != nil {
		workflow.GetLogger(r.ctx).Warn("keeping a large value inline at continue-as-new", "key", key, "error", err)
		return v
	}
	return ref
}

// restore installs the state a previous run carried over.
func (r *run) restore(rs *ResumeState) {
	r.runs = rs.Runs
	for _, k := range keysSorted(rs.Variables) {
		r.variables[k] = rs.Variables[k]
	}
	for _, name := range keysSorted(rs.Results) {
		c := rs.Results[name]
		r.root.put(name, &result{input: c.Input, output: c.Output, hasOutput: c.HasOutput, err: c.Error, state: c.State})
	}
	for _, alias := range keysSorted(rs.Aliases) {
		if s, ok := r.layout.byName[rs.Aliases[alias]]; ok {
			r.aliases[alias] = s
		}
	}
	r.output = rs.Output
	for i := range rs.Records {
		rec := rs.Records[i]
		r.records.list = append(r.records.list, &rec)
	}
	r.records.dropped = rs.DroppedRecords
	for _, e := range rs.Log {
		r.x.log = append(r.x.log, execEntry{path: e.Path, output: e.Output, hasOutput: e.HasOutput})
	}
	r.sa.caseID = rs.CaseID
	r.outputBytes = rs.OutputBytes
	if ex, ok := r.base["execution"].(map[string]any); ok && !rs.StartedAt.IsZero() {
		ex["startedAt"] = rs.StartedAt
	}
}

// startedAt is execution.startedAt (the first run's start).
func (r *run) startedAt() time.Time {
	if ex, ok := r.base["execution"].(map[string]any); ok {
		if t, ok := ex["startedAt"].(time.Time); ok {
			return t
		}
	}
	return r.now()
}

// inputsValue is `inputs` after defaults.
func (r *run) inputsValue() map[string]any {
	m, _ := r.base["inputs"].(map[string]any)
	return m
}

// remaining returns what is left of settings.timeout d for a run that
// started (first run) at startedAt.
func (r *run) remaining(d time.Duration) time.Duration {
	return d - r.now().Sub(r.startedAt())
}

// errResumeCursor is the error of a resume state pointing past the steps.
func errResumeCursor(next, n int) *step.Error {
	return &step.Error{Type: "Error", Message: fmt.Sprintf("continue-as-new state points at top-level step %d of %d", next, n)}
}
