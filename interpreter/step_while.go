package interpreter

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/step"
)

// step_while.go: `type: while` (§6.1.3), a do-while loop: the body runs,
// then the condition is evaluated with the body's steps visible.

// DefaultWhileLimit bounds a while loop without max-iterations (Kibana's
// declared DEFAULT_LOOP_MAX_ITERATIONS), failing when reached.
const DefaultWhileLimit = 2000

func init() { define("while", true, runWhile) }

func runWhile(c *call) (any, error) {
	limit, onLimit := iterationLimit(c.s.MaxIterations)
	explicit := limit > 0
	if !explicit {
		limit, onLimit = DefaultWhileLimit, "fail"
	}
	// Continued as new (continue.go): the loop goes on at iteration from,
	// inside it at the cursor rest when set.
	from := 0
	var rest []ResumeFrame
	if lr := c.r.takeResume(c.s); lr != nil {
		from, rest = lr.frame.Iteration, lr.rest
	}
	cut := c.cuttable()
	for it := from; ; it++ {
		if cut && it > from && c.ctx.Err() == nil && c.nestedDue() {
			return nil, &continueAsNew{frames: []ResumeFrame{{Iteration: it}}}
		}
		st := map[string]any{"iteration": it}
		c.setState(st)
		isc := c.innerScope(fmt.Sprintf("while[%d]", it))
		isc.while = st
		resumeIn := rest
		rest = nil
		err := c.iteration(isc, func(ctx workflow.Context, sc *scope) error {
			in := resumeIn
			resumeIn = nil
			return c.r.runStepsFrom(ctx, sc, c.s.Steps, in)
		})
		if cut {
			c.r.progress++
		}
		if can, ok := err.(*continueAsNew); ok {
			can.push(ResumeFrame{Iteration: it})
			return nil, can
		}
		if ls, ok := err.(*loopSignal); ok {
			if ls.brk {
				return nil, nil
			}
		} else if err != nil {
			return nil, err
		}
		next := it + 1
		maxReached := next >= limit
		if !maxReached || !explicit {
			csc := *c.sc
			csc.while = st
			ok, err := c.r.evalCondition(c.ctx, c.s.Condition, c.r.templateContext(&csc, viewer{at: c.s, self: true}), c.s.Name)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, nil
			}
			if !maxReached {
				continue
			}
		}
		if onLimit == "continue" {
			return nil, nil
		}
		return nil, step.Errorf("Error", "While step \"%s\" exceeded max-iterations limit of %d. Completed %d iterations.", c.s.Name, limit, next)
	}
}
