// Package datastep implements the pure data.* steps of Elastic Workflows
// (§6.3 of the semantics spec, Kibana's workflows_extensions data steps):
// data.map, data.parseJson, data.stringifyJson, data.filter, data.find,
// data.dedupe, data.concat, data.aggregate, data.regexExtract and
// data.regexReplace (plus the legacy ids data.regex_extract and
// data.regex_replace). data.set is not handled here: the workflow does it.
//
// Every function is deterministic and side-effect free, so it can run inside
// Temporal workflow code. Templates are rendered through a Renderer (the
// template engine); KQL conditions are evaluated through a CondFunc so this
// package does not depend on the KQL implementation.
//
// Errors are *step.Error values of type "Error" whose messages are Kibana's.
// Known differences from Kibana:
//   - Object keys have no insertion order in Go; outputs built from maps
//     (data.map fields, aggregate records) are plain maps.
//   - Regular expressions run on Go's RE2 engine: lookaround and
//     backreferences inside patterns are rejected as invalid patterns, and
//     syntax error messages are Go's, not V8's.
//   - data.aggregate: a missing group-by field groups under null (Kibana's
//     older handler; the newest one yields ""), and min/max consider numbers only.
package datastep

import (
	"sort"
	"strings"

	"github.com/secflow/secflow/interpreter/step"
)

// Renderer renders templates recursively; *template.Engine satisfies it.
type Renderer interface {
	Render(value any, ctx map[string]any) (any, error)
}

// CondFunc evaluates a KQL condition against ctx (for data.filter/data.find
// ctx is {"item": ..., "index": ...}, index a float64). It must return an
// error only when the condition itself is invalid (a KQL syntax error): the
// step then fails with "Invalid KQL condition: <error>". A value that merely
// does not match must yield false.
type CondFunc func(condition string, ctx map[string]any) (bool, error)

// Call is one data step invocation. With and Config are RAW (unrendered):
// data.map renders its fields once per item.
type Call struct {
	Type   string
	With   any
	Config map[string]any
	Ctx    map[string]any
	R      Renderer
	Cond   CondFunc
}

type handler func(c Call) (any, error)

var handlers = map[string]handler{
	"data.map":           runMap,
	"data.parseJson":     runParseJSON,
	"data.stringifyJson": runStringifyJSON,
	"data.filter":        runFilter,
	"data.find":          runFind,
	"data.dedupe":        runDedupe,
	"data.concat":        runConcat,
	"data.aggregate":     runAggregate,
	"data.regexExtract":  runRegexExtract,
	"data.regex_extract": runRegexExtract,
	"data.regexReplace":  runRegexReplace,
	"data.regex_replace": runRegexReplace,
}

// Run executes one data step and returns its output. Unknown types and step
// failures return a *step.Error carrying Kibana's error text.
func Run(c Call) (any, error) {
	h, ok := handlers[c.Type]
	if !ok {
		return nil, step.Errorf("Error", "unknown data step type %q", c.Type)
	}
	if c.R == nil {
		return nil, step.Errorf("Error", "%s: no template renderer configured", c.Type)
	}
	return h(c)
}

// Types returns the data.* step types Run handles, sorted.
func Types() []string {
	out := make([]string, 0, len(handlers))
	for t := range handlers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// fail returns a step error of type "Error" (what Kibana's handlers produce
// with `new Error(message)`).
func fail(format string, args ...any) error {
	return step.Errorf("Error", format, args...)
}

// asStepError converts a rendering error into a step error, keeping its text.
func asStepError(err error) error {
	if err == nil {
		return nil
	}
	if se, ok := err.(*step.Error); ok {
		return se
	}
	return &step.Error{Type: "Error", Message: err.Error()}
}

func (c Call) render(v any) (any, error) {
	out, err := c.R.Render(v, c.Ctx)
	if err != nil {
		return nil, asStepError(err)
	}
	return out, nil
}

// input renders the `with` block; a missing block is an empty object.
func (c Call) input() (map[string]any, error) {
	if c.With == nil {
		return map[string]any{}, nil
	}
	v, err := c.render(c.With)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fail("Input must be an object with key-value pairs")
	}
	return m, nil
}

// config renders one config key.
func (c Call) config(key string) (any, error) {
	v, ok := c.Config[key]
	if !ok || v == nil {
		return nil, nil
	}
	return c.render(v)
}

// rawWith returns the unrendered `with` block as a map.
func (c Call) rawWith() map[string]any {
	if m, ok := c.With.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// withVars returns ctx extended with extra variables (shallow copy).
func withVars(ctx map[string]any, extra map[string]any) map[string]any {
	out := make(map[string]any, len(ctx)+len(extra))
	for k, v := range ctx {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func asString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

func trimmedEmpty(s string) bool { return strings.TrimSpace(s) == "" }
