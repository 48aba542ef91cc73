package interpreter

import "github.com/secflow/secflow/interpreter/step"

// step_if.go: `type: if` (§6.1.1). The condition follows §5.1; true runs
// `steps`, false runs `else` if any. The step has no output.

func init() { define("if", true, runIf) }

func runIf(c *call) (any, error) {
	lr := c.r.takeResume(c.s) // continued as new inside a branch (continue.go)
	var ok bool
	if lr != nil {
		ok = !lr.frame.Else
	} else {
		var err error
		if ok, err = c.r.evalCondition(c.ctx, c.s.Condition, c.context(), c.s.Name); err != nil {
			return nil, step.AsError(err)
		}
	}
	c.input = map[string]any{"condition": c.s.Condition}
	branch := c.s.Steps
	if !ok {
		branch = c.s.Else
	}
	return nil, c.runIfBranch(branch, !ok, lr)
}
