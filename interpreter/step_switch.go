package interpreter

import (
	"fmt"

	"github.com/secflow/secflow/interpreter/jsvalue"
	"github.com/secflow/secflow/interpreter/step"
)

// step_switch.go: `type: switch` (§6.1.4). The expression is rendered once;
// the first case whose rendered match has the same JavaScript String() as
// the expression wins, else `default`, else nothing runs. State:
// {matchedValue, matchedIndex} (-1 for default or none). Continued as new
// inside the case (continue.go), the switch takes the recorded case again
// without rendering anything, its input and state as they were.

func init() { define("switch", true, runSwitch) }

func runSwitch(c *call) (any, error) {
	if lr := c.r.takeResume(c.s); lr != nil {
		return nil, c.resumeSwitch(lr)
	}
	ctx := c.context()
	expr, err := c.r.renderValue(c.ctx, c.s, c.s.Expression, ctx)
	if err != nil {
		return nil, err
	}
	c.input = map[string]any{"rawExpression": c.s.Expression, "expression": expr}
	key := jsString(expr)
	idx := -1
	var branch []*Step
	var matched any
	for i, cs := range c.s.Cases {
		m, err := c.r.renderValue(c.ctx, c.s, cs.Match, ctx)
		if err != nil {
			return nil, err
		}
		if jsString(m) == key {
			idx, branch, matched = i, cs.Steps, m
			break
		}
	}
	if idx < 0 {
		branch = c.s.Default
	}
	c.setState(map[string]any{"matchedValue": matched, "matchedIndex": idx})
	return nil, c.runSwitchCase(idx, branch, nil)
}

// resumeSwitch goes on in the case lr.frame.Case recorded when the run
// continued as new inside it, with the switch's input and state of the
// earlier run.
func (c *call) resumeSwitch(lr *loopResume) error {
	idx := lr.frame.Case
	var branch []*Step
	switch {
	case idx == -1:
		branch = c.s.Default
	case idx >= 0 && idx < len(c.s.Cases):
		branch = c.s.Cases[idx].Steps
	default:
		return &failure{E: &step.Error{Type: "Error", Message: fmt.Sprintf("continue-as-new state points at case %d of %d", idx, len(c.s.Cases))}}
	}
	st := map[string]any{"matchedValue": nil, "matchedIndex": idx}
	if prev := c.sc.store.get(c.name); prev != nil {
		c.input = prev.input
		if prev.state != nil {
			st = prev.state
		}
	}
	c.setState(st)
	return c.runSwitchCase(idx, branch, lr)
}

// jsString is JavaScript's String(v) for JSON-like values, where nil is a
// missing value (undefined); see jsvalue.String.
func jsString(v any) string {
	if v == nil {
		return "undefined"
	}
	return jsvalue.String(v)
}
