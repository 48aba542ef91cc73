package interpreter

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/step"
)

// step_foreach.go: `type: foreach` and the step-level `foreach:` modifier
// (§6.1.2), with max-iterations, iteration-on-failure and iteration-timeout.

func init() { define("foreach", true, runForeach) }

func runForeach(c *call) (any, error) {
	if lr := c.r.takeResume(c.s); lr != nil {
		// Continued as new (continue.go): go on with the items resolved
		// in the first run at iteration lr.frame.Iteration, inside it at
		// the cursor lr.rest when set.
		prev := c.sc.store.get(c.name)
		var items []any
		if prev != nil {
			items, _ = asList(prev.state["items"])
		}
		rest := lr.rest
		return nil, c.forEachItemFrom(items, lr.frame.Iteration, func(ctx workflow.Context, isc *scope) error {
			in := rest
			rest = nil
			return c.r.runStepsFrom(ctx, isc, c.s.Steps, in)
		})
	}
	items, err := c.resolveItems()
	if err != nil {
		return nil, err
	}
	return nil, c.forEachItem(items, func(ctx workflow.Context, isc *scope) error {
		return c.r.runSteps(ctx, isc, c.s.Steps)
	})
}

// stepLevelForeach runs s once per item of its `foreach:`. The synthetic
// loop is recorded as foreach_<name> (type foreach) at s's path; iteration
// i runs s at <path>/foreach[i], with its timeout per iteration (§2.1).
// Continued as new between iterations (continue.go), it goes on with the
// items resolved in the first run and its step record.
func (r *run) stepLevelForeach(ctx workflow.Context, sc *scope, s *Step, path string, at attempt) error {
	name := "foreach_" + s.Name
	r.aliases[name] = s
	c := &call{r: r, ctx: ctx, sc: sc, s: s, name: name, path: path, at: at}
	body := func(ctx workflow.Context, isc *scope) error {
		return r.runTimed(ctx, isc, s, isc.path, attempt{policy: at.policy})
	}
	var rec *StepRecord
	var err error
	if lr := r.takeResume(s); lr != nil {
		if rec = r.runningRecord(path); rec == nil { // dropped from the bounded list
			rec = &StepRecord{Path: path, Type: "foreach", Status: StatusRunning, Attempts: at.n + 1, StartedAt: r.now()}
		}
		r.currentStep = path
		var items []any
		if prev := sc.store.get(name); prev != nil {
			items, _ = asList(prev.state["items"])
		}
		err = c.forEachItemFrom(items, lr.frame.Iteration, body)
	} else {
		rec = r.startRecord(path, "foreach", at.n)
		var items []any
		if items, err = c.resolveItems(); err == nil {
			err = c.forEachItem(items, body)
		}
	}
	err = c.classify(err)
	if _, ok := err.(*continueAsNew); ok {
		return err // the loop goes on in the next run: its record stays running
	}
	r.finish(sc, s, rec, c, nil, err)
	return err
}

// forEachItem runs body once per item with foreach = {items, item, index,
// total} in scope, honouring max-iterations and loop signals.
func (c *call) forEachItem(items []any, body func(workflow.Context, *scope) error) error {
	return c.forEachItemFrom(items, 0, body)
}

// forEachItemFrom is forEachItem starting at iteration from. Between two
// iterations of a splittable loop, the run may continue as new.
func (c *call) forEachItemFrom(items []any, from int, body func(workflow.Context, *scope) error) error {
	total := len(items)
	if from == 0 {
		c.setState(map[string]any{"items": items, "total": total})
	}
	// A top-level foreach is cut in the form recorded before
	// changeNestedContinue (split), other cuttable loops with the cursor.
	split := c.splittable()
	nested := !split && c.cuttable()
	limit, onLimit := iterationLimit(c.s.MaxIterations)
	for i := from; i < total; i++ {
		if split && i > from && c.ctx.Err() == nil && c.r.continueDue() {
			return &continueAsNew{frames: []ResumeFrame{{Iteration: i}}, legacy: true}
		}
		if nested && i > from && c.ctx.Err() == nil && c.nestedDue() {
			return &continueAsNew{frames: []ResumeFrame{{Iteration: i}}}
		}
		if limit > 0 && i >= limit {
			if onLimit == "continue" {
				break
			}
			return step.Errorf("Error", "Foreach step \"%s\" exceeded max-iterations limit of %d. Processed %d of %d items.", c.s.Name, limit, i, total)
		}
		st := map[string]any{"items": items, "item": items[i], "index": i, "total": total}
		c.setState(st)
		isc := c.innerScope(fmt.Sprintf("foreach[%d]", i))
		isc.foreach = st
		err := c.iteration(isc, body)
		if split || nested {
			c.r.progress++
		}
		if can, ok := err.(*continueAsNew); ok {
			can.push(ResumeFrame{Iteration: i})
			return can
		}
		if ls, ok := err.(*loopSignal); ok {
			if ls.brk {
				break
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// iteration runs one loop iteration under iteration-timeout and
// iteration-on-failure.
func (c *call) iteration(isc *scope, body func(workflow.Context, *scope) error) error {
	s := c.s
	timed := func(ctx workflow.Context, sc *scope) error {
		if s.IterationTimeout == "" {
			return body(ctx, sc)
		}
		d, err := parseDuration(s.IterationTimeout)
		if err != nil {
			return &failure{E: step.AsError(err)}
		}
		return c.r.inZone(ctx, sc, d, stepTimeoutError(s.IterationTimeout), body)
	}
	if p := s.IterationOnFailure; p != nil {
		return c.r.withPolicy(c.ctx, isc, s, isc.path, p, false, func(ctx workflow.Context, sc *scope, _ attempt) error {
			return timed(ctx, sc)
		})
	}
	return timed(c.ctx, isc)
}

// iterationLimit returns max-iterations (0: none) and its on-limit.
func iterationLimit(m *MaxIterations) (int, string) {
	if m == nil || m.Limit <= 0 {
		return 0, ""
	}
	return m.Limit, m.OnLimit
}

// barePath matches a legacy bare context path (steps.search.output.hits).
var barePath = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+|\[[0-9]+\])+$`)

// resolveItems resolves the `foreach:` value (§6.1.2): a YAML list is used
// as is (rendered); a whole "{{ … }}" string is evaluated with its type; any
// other string is rendered; a string result is parsed as JSON; the result
// must be an array. A legacy bare context path is accepted too.
func (c *call) resolveItems() ([]any, error) {
	raw := c.s.Foreach
	ctx := c.context()
	var v any
	var err error
	expr := ""
	switch x := raw.(type) {
	case string:
		expr = x
		t := strings.TrimSpace(x)
		if strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}") {
			v, err = c.r.evaluate(c.ctx, t, ctx)
		} else {
			v, err = c.r.renderValue(c.ctx, c.s, x, ctx)
		}
		if err != nil {
			return nil, err
		}
		if s, ok := v.(string); ok {
			var parsed any
			if jerr := jsonUnmarshal([]byte(s), &parsed); jerr != nil {
				if barePath.MatchString(strings.TrimSpace(s)) {
					if pv, perr := c.r.evaluate(c.ctx, strings.TrimSpace(s), ctx); perr == nil && pv != nil {
						parsed, jerr = pv, nil
					}
				}
				if jerr != nil {
					return nil, step.Errorf("Error", "Unable to parse rendered value: %s", s)
				}
			}
			v = parsed
		}
	default:
		b := jsonMarshal(raw)
		expr = string(b)
		if v, err = c.r.renderValue(c.ctx, c.s, raw, ctx); err != nil {
			return nil, err
		}
	}
	if items, ok := asList(v); ok {
		return items, nil
	}
	msg := fmt.Sprintf("Foreach expression must evaluate to an array. Expression \"%s\" resolved to %s", expr, jsTypeOf(v))
	if v != nil {
		b := jsonMarshal(v)
		if len(b) > 100 {
			b = b[:100]
		}
		msg += ": " + string(b)
	}
	return nil, step.Errorf("Error", "%s.", msg)
}

// asList returns v as []any when it is any kind of slice.
func asList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Slice {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}
