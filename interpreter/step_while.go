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
	for it := 0; ; it++ {
		st := map[string]any{"iteration": it}
		c.setState(st)
		isc := c.inner(fmt.Sprintf("while[%d]", it))
		isc.while = st
		err := c.iteration(isc, func(ctx workflow.Context, sc *scope) error {
			return c.r.runSteps(ctx, sc, c.s.Steps)
		})
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
