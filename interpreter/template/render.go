package template

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// Error is a template parse or render failure. Message is the user-facing
// text: LiquidJS's message without its ", line:N, col:M" suffix.
type Error struct {
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

func newError(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

const (
	msgMemoryLimit = "memory alloc limit exceeded"
	msgRenderLimit = "template render limit exceeded"
	msgParseLimit  = "parse length limit exceeded"
)

// OutputLimitError is the error of a render whose output exceeds
// Options.OutputLimit. Its message names the limit, never the content.
type OutputLimitError struct {
	Limit int // bytes
}

// Error implements error.
func (e *OutputLimitError) Error() string {
	return fmt.Sprintf("template output exceeds the limit of %d bytes", e.Limit)
}

// renderCtx is the state of one render or evaluation call (LiquidJS Context).
type renderCtx struct {
	e         *Engine
	env       map[string]any
	overlay   map[string]any   // values written by increment/decrement
	scopes    []map[string]any // scopes[0] receives assign/capture
	registers map[string]any
	broke     bool
	continued bool
	work      int64
	workLimit int64
	mem       int64
	memLimit  int64
	outLimit  int
	now       *time.Time
	depth     int
}

func (e *Engine) newCtx(env map[string]any) *renderCtx {
	return &renderCtx{
		e:         e,
		env:       env,
		scopes:    []map[string]any{{}},
		workLimit: e.workLimit,
		memLimit:  int64(e.opts.MemoryLimit),
		outLimit:  e.opts.OutputLimit,
	}
}

// useMem charges n allocation units (LiquidJS memoryLimit.use).
func (c *renderCtx) useMem(n int) error {
	if n <= 0 {
		return nil
	}
	if c.mem+int64(n) > c.memLimit {
		return &Error{Message: msgMemoryLimit}
	}
	c.mem += int64(n)
	return nil
}

// useWork charges n units of render work (our deterministic stand-in for
// LiquidJS's wall-clock renderLimit).
func (c *renderCtx) useWork(n int) error {
	c.work += int64(n)
	if c.work > c.workLimit {
		return &Error{Message: msgRenderLimit}
	}
	return nil
}

func (c *renderCtx) clock() time.Time {
	if c.now == nil {
		var t time.Time
		if c.e.opts.Now != nil {
			t = c.e.opts.Now()
		}
		c.now = &t
	}
	return *c.now
}

// lookup resolves a root variable name through the scope chain.
func (c *renderCtx) lookup(key any) any {
	k := propertyKey(toValue(key))
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if v, ok := c.scopes[i][k]; ok {
			return norm(v)
		}
	}
	if c.overlay != nil {
		if v, ok := c.overlay[k]; ok {
			return v
		}
	}
	if v, ok := c.env[k]; ok {
		return norm(v)
	}
	if k == "now" {
		return c.clock()
	}
	return undef
}

func (c *renderCtx) push(scope map[string]any) { c.scopes = append(c.scopes, scope) }
func (c *renderCtx) pop()                      { c.scopes = c.scopes[:len(c.scopes)-1] }

// ---------------------------------------------------------------------------
// Expression evaluation.

func (c *renderCtx) evalOperand(v *valueExpr) (any, error) {
	if v == nil {
		return undef, nil
	}
	switch v.kind {
	case exLiteral:
		return v.lit, nil
	case exRange:
		start, stop, err := c.rangeBounds(v)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, int(math.Max(0, math.Ceil(stop-start))))
		for i := start; i < stop; i++ {
			out = append(out, i)
		}
		return out, nil
	case exPath:
		var cur any
		props := v.props
		if v.base != nil {
			b, err := c.evalOperand(v.base)
			if err != nil {
				return nil, err
			}
			cur = b
		} else {
			k, err := c.evalOperand(props[0])
			if err != nil {
				return nil, err
			}
			cur = c.lookup(k)
			props = props[1:]
		}
		for _, p := range props {
			k, err := c.evalOperand(p)
			if err != nil {
				return nil, err
			}
			cur = readProperty(cur, k)
		}
		return cur, nil
	}
	return undef, nil
}

// rangeBounds evaluates a range (lo..hi) to [start, stop) and charges its
// size to the memory budget, like LiquidJS does before allocating it.
func (c *renderCtx) rangeBounds(v *valueExpr) (float64, float64, error) {
	lo, err := c.evalOperand(v.lo)
	if err != nil {
		return 0, 0, err
	}
	hi, err := c.evalOperand(v.hi)
	if err != nil {
		return 0, 0, err
	}
	start := jsToNumber(lo)
	stop := jsToNumber(hi) + 1
	if math.IsNaN(start) || math.IsNaN(stop) || stop <= start {
		return 0, 0, nil
	}
	count := math.Ceil(stop - start)
	if count > float64(c.memLimit-c.mem) {
		return 0, 0, &Error{Message: msgMemoryLimit}
	}
	if err := c.useMem(int(count)); err != nil {
		return 0, 0, err
	}
	return start, stop, nil
}

func (c *renderCtx) evalExpression(x expression) (any, error) {
	var stack []any
	pop := func() any {
		if len(stack) == 0 {
			return undef
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return v
	}
	for _, t := range x.postfix {
		if t.op == "" {
			v, err := c.evalOperand(t.val)
			if err != nil {
				return nil, err
			}
			stack = append(stack, v)
			continue
		}
		if t.op == "not" {
			stack = append(stack, isFalsy(pop()))
			continue
		}
		r := pop()
		l := pop()
		stack = append(stack, applyOperator(t.op, l, r))
	}
	if len(stack) == 0 {
		return undef, nil
	}
	return stack[0], nil
}

func applyOperator(op string, l, r any) any {
	switch op {
	case "==":
		return equals(l, r)
	case "!=":
		return !equals(l, r)
	case ">", "<", ">=", "<=":
		if isComparableDrop(l) || isComparableDrop(r) {
			return false
		}
		switch op {
		case ">":
			return jsGreater(l, r)
		case "<":
			return jsLess(l, r)
		case ">=":
			return jsGreaterEq(l, r)
		default:
			return jsLessEq(l, r)
		}
	case "contains":
		l = norm(toValue(l))
		switch x := l.(type) {
		case []any:
			for _, e := range x {
				if equals(e, r) {
					return true
				}
			}
			return false
		case string:
			return strings.Contains(x, jsString(toValue(r)))
		}
		return false
	case "and":
		return isTruthy(l) && isTruthy(r)
	case "or":
		return isTruthy(l) || isTruthy(r)
	}
	return false
}

// evalValue evaluates a filtered value.
func (c *renderCtx) evalValue(fv *filteredValue) (any, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 100 {
		return nil, newError("expression nesting too deep")
	}
	v, err := c.evalExpression(fv.initial)
	if err != nil {
		return nil, err
	}
	for i := range fv.filters {
		f := &fv.filters[i]
		if err := c.useWork(1); err != nil {
			return nil, err
		}
		fc := &fctx{c: c}
		args := make([]any, 0, len(f.args))
		for _, a := range f.args {
			av, err := c.evalOperand(a.val)
			if err != nil {
				return nil, err
			}
			if a.keyword {
				if fc.kw == nil {
					fc.kw = map[string]any{}
				}
				fc.kw[a.key] = av
				continue
			}
			args = append(args, av)
		}
		v, err = f.fn(fc, toValue(v), args)
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

// ---------------------------------------------------------------------------
// Node rendering.

func (c *renderCtx) renderNodes(nodes []node, b *strings.Builder) error {
	for _, n := range nodes {
		if err := c.useWork(1); err != nil {
			return err
		}
		if err := n.render(c, b); err != nil {
			return err
		}
		if c.outLimit > 0 && b.Len() > c.outLimit {
			return &OutputLimitError{Limit: c.outLimit}
		}
		if c.broke || c.continued {
			break
		}
	}
	return nil
}

func (n *textNode) render(c *renderCtx, b *strings.Builder) error {
	b.WriteString(n.s)
	return nil
}

func (n *outputNode) render(c *renderCtx, b *strings.Builder) error {
	v, err := c.evalValue(n.v)
	if err != nil {
		return err
	}
	b.WriteString(Stringify(v))
	return nil
}

func (n *echoNode) render(c *renderCtx, b *strings.Builder) error {
	if n.v == nil {
		return nil
	}
	v, err := c.evalValue(n.v)
	if err != nil {
		return err
	}
	b.WriteString(Stringify(v))
	return nil
}

func (n *assignNode) render(c *renderCtx, b *strings.Builder) error {
	v, err := c.evalValue(n.v)
	if err != nil {
		return err
	}
	c.scopes[0][n.name] = v
	return nil
}

func (n *captureNode) render(c *renderCtx, b *strings.Builder) error {
	var inner strings.Builder
	if err := c.renderNodes(n.body, &inner); err != nil {
		return err
	}
	c.scopes[0][n.name] = inner.String()
	return nil
}

func (n *seqNode) render(c *renderCtx, b *strings.Builder) error {
	return c.renderNodes(n.body, b)
}

func (n *ifNode) render(c *renderCtx, b *strings.Builder) error {
	for _, br := range n.branches {
		v, err := c.evalValue(br.cond)
		if err != nil {
			return err
		}
		ok := isTruthy(v)
		if br.negate {
			ok = !ok
		}
		if ok {
			return c.renderNodes(br.body, b)
		}
	}
	return c.renderNodes(n.elseBody, b)
}

func (n *caseNode) render(c *renderCtx, b *strings.Builder) error {
	target, err := c.evalValue(n.v)
	if err != nil {
		return err
	}
	target = toValue(target)
	hit := false
	for _, br := range n.branches {
		for _, ve := range br.values {
			v, err := c.evalOperand(ve)
			if err != nil {
				return err
			}
			if equals(target, v) {
				if err := c.renderNodes(br.body, b); err != nil {
					return err
				}
				hit = true
				break
			}
		}
	}
	if !hit {
		return c.renderNodes(n.elseBody, b)
	}
	return nil
}

func (n *breakNode) render(c *renderCtx, b *strings.Builder) error {
	if n.cont {
		c.continued = true
	} else {
		c.broke = true
	}
	return nil
}

func (n *counterNode) render(c *renderCtx, b *strings.Builder) error {
	if c.overlay == nil {
		c.overlay = map[string]any{}
	}
	cur, ok := c.overlay[n.name]
	if !ok {
		cur = norm(c.env[n.name])
	}
	f, isNum := jsvalue.Number(cur)
	if !isNum {
		f = 0
	}
	if n.inc {
		c.overlay[n.name] = f + 1
		b.WriteString(FormatNumber(f))
	} else {
		c.overlay[n.name] = f - 1
		b.WriteString(FormatNumber(f - 1))
	}
	return nil
}

func (n *cycleNode) render(c *renderCtx, b *strings.Builder) error {
	var group any = undef
	if n.group != nil {
		g, err := c.evalOperand(n.group)
		if err != nil {
			return err
		}
		group = g
	}
	if c.registers == nil {
		c.registers = map[string]any{}
	}
	key := "cycle:" + jsString(group) + ":" + n.key
	idx, _ := c.registers[key].(int)
	cand := n.candidates[idx%len(n.candidates)]
	c.registers[key] = (idx + 1) % len(n.candidates)
	v, err := c.evalOperand(cand)
	if err != nil {
		return err
	}
	b.WriteString(Stringify(v))
	return nil
}

func (n *forNode) render(c *renderCtx, b *strings.Builder) error {
	if c.registers == nil {
		c.registers = map[string]any{}
	}
	cont, ok := c.registers[n.continueK]
	if !ok {
		cont = float64(0)
	}
	hash := map[string]any{}
	c.push(map[string]any{"continue": cont})
	for k, ve := range n.hash {
		v, err := c.evalOperand(ve)
		if err != nil {
			c.pop()
			return err
		}
		hash[k] = v
	}
	c.pop()

	if n.coll.kind == exRange && len(hash) == 0 {
		return n.renderRange(c, b)
	}
	collV, err := c.evalOperand(n.coll)
	if err != nil {
		return err
	}
	coll := toEnumerable(collV)
	if v, ok := hash["offset"]; ok && v != undef {
		coll = jsSliceArr(coll, toInteger(v), len(coll))
	}
	if v, ok := hash["limit"]; ok && v != undef {
		coll = jsSliceArr(coll, 0, toInteger(v))
	}
	if v, ok := hash["reversed"]; ok && v != undef {
		rev := make([]any, len(coll))
		for i, e := range coll {
			rev[len(coll)-1-i] = e
		}
		coll = rev
	}
	off := 0.0
	if v, ok := hash["offset"]; ok {
		off = toNumber(v)
	}
	c.registers[n.continueK] = off + float64(len(coll))
	return n.iterate(c, b, len(coll), func(i int) any { return coll[i] })
}

// iterate renders the body once for each of count items (item(i) is the
// i-th), or the else body when there are none.
func (n *forNode) iterate(c *renderCtx, b *strings.Builder, count int, item func(int) any) error {
	if count == 0 {
		return c.renderNodes(n.elseBody, b)
	}
	if len(n.body) == 0 {
		return c.useWork(count)
	}
	drop := &forloopDrop{length: count, name: n.variable + "-" + n.collText}
	scope := map[string]any{"forloop": drop}
	c.push(scope)
	defer c.pop()
	for i := 0; i < count; i++ {
		if err := c.useWork(1); err != nil {
			return err
		}
		drop.i = i
		scope[n.variable] = item(i)
		c.broke, c.continued = false, false
		if err := c.renderNodes(n.body, b); err != nil {
			return err
		}
		if c.broke {
			break
		}
	}
	c.broke, c.continued = false, false
	return nil
}

// renderRange iterates a literal range without materialising it.
func (n *forNode) renderRange(c *renderCtx, b *strings.Builder) error {
	start, stop, err := c.rangeBounds(n.coll)
	if err != nil {
		return err
	}
	count := 0
	if stop > start {
		count = int(math.Ceil(stop - start))
	}
	c.registers[n.continueK] = float64(count)
	return n.iterate(c, b, count, func(i int) any { return start + float64(i) })
}

// jsSliceArr is Array.prototype.slice(start, end) with JS index semantics.
func jsSliceArr(arr []any, start, end int) []any {
	n := len(arr)
	if start < 0 {
		start = max(n+start, 0)
	}
	if end < 0 {
		end = max(n+end, 0)
	}
	start, end = min(start, n), min(end, n)
	if start >= end {
		return []any{}
	}
	return arr[start:end]
}
