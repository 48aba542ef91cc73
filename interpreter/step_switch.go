package interpreter

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// step_switch.go: `type: switch` (§6.1.4). The expression is rendered once;
// the first case whose rendered match has the same JavaScript String() as
// the expression wins, else `default`, else nothing runs. State:
// {matchedValue, matchedIndex} (-1 for default or none).

func init() { define("switch", true, runSwitch) }

func runSwitch(c *call) (any, error) {
	ctx := c.context()
	expr, err := c.r.renderValue(c.ctx, c.s.Expression, ctx)
	if err != nil {
		return nil, err
	}
	c.input = map[string]any{"rawExpression": c.s.Expression, "expression": expr}
	key := jsString(expr)
	idx := -1
	var branch []*Step
	var matched any
	for i, cs := range c.s.Cases {
		m, err := c.r.renderValue(c.ctx, cs.Match, ctx)
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

// jsString is JavaScript's String(v) for JSON-like values.
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return "undefined"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return jsNumber(x)
	case float32:
		return jsNumber(float64(x))
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return jsNumber(f)
		}
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if e != nil {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	default:
		return "[object Object]"
	}
}

// jsNumber formats f like JavaScript's Number.prototype.toString.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go: 1e+21, 1.5e-07; JS: 1e+21, 1.5e-7.
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		digits := strings.TrimLeft(exp[1:], "0")
		return mant + "e" + string(sign) + digits
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
