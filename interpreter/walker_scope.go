package interpreter

import (
	"strings"

	"go.temporal.io/sdk/workflow"
)

// walker_scope.go: what the parallel and child-workflow steps need from the
// walker, kept out of the walker files: branch scopes with their own
// steps.* (parallel), the concurrency slot a branch holds (released while
// it waits when concurrency.count-waiting is false), and the execution log a
// child run keeps for its parent's workflow.execute output (§6.1.10).

// runExt is the state of one run that belongs to those steps (run.x).
type runExt struct {
	// branches maps the store of a running parallel branch to its slot.
	branches map[*store]*branchSlot
	// log holds the executions of the current top-level step of a child
	// run (see noteExecution), nil until the first one.
	log []execEntry
}

// branchScope returns the scope of one parallel branch: nested at
// <step path>/<seg>, with its own store layered over the store the
// parallel step runs in. The branch reads the steps before the parallel
// step and its own steps only, never another branch's (Kibana issue
// #290309). Failures inside a branch are the parallel step's to handle, so
// they are not parked for an operator.
func (c *call) branchScope(seg string) *scope {
	bsc := c.inner(seg)
	bsc.store = newStore(c.sc.store)
	bsc.caught = true
	return bsc
}

// mergeBranch copies the results a finished branch wrote into the store of
// the parallel step, so the steps after it see them (later branches, in
// index order, win for names they share).
func (c *call) mergeBranch(b *store) {
	for _, name := range keysSorted(b.results) {
		c.sc.store.put(name, b.results[name])
	}
}

// slots is the concurrency limit of one parallel step: at most max
// branches hold a slot at once.
type slots struct {
	max  int
	used int
	// countWaiting false frees a branch's slot while it waits (a human,
	// a child workflow, a long timer).
	countWaiting bool
}

// branchSlot is the slot of one running branch.
type branchSlot struct {
	slots   *slots
	holding bool
}

// acquire waits for a free slot.
func (s *slots) acquire(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return s.used < s.max }); err != nil {
		return err
	}
	s.used++
	return nil
}

// bindBranch records that the branch using store st holds a slot of sl.
func (r *run) bindBranch(st *store, sl *slots) {
	if r.x.branches == nil {
		r.x.branches = map[*store]*branchSlot{}
	}
	r.x.branches[st] = &branchSlot{slots: sl, holding: true}
}

// unbindBranch frees the slot of the branch using store st.
func (r *run) unbindBranch(st *store) {
	if b := r.x.branches[st]; b != nil && b.holding {
		b.slots.used--
	}
	delete(r.x.branches, st)
}

// branchOf returns the slot of the innermost parallel branch sc runs in.
func (r *run) branchOf(sc *scope) *branchSlot {
	for st := sc.store; st != nil; st = st.parent {
		if b := r.x.branches[st]; b != nil {
			return b
		}
	}
	return nil
}

// branchWaits frees the slot of the branch sc runs in while a step waits,
// when its parallel step does not count waiting branches. The returned
// function takes a slot again (waiting for one); call it when the wait
// ends.
func (r *run) branchWaits(sc *scope) func(workflow.Context) error {
	b := r.branchOf(sc)
	if b == nil || b.slots.countWaiting || !b.holding {
		return func(workflow.Context) error { return nil }
	}
	b.holding = false
	b.slots.used--
	return func(ctx workflow.Context) error {
		if err := b.slots.acquire(ctx); err != nil {
			return err
		}
		b.holding = true
		return nil
	}
}

// execEntry is one step execution of a child run, for the parent's
// workflow.execute output.
type execEntry struct {
	path      string
	output    any
	hasOutput bool
}

// isChild reports whether the run was started by workflow.execute.
func (r *run) isChild() bool {
	_, ok := r.base["parent"]
	return ok
}

// noteExecution logs a finished step execution of a child run. When a
// top-level step finishes, only its own subtree is kept: the parent reads
// the last top-level step's executions only.
func (r *run) noteExecution(sc *scope, path string, res *result) {
	if !r.isChild() {
		return
	}
	r.x.log = append(r.x.log, execEntry{path: path, output: res.output, hasOutput: res.hasOutput})
	if sc.path != "" {
		return
	}
	kept := r.x.log[:0]
	for _, e := range r.x.log {
		if e.path == path || strings.HasPrefix(e.path, path+"/") {
			kept = append(kept, e)
		}
	}
	r.x.log = kept
}

// lastStepOutput is what a parent's workflow.execute takes when the child
// emitted no workflow.output (Kibana's getWorkflowOutput): the output of
// the last top-level step; when that step contains others, the outputs of
// the executions at the deepest level of its subtree, as an array (all
// iterations, in order). It is nil for a run that is not a child or that
// has outputs.
func (r *run) lastStepOutput() any {
	if !r.isChild() || r.output != nil || len(r.x.log) == 0 {
		return nil
	}
	log := r.x.log
	logged := make(map[string]bool, len(log))
	for _, e := range log {
		logged[e.path] = true
	}
	// depth = number of logged executions enclosing e (its scope stack).
	depth := func(e execEntry) int {
		n := 0
		for i := 0; i < len(e.path); i++ {
			if e.path[i] == '/' && logged[e.path[:i]] {
				n++
			}
		}
		return n
	}
	var top *execEntry
	for i := range log {
		if depth(log[i]) == 0 {
			top = &log[i]
		}
	}
	if top == nil {
		return nil
	}
	level := []execEntry{*top}
	for d := 1; ; d++ {
		var next []execEntry
		for _, e := range log {
			if depth(e) != d {
				continue
			}
			for _, p := range level {
				if strings.HasPrefix(e.path, p.path+"/") {
					next = append(next, e)
					break
				}
			}
		}
		if len(next) == 0 {
			break
		}
		level = next
	}
	if len(level) == 1 && level[0].path == top.path {
		if !top.hasOutput {
			return nil
		}
		return top.output
	}
	var outs []any
	for _, e := range level {
		if e.hasOutput {
			outs = append(outs, e.output)
		}
	}
	if len(outs) == 0 {
		return nil
	}
	return outs
}
