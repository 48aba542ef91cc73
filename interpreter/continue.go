package interpreter

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/step"
)

// continue.go: continue-as-new at top-level step boundaries and between
// loop iterations (issue 4 item 9).
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
// Boundaries are the points between two top-level steps and the points
// between two iterations of a loop (`type: foreach` or `type: while`) that
// is top-level or nested only in if/switch/foreach/while steps, where
// neither the loop nor any step enclosing it has a `timeout` or its own
// `on-failure` and no enclosing loop has an iteration-timeout or iteration-on-failure
// (all of them would span the boundary). The loop goes on in the new run
// with the next iteration, its `if:` not evaluated again, its items and
// state carried, and its step record continued. A top-level foreach is
// carried as ResumeState.Next and Iteration (the form recorded before
// nested cuts existed); every other cut carries a cursor of frames
// (ResumeState.Frames, see ResumeFrame): each enclosing container with its
// step index, its `if` branch, its `switch` case or the iteration in
// progress, down to the loop. The new run walks down the cursor without evaluating conditions
// or items again: an `if` takes the recorded branch, a `switch` the
// recorded case (its expression and matches not rendered again, its input
// and state carried), an enclosing loop runs the rest of its iteration
// (foreach.item/index/total, while.iteration as they were) and then its
// next iterations. Results of
// nested steps live in the run's one store, so steps.* is carried whole;
// no retry is in flight at a boundary (no on-failure encloses one), so
// attempt counters are those of the carried step records.
// A step-level `foreach:` (without on-failure, its own or the
// workflow-level one) is cut the same way between iterations, not inside
// one. Nothing else is cut: a loop inside a parallel branch, a fallback
// or a timeout, and a child workflow run to their end in one run (split
// such work with workflow.execute). A run continues only after it made
// progress (a step or an iteration), never while a step is parked or
// waits for input, and only after every update handler finished.
// Values over the blob threshold (step inputs/outputs, variables, log
// outputs) are carried as blob references through StoreBlobActivity when
// a blob store is configured; if the new input would still be too large
// for a Temporal payload, the run goes on without continuing as new.
//
// The decision point is guarded with workflow.GetVersion(changeContinue):
// histories recorded before it replay without ever continuing. Cuts with
// a cursor (a top-level while, nested loops) are guarded too with
// GetVersion(changeNestedContinue), asked first: histories recorded before
// it replay without cutting there. A loop inside a switch case asks
// GetVersion(changeSwitchContinue) before those: histories recorded before
// it replay without cutting inside a switch.

// changeContinue is the GetVersion change ID of continue-as-new.
const changeContinue = "continue-as-new"

// maxResumeBytes bounds the encoded continue-as-new input (Temporal
// rejects payloads over 2 MiB).
const maxResumeBytes = 1536 << 10

// changeNestedContinue is the GetVersion change ID of continue-as-new
// between the iterations of a top-level while and of loops nested in
// if/foreach/while branches (the resume cursor of frames).
const changeNestedContinue = "continue-as-new-nested"

// changeSwitchContinue is the GetVersion change ID of continue-as-new
// between the iterations of loops inside a `switch` case (asked before
// changeNestedContinue, only for those loops).
const changeSwitchContinue = "continue-as-new-switch"

// ResumeFrame is one level of the resume cursor of a run continued as new
// inside nested steps: the step at index Step of the step list it is in
// (for the first frame, the top-level step list) and, for that step, the
// branch of an `if` (Else), the case of a `switch` (Case) or the iteration
// of a loop (Iteration). In every frame but the last, the step runs the
// steps of the next frame's list: an `if` its branch, a `switch` its case,
// a loop iteration Iteration again (with its
// foreach.item/index or while.iteration), from the next frame's step on.
// The last frame is a loop that goes on with iteration Iteration.
type ResumeFrame struct {
	Step      int  `json:"step"`
	Else      bool `json:"else,omitempty"`
	Iteration int  `json:"iteration,omitempty"`
	// Case is the case a `switch` runs: its index in cases, -1 for
	// default (since changeSwitchContinue).
	Case int `json:"case,omitempty"`
}

// continueAsNew ends the walk so that the run continues as new at the
// top-level step next (at its iteration iteration, when > 0, for a
// top-level foreach), or at the cursor frames.
type continueAsNew struct {
	next, iteration int
	// frames is the cursor, outermost first, while it is being built
	// (innermost loop first, each enclosing container pushing its frame
	// and each step list setting the step index).
	frames []ResumeFrame
	// legacy marks a cut of a top-level foreach, carried as next and
	// iteration (the form recorded before changeNestedContinue).
	legacy bool
}

func (c *continueAsNew) Error() string {
	return fmt.Sprintf("continue as new at step %d, iteration %d, frames %v", c.next, c.iteration, c.frames)
}

// push adds the frame of an enclosing container in front of the cursor.
func (c *continueAsNew) push(f ResumeFrame) {
	c.frames = append([]ResumeFrame{f}, c.frames...)
}

// loopResume is a container step that goes on where an earlier run (or
// this one, when continuing as new was declined) stopped.
type loopResume struct {
	step  *Step
	frame ResumeFrame
	// rest are the frames of the steps nested in step; empty, the step is
	// the loop that goes on at frame.Iteration.
	rest []ResumeFrame
}

// runTop runs the top-level steps from index from (a foreach resuming at
// iteration when > 0, or the cursor r.resumeFrames), continuing as new at
// a boundary when due.
func (r *run) runTop(ctx workflow.Context, sc *scope, from, iteration int) error {
	frames := r.resumeFrames
	r.resumeFrames = nil
	if frames == nil && iteration > 0 {
		frames = []ResumeFrame{{Step: from, Iteration: iteration}}
	}
	if len(frames) > 0 && frames[0].Step != from {
		return &failure{E: errResumeCursor(frames[0].Step, len(r.def.Steps))}
	}
	steps := r.def.Steps
	for i := from; i < len(steps); i++ {
		s := steps[i]
		if s == nil {
			continue
		}
		if i == from && len(frames) > 0 {
			r.loopResume = &loopResume{step: s, frame: frames[0], rest: frames[1:]}
		} else if ctx.Err() == nil && r.continueDue() {
			return &continueAsNew{next: i}
		}
		r.top = i
		if err := r.runStep(ctx, sc, s); err != nil {
			if c, ok := err.(*continueAsNew); ok {
				c.at(i)
			}
			return err
		}
		r.progress++
	}
	return nil
}

// at completes the cursor of a cut inside the top-level step i.
func (c *continueAsNew) at(i int) {
	c.next = i
	if len(c.frames) == 0 {
		return
	}
	c.frames[0].Step = i
	if c.legacy && len(c.frames) == 1 {
		c.iteration, c.frames = c.frames[0].Iteration, nil
	}
}

// runStepsFrom runs steps in order like runSteps; with a cursor rest, it
// starts at the step of rest[0], which resumes with rest. A cut inside
// step i gets i as the step of its first frame.
func (r *run) runStepsFrom(ctx workflow.Context, sc *scope, steps []*Step, rest []ResumeFrame) error {
	from := 0
	if len(rest) > 0 {
		from = rest[0].Step
		if from < 0 || from >= len(steps) || steps[from] == nil {
			return &failure{E: &step.Error{Type: "Error", Message: fmt.Sprintf("continue-as-new state points at nested step %d of %d", from, len(steps))}}
		}
		r.loopResume = &loopResume{step: steps[from], frame: rest[0], rest: rest[1:]}
	}
	for i := from; i < len(steps); i++ {
		s := steps[i]
		if s == nil {
			continue
		}
		if err := r.runStep(ctx, sc, s); err != nil {
			if c, ok := err.(*continueAsNew); ok && len(c.frames) > 0 {
				c.frames[0].Step = i
			}
			return err
		}
	}
	return nil
}

// resumedLoop returns the pending resume of step s (nil: s starts
// afresh), leaving it pending.
func (r *run) resumedLoop(s *Step) *loopResume {
	if lr := r.loopResume; lr != nil && lr.step == s {
		return lr
	}
	return nil
}

// takeResume returns and consumes the pending resume of step s.
func (r *run) takeResume(s *Step) *loopResume {
	lr := r.resumedLoop(s)
	if lr != nil {
		r.loopResume = nil
	}
	return lr
}

// runningRecord returns the last running record of path (nil when it was
// dropped from the bounded list).
func (r *run) runningRecord(path string) *StepRecord {
	for i := len(r.records.list) - 1; i >= 0; i-- {
		if rec := r.records.list[i]; rec.Path == path && rec.Status == StatusRunning {
			return rec
		}
	}
	return nil
}

// splittable reports whether the run may continue as new between
// iterations of the loop of call c in the form recorded before
// changeNestedContinue: a top-level `type: foreach` without timeout and
// without its own on-failure.
func (c *call) splittable() bool {
	s := c.s
	return c.sc.path == "" && c.name == s.Name && s.Type == "foreach" && s.Timeout == "" && s.OnFailure == nil &&
		c.r.def.Steps[c.r.top] == s
}

// cuttable reports whether the run may continue as new between the
// iterations of the loop of call c (or, for a container, inside it): the
// step itself has no on-failure and, unless it is a step-level foreach:
// (whose timeout is per iteration), no timeout (they would span the
// boundary); every step enclosing it is an if, foreach or while that is
// cuttable too (no parallel branch, no fallback, no timeout zone, no
// on-failure policy, no iteration policy).
func (c *call) cuttable() bool {
	s, sc, r := c.s, c.sc, c.r
	if sc.noCut || s.OnFailure != nil || sc.store != r.root || sc.zone != r.wfZone || sc.caught || sc.inFallback || sc.viewAs != nil {
		return false
	}
	if c.name == s.Name {
		return s.Timeout == ""
	}
	return c.name == "foreach_"+s.Name && s.Type != "foreach"
}

// innerScope returns c.inner(seg), whose loops may be cut when c's
// container may be cut through (a cuttable if/foreach/while, without
// iteration-on-failure or iteration-timeout, which would span the
// boundary). The iterations of a step-level foreach: are not cut through.
func (c *call) innerScope(seg string) *scope {
	isc := c.inner(seg)
	isc.noCut = !(c.name == c.s.Name && c.cuttable() && c.s.IterationOnFailure == nil && c.s.IterationTimeout == "")
	return isc
}

// runIfBranch runs the branch of an `if` (else: the else branch), from the
// cursor of lr when it resumes.
func (c *call) runIfBranch(branch []*Step, elseBranch bool, lr *loopResume) error {
	var rest []ResumeFrame
	if lr != nil {
		rest = lr.rest
	}
	err := c.r.runStepsFrom(c.ctx, c.innerScope(""), branch, rest)
	if can, ok := err.(*continueAsNew); ok {
		can.push(ResumeFrame{Else: elseBranch})
	}
	return err
}

// runSwitchCase runs the case idx (-1: default) of a `switch`, from the
// cursor of lr when it resumes. Its loops are cut only in runs recorded
// since changeSwitchContinue (see nestedDue).
func (c *call) runSwitchCase(idx int, branch []*Step, lr *loopResume) error {
	var rest []ResumeFrame
	if lr != nil {
		rest = lr.rest
	}
	isc := c.innerScope("")
	isc.inSwitch = true
	err := c.r.runStepsFrom(c.ctx, isc, branch, rest)
	if can, ok := err.(*continueAsNew); ok {
		can.push(ResumeFrame{Case: idx})
	}
	return err
}

// nestedDue reports whether the run should continue as new now, between
// two iterations of the loop of c cut with the resume cursor (a top-level
// while, a nested loop); a loop inside a switch case asks
// changeSwitchContinue first.
func (c *call) nestedDue() bool {
	return c.r.nestedDue(c.sc.inSwitch)
}

// nestedDue is call.nestedDue for a loop that is (inSwitch) or is not
// inside a switch case.
func (r *run) nestedDue(inSwitch bool) bool {
	if r.progress == 0 || r.noContinue || r.noNested || len(r.parked) > 0 || len(r.inputs) > 0 || r.ctx.Err() != nil {
		return false
	}
	if inSwitch && r.noSwitch {
		return false
	}
	if !r.dueNow() {
		return false
	}
	if inSwitch && workflow.GetVersion(r.ctx, changeSwitchContinue, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		r.noSwitch = true
		return false
	}
	if workflow.GetVersion(r.ctx, changeNestedContinue, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		r.noNested = true
		return false
	}
	return r.continueDue()
}

// dueNow reports whether Temporal suggests continuing as new or the
// history reached Options.ContinueAsNewAfterEvents.
func (r *run) dueNow() bool {
	info := workflow.GetInfo(r.ctx)
	return info.GetContinueAsNewSuggested() ||
		(r.env.ContinueAfterEvents > 0 && info.GetCurrentHistoryLength() >= r.env.ContinueAfterEvents)
}

// continueDue reports whether the run should continue as new now.
func (r *run) continueDue() bool {
	if r.progress == 0 || r.noContinue || len(r.parked) > 0 || len(r.inputs) > 0 {
		return false
	}
	if !r.dueNow() {
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
	rs.Frames = c.frames
	nin := in
	nin.Definition = r.def
	nin.Resume = rs
	if n := len(jsonMarshal(nin)); n > maxResumeBytes {
		workflow.GetLogger(ctx).Warn("not continuing as new: the carried state is too large", "bytes", n, "limit", maxResumeBytes)
		r.noContinue = true
		r.resumeFrames = c.frames // the walk goes on from the cut
		return false, nil
	}
	workflow.GetLogger(ctx).Info("continuing as new", "nextStep", c.next, "iteration", c.iteration, "frames", len(c.frames), "runs", rs.Runs)
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
	r.resumeFrames = rs.Frames
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
