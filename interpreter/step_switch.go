package interpreter

import "github.com/secflow/secflow/interpreter/jsvalue"

// step_switch.go: `type: switch` (§6.1.4). The expression is rendered once;
// the first case whose rendered match has the same JavaScript String() as
// the expression wins, else `default`, else nothing runs. State:
// {matchedValue, matchedIndex} (-1 for default or none).

func init() { define("switch", true, runSwitch) }

func runSwitch(c *call) (any, error) {
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
	return nil, c.r.runSteps(c.ctx, c.inner(""), branch)
}

// jsString is JavaScript's String(v) for JSON-like values, where nil is a
// missing value (undefined); see jsvalue.String.
func jsString(v any) string {
	if v == nil {
		return "undefined"
	}
	return jsvalue.String(v)
}
