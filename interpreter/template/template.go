// Package template implements the Elastic Workflows templating language:
// Liquid configured to behave like LiquidJS as Kibana configures it
// (strict filters, lax variables, own-property-only access, a tag allow-list
// and parse/render/memory limits), plus the type-preserving "${{ }}" expressions.
package template

import (
	"errors"
	"strings"
	"time"
)

// Options configures an Engine.
type Options struct {
	ParseLimit  int           // max template length in chars; default 150000
	MemoryLimit int           // approx. allocation/op budget; default 15000000
	RenderLimit time.Duration // default 1s; enforced by counting work, not with a timer
	Now         func() time.Time
}

// Engine renders templates. It is safe for sequential use.
type Engine struct {
	opts Options
}

// New returns an Engine configured with opts (zero fields take defaults).
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
	return &Engine{opts: opts}
}

var errNotImplemented = errors.New("template: not implemented yet")

// Render is the recursive renderer of §4.2.
func (e *Engine) Render(value any, ctx map[string]any) (any, error) {
	return value, nil
}

// RenderString renders one template string as Liquid, always returning a string.
func (e *Engine) RenderString(tpl string, ctx map[string]any) (string, error) {
	return tpl, nil
}

// Evaluate evaluates a type-preserving expression.
func (e *Engine) Evaluate(expr string, ctx map[string]any) (any, error) {
	return nil, errNotImplemented
}

// Check statically parses every template in s without rendering.
func (e *Engine) Check(s string) error { return nil }

// IsExpression reports whether s is a whole-string ${{ ... }} expression.
func IsExpression(s string) bool {
	return strings.HasPrefix(s, "${{") && strings.HasSuffix(s, "}}")
}

// ContainsTemplate reports whether s contains "{{" or "{%".
func ContainsTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// Stringify renders a value the way LiquidJS prints it in {{ }}.
func Stringify(v any) string { return "" }
