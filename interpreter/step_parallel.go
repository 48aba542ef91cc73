package interpreter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/duration"
	"github.com/secflow/secflow/interpreter/step"
)

// step_parallel.go: `type: parallel` (§6.1.6). Static branches
// (`branches`) or a dynamic fan-out (`foreach` + `steps`, one branch per
// item with foreach.* in scope) run concurrently as workflow.Go coroutines,
// at most `concurrency` at a time, started in index order. Each branch has
// its own steps.* layered over the steps before the parallel step (see
// branchScope); once the step ends, the branches' results are merged into
// the enclosing scope in index order.
//
// mode fail-fast (default): after a branch fails or times out no new branch
// starts, running ones drain, unstarted ones are skipped and the step fails
// with Kibana's aggregate message (the aggregate is still its output).
// mode settled: the step completes; read output.failed / output.results.
// branch-timeout bounds each branch (TimeoutError "Parallel branch <i> was
// terminated by a timeout."); the step's `timeout` is the walker's ordinary
// timeout zone around the whole step.
//
// Unlike Kibana v1, branch bodies may hold any step (nested flow control,
// waits, on-failure, timeouts). A workflow.output / workflow.fail in a
// branch ends the run (the other branches are cancelled); loop.break /
// loop.continue end their branch only.

func init() { define("parallel", true, runParallel) }

// Engine constants of Kibana's parallel step.
const (
	// DefaultParallelConcurrency is the concurrency of a parallel step that
	// sets none.
	DefaultParallelConcurrency = 5
	// MaxParallelConcurrency caps any requested concurrency.
	MaxParallelConcurrency = 20
	// MaxParallelFanOut caps the items of a dynamic fan-out.
	MaxParallelFanOut = 100
)

// Branch statuses in the parallel output.
const (
	branchCompleted = "completed"
	branchFailed    = "failed"
	branchSkipped   = "skipped"
	branchTimedOut  = "timed_out"
)

// parBranch is one branch of a parallel step.
type parBranch struct {
	index   int
	key     any // branch name (static) or item (dynamic); nil when unnamed
	seg     string
	steps   []*Step
	foreach map[string]any

	started    bool
	startedAt  time.Time
	finishedAt time.Time
	status     string
	output     any
	err        *step.Error
	store      *store
}

func runParallel(c *call) (any, error) {
	s := c.s
	failFast := s.Mode != "settled"
	var branches []*parBranch
	if len(s.Branches) > 0 {
		for i, b := range s.Branches {
			pb := &parBranch{index: i, seg: b.Name, steps: b.Steps}
			if b.Name != "" {
				pb.key = b.Name
			} else {
				pb.seg = fmt.Sprintf("branch[%d]", i)
			}
			branches = append(branches, pb)
		}
	} else {
		items, err := c.parallelItems()
		if err != nil {
			return nil, err
		}
		total := len(items)
		for i, it := range items {
			branches = append(branches, &parBranch{
				index: i, key: it, seg: fmt.Sprintf("branch[%d]", i), steps: s.Steps,
				foreach: map[string]any{"items": items, "item": it, "index": i, "total": total},
			})
		}
	}
	var branchTimeout time.Duration
	if s.BranchTimeout != "" {
		d, err := duration.Parse(s.BranchTimeout)
		if err != nil {
			return nil, err
		}
		branchTimeout = d
	}
	sl := parallelConcurrency(s.Concurrency)

	// Branches run in bctx, which a workflow.output/fail in one branch
	// cancels; the walk waits for every started branch, even when the step
	// itself is being cancelled, so no coroutine outlives the step.
	bctx, cancelBranches := workflow.WithCancel(c.ctx)
	defer cancelBranches()
	drain, _ := workflow.NewDisconnectedContext(c.ctx)
	running, failures := 0, 0
	var term *terminate
	stop := func() bool { return term != nil || (failFast && failures > 0) }
	for _, b := range branches {
		if err := workflow.Await(c.ctx, func() bool { return stop() || sl.used < sl.max }); err != nil || stop() {
			break
		}
		sl.used++
		b.started, b.startedAt = true, c.r.now()
		running++
		workflow.Go(bctx, func(ctx workflow.Context) {
			defer func() { running-- }()
			t := c.runBranch(ctx, b, sl, branchTimeout)
			switch {
			case t != nil:
				if term == nil {
					term = t
				}
				cancelBranches()
			case b.status == branchFailed || b.status == branchTimedOut:
				failures++
			}
		})
	}
	_ = workflow.Await(drain, func() bool { return running == 0 })

	if term != nil {
		return nil, term
	}
	if c.ctx.Err() != nil {
		return nil, c.r.abortFor(c.sc)
	}
	now := c.r.now()
	for _, b := range branches {
		if !b.started {
			b.status, b.finishedAt = branchSkipped, now
		}
		if b.store != nil {
			c.mergeBranch(b.store)
		}
	}
	out, failed := parallelOutput(branches, len(s.Branches) > 0)
	if failFast && failed > 0 {
		return out, &failure{E: failFastError(s.Name, branches, failed)}
	}
	return out, nil
}

// runBranch runs one branch to its end and records its status, output and
// error. It returns the termination a workflow.output/fail raised in it.
func (c *call) runBranch(ctx workflow.Context, b *parBranch, sl *slots, timeout time.Duration) *terminate {
	bsc := c.branchScope(b.seg)
	bsc.foreach = b.foreach
	b.store = bsc.store
	c.r.bindBranch(bsc.store, sl)
	defer c.r.unbindBranch(bsc.store)

	body := func(ctx workflow.Context, sc *scope) error { return c.r.runSteps(ctx, sc, b.steps) }
	var zerr *step.Error
	var err error
	if timeout > 0 {
		zerr = &step.Error{Type: "TimeoutError", Message: fmt.Sprintf("Parallel branch %d was terminated by a timeout.", b.index)}
		err = c.r.inZone(ctx, bsc, timeout, zerr, body)
	} else {
		err = body(ctx, bsc)
	}
	b.finishedAt = c.r.now()
	switch e := err.(type) {
	case nil, *loopSignal:
		b.status = branchCompleted
		b.output = lastOutput(bsc.store, b.steps)
	case *terminate:
		b.status = branchCompleted
		return e
	case *failure:
		if e.E == zerr {
			b.status, b.err = branchTimedOut, zerr
		} else {
			b.status, b.err = branchFailed, e.E
		}
	default:
		// An abort: the step itself is being cancelled; the caller
		// reports that instead of the branches.
		b.status, b.err = branchFailed, errFor(err)
	}
	return nil
}

// lastOutput is a branch's output: the output of the last of its steps
// that ran (nil when that step has none).
func lastOutput(st *store, steps []*Step) any {
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s == nil {
			continue
		}
		if res, ok := st.results[s.Name]; ok {
			if res.hasOutput {
				return res.output
			}
			return nil
		}
	}
	return nil
}

// parallelItems resolves the dynamic fan-out's `foreach` as Kibana's
// parallel step does: a YAML list as it is; a whole "{{ … }}" (or
// "${{ … }}") evaluated with its type; any other string rendered; a string
// result parsed as a JSON array. The step input records the expression.
func (c *call) parallelItems() ([]any, error) {
	raw := c.s.Foreach
	var expr string
	var v any
	switch x := raw.(type) {
	case []any:
		expr = string(jsonMarshal(x))
		v = x
	case string:
		expr = x
		t := strings.TrimSpace(x)
		var err error
		if strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}") {
			v, err = c.r.evaluate(c.ctx, t, c.context())
		} else {
			v, err = c.r.renderValue(c.ctx, c.s, x, c.context())
		}
		if err != nil {
			return nil, err
		}
		if str, ok := v.(string); ok {
			var parsed any
			if jsonUnmarshal([]byte(str), &parsed) == nil {
				v = parsed
			} else {
				v = nil
			}
		}
	default:
		if raw == nil {
			return nil, step.Errorf("Error", "Parallel step %s requires a \"foreach\" array or expression.", quoteJS(c.s.Name))
		}
		expr = string(jsonMarshal(raw))
		v = raw
	}
	c.input = map[string]any{"foreach": expr}
	items, ok := asList(v)
	if !ok {
		return nil, step.Errorf("Error", "Parallel step %s foreach expression must evaluate to an array, but %s did not. "+
			"Provide a literal array or an expression that resolves to one.", quoteJS(c.s.Name), quoteJS(expr))
	}
	if len(items) > MaxParallelFanOut {
		return nil, step.Errorf("Error", "Parallel step %s fan-out of %d exceeds the maximum of %d. Reduce the size of the \"foreach\" list.",
			quoteJS(c.s.Name), len(items), MaxParallelFanOut)
	}
	return items, nil
}

// parallelConcurrency reads `concurrency` (an integer or {max,
// count-waiting}), clamped to [1, MaxParallelConcurrency].
func parallelConcurrency(v any) *slots {
	sl := &slots{max: DefaultParallelConcurrency, countWaiting: true}
	if m, ok := v.(map[string]any); ok {
		if n, ok := toInt(m["max"]); ok {
			sl.max = n
		}
		if b, ok := m["count-waiting"].(bool); ok {
			sl.countWaiting = b
		}
	} else if n, ok := toInt(v); ok {
		sl.max = n
	}
	sl.max = min(max(sl.max, 1), MaxParallelConcurrency)
	return sl
}

// toInt reads a JSON-like number as an int.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), true
	case int:
		return n, true
	case int64:
		return int(n), true
	case json.Number:
		f, err := n.Float64()
		return int(f), err == nil
	}
	return 0, false
}

// parallelOutput builds the aggregate output of §6.1.6 and returns it with
// the number of failed (or timed-out) branches. Times are epoch
// milliseconds.
func parallelOutput(branches []*parBranch, static bool) (map[string]any, int) {
	results := make([]any, 0, len(branches))
	named := map[string]any{}
	succeeded, failed := 0, 0
	for _, b := range branches {
		res := map[string]any{"index": b.index, "status": b.status}
		if b.key != nil {
			res["key"] = b.key
		}
		if b.started {
			res["startedAt"] = float64(b.startedAt.UnixMilli())
		}
		res["finishedAt"] = float64(b.finishedAt.UnixMilli())
		if b.started {
			res["durationMs"] = float64(b.finishedAt.Sub(b.startedAt).Milliseconds())
		}
		if b.output != nil {
			res["output"] = b.output
		}
		if b.err != nil {
			res["error"] = errorValue(b.err)
		}
		switch b.status {
		case branchCompleted:
			succeeded++
		case branchFailed, branchTimedOut:
			failed++
		}
		results = append(results, res)
		if name, ok := b.key.(string); ok && static {
			nb := map[string]any{"status": b.status}
			if b.output != nil {
				nb["output"] = b.output
			}
			if b.err != nil {
				nb["error"] = errorValue(b.err)
			}
			named[name] = nb
		}
	}
	status := branchCompleted
	if failed > 0 {
		status = branchFailed
	}
	out := map[string]any{
		"results":   results,
		"total":     len(branches),
		"succeeded": succeeded,
		"failed":    failed,
		"status":    status,
	}
	if static {
		out["branches"] = named
	}
	return out, failed
}

// failFastError is Kibana's error of a fail-fast parallel step: it names
// the first failed branch by its key when that is a string, else by index.
func failFastError(name string, branches []*parBranch, failed int) *step.Error {
	var first *parBranch
	for _, b := range branches {
		if b.status == branchFailed || b.status == branchTimedOut {
			first = b
			break
		}
	}
	label, reason := "?", "."
	if first != nil {
		label = strconv.Itoa(first.index)
		if k, ok := first.key.(string); ok {
			label = `"` + k + `"`
		}
		if first.err != nil && first.err.Message != "" {
			reason = ": " + first.err.Message
		}
	}
	return step.Errorf("Error", "Parallel step %s failed (fail-fast): %d of %d branch(es) failed; first failure in branch %s%s",
		quoteJS(name), failed, len(branches), label, reason)
}

// quoteJS quotes s as a JavaScript template literal `"${s}"` does (no
// escaping).
func quoteJS(s string) string { return `"` + s + `"` }
