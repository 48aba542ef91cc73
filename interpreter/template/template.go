package template

import (
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// Options configures an Engine. Zero values take the defaults.
type Options struct {
	ParseLimit  int           // max template length in chars (UTF-16 units); default 150000
	MemoryLimit int           // approx. allocation/op budget per render; default 15000000
	RenderLimit time.Duration // default 1s; enforced by counting work (WorkPerMillisecond units per ms), not with a timer
	// OutputLimit, when > 0, is the most bytes one Liquid render may
	// produce (the rendered string of one template, and of each capture in
	// it): the render stops as soon as it is exceeded and returns an
	// *OutputLimitError. Strings without "{{" or "{%" and whole-string
	// ${{ }} expressions are not rendered as text and are not limited.
	// Default 0: no limit.
	OutputLimit int
	Now         func() time.Time
}

// WorkPerMillisecond is how many units of render work (rendered nodes, loop
// iterations, filter calls, elements sorted or tested) one millisecond of
// Options.RenderLimit buys. Counting work instead of measuring time keeps
// rendering deterministic, which workflow code requires.
const WorkPerMillisecond = 5000

// Engine renders Elastic Workflows templates. It is safe for concurrent use.
type Engine struct {
	opts      Options
	workLimit int64
	filters   map[string]filterFunc

	mu    sync.Mutex
	cache map[string][]node
}

const maxCachedTemplates = 512

// New returns an Engine configured with opts.
func New(opts Options) *Engine {
	if opts.ParseLimit <= 0 {
		opts.ParseLimit = 150000
	}
	if opts.MemoryLimit <= 0 {
		opts.MemoryLimit = 15000000
	}
	if opts.RenderLimit <= 0 {
		opts.RenderLimit = time.Second
	}
	e := &Engine{
		opts:      opts,
		workLimit: opts.RenderLimit.Milliseconds() * WorkPerMillisecond,
		filters:   builtinFilters(),
		cache:     map[string][]node{},
	}
	if e.workLimit <= 0 {
		e.workLimit = WorkPerMillisecond
	}
	return e
}

// IsExpression reports whether s is a whole-string ${{ ... }} expression
// (starts with "${{" and ends with "}}", no trimming).
func IsExpression(s string) bool {
	return strings.HasPrefix(s, "${{") && strings.HasSuffix(s, "}}")
}

// ContainsTemplate reports whether s contains "{{" or "{%".
func ContainsTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

const msgUnsupportedTags = "Template contains unsupported tags."

// hasUnsupportedTag implements Kibana's pre-check regex
// /\{%-?\s*(include|render|layout)\s/i.
func hasUnsupportedTag(s string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], "{%")
		if j < 0 {
			return false
		}
		sc := scanner{s: s, p: i + j + 2}
		if sc.peek(0) == '-' {
			sc.p++
		}
		sc.skipBlank()
		rest := s[sc.p:]
		for _, w := range []string{"include", "render", "layout"} {
			if len(rest) > len(w) && strings.EqualFold(rest[:len(w)], w) {
				r, n := sc.runeAt(sc.p + len(w))
				if n > 0 && isBlankRune(r) {
					return true
				}
			}
		}
		i += j + 2
	}
}

// Render is the recursive renderer of §4.2: nil is returned untouched; a
// whole-string "${{ ... }}" is evaluated keeping its type; other strings are
// rendered as Liquid into a string; slices and maps are rendered element by
// element (map keys are never templated); other values are returned as is.
func (e *Engine) Render(value any, ctx map[string]any) (any, error) {
	switch v := value.(type) {
	case nil:
		return nil, nil
	case string:
		if IsExpression(v) {
			return e.evaluateTemplate(v[1:], ctx)
		}
		return e.RenderString(v, ctx)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			r, err := e.Render(item, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range sortedKeys(v) {
			r, err := e.Render(v[k], ctx)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case bool, float64, int, int64:
		return v, nil
	}
	rv := reflect.ValueOf(value)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		if n := norm(value); n != nil {
			if _, ok := n.([]any); ok {
				return e.Render(n, ctx)
			}
			if _, ok := n.(map[string]any); ok {
				return e.Render(n, ctx)
			}
		}
	}
	return value, nil
}

// RenderString renders one template string as Liquid and always returns a
// string (values are stringified with the §4.3 rules).
func (e *Engine) RenderString(tpl string, ctx map[string]any) (string, error) {
	if hasUnsupportedTag(tpl) {
		return "", &Error{Message: msgUnsupportedTags}
	}
	nodes, err := e.parse(tpl)
	if err != nil {
		return "", err
	}
	if len(nodes) == 1 {
		if t, ok := nodes[0].(*textNode); ok {
			if l := e.opts.OutputLimit; l > 0 && len(t.s) > l && ContainsTemplate(tpl) {
				return "", &OutputLimitError{Limit: l}
			}
			return t.s, nil
		}
	}
	c := e.newCtx(ctx)
	var b strings.Builder
	if err := c.renderNodes(nodes, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// parse parses (or fetches from the cache) a template.
func (e *Engine) parse(tpl string) ([]node, error) {
	if jsvalue.UTF16Len(tpl) > e.opts.ParseLimit {
		return nil, &Error{Message: msgParseLimit}
	}
	if !ContainsTemplate(tpl) {
		if tpl == "" {
			return nil, nil
		}
		return []node{&textNode{s: tpl}}, nil
	}
	e.mu.Lock()
	nodes, ok := e.cache[tpl]
	e.mu.Unlock()
	if ok {
		return nodes, nil
	}
	nodes, err := e.parseTemplate(tpl)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(e.cache) >= maxCachedTemplates {
		clear(e.cache)
	}
	e.cache[tpl] = nodes
	e.mu.Unlock()
	return nodes, nil
}

func invalidExpression(tpl string) error {
	return &Error{Message: "The provided expression is invalid. Got: " + tpl + "."}
}

// Evaluate evaluates a type-preserving expression (§4.4). It accepts
// "${{ expr }}", "{{ expr }}" or a bare "expr". Missing values yield nil.
// Errors read "The provided expression is invalid. Got: <template-without-$>."
// (or "Template contains unsupported tags."). The result may share
// structure with ctx.
func (e *Engine) Evaluate(expr string, ctx map[string]any) (any, error) {
	if strings.HasPrefix(expr, "${{") {
		return e.evaluateTemplate(expr[1:], ctx)
	}
	if strings.Contains(expr, "{{") {
		return e.evaluateTemplate(expr, ctx)
	}
	if hasUnsupportedTag(expr) {
		return nil, &Error{Message: msgUnsupportedTags}
	}
	v, err := e.evalBare(expr, ctx)
	if err != nil {
		return nil, invalidExpression(expr)
	}
	return v, nil
}

// expressionSource extracts the expression between the first "{{" and the
// last "}}" exactly like Kibana (including JS substring's argument swap).
func expressionSource(tpl string) (string, bool) {
	t := strings.TrimFunc(tpl, jsvalue.IsSpace)
	open := strings.Index(t, "{{")
	closeIdx := strings.LastIndex(t, "}}")
	if open < 0 || closeIdx < 0 {
		return "", false
	}
	a, b := open+2, closeIdx
	if a > b {
		a, b = b, a
	}
	return strings.TrimFunc(t[a:b], jsvalue.IsSpace), true
}

func (e *Engine) evaluateTemplate(tpl string, ctx map[string]any) (any, error) {
	if hasUnsupportedTag(tpl) {
		return nil, &Error{Message: msgUnsupportedTags}
	}
	src, ok := expressionSource(tpl)
	if !ok {
		return nil, invalidExpression(tpl)
	}
	v, err := e.evalBare(src, ctx)
	if err != nil {
		return nil, invalidExpression(tpl)
	}
	return v, nil
}

// evalBare evaluates a Liquid value expression (LiquidJS evalValueSync).
func (e *Engine) evalBare(src string, ctx map[string]any) (any, error) {
	sc := scanner{s: src}
	fv, err := sc.readFilteredValue(e)
	if err != nil {
		return nil, err
	}
	c := e.newCtx(ctx)
	v, err := c.evalValue(fv)
	if err != nil {
		return nil, err
	}
	return exportValue(v), nil
}

// Check statically parses every template in s (unknown filters, unsupported
// tags, malformed ${{ }} expressions, syntax errors) without rendering.
func (e *Engine) Check(s string) error {
	if IsExpression(s) {
		tpl := s[1:]
		if hasUnsupportedTag(tpl) {
			return &Error{Message: msgUnsupportedTags}
		}
		src, ok := expressionSource(tpl)
		if !ok {
			return invalidExpression(tpl)
		}
		sc := scanner{s: src}
		if _, err := sc.readFilteredValue(e); err != nil {
			return &Error{Message: invalidExpression(tpl).Error() + " (" + err.Error() + ")"}
		}
		return nil
	}
	if hasUnsupportedTag(s) {
		return &Error{Message: msgUnsupportedTags}
	}
	_, err := e.parse(s)
	return err
}
