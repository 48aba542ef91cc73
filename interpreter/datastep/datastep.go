// Package datastep implements the pure data.* steps of Elastic Workflows
// (everything except data.set, which the workflow does itself).
package datastep

import "fmt"

// Renderer renders templates recursively; *template.Engine satisfies it.
type Renderer interface {
	Render(value any, ctx map[string]any) (any, error)
}

// CondFunc evaluates a KQL condition against ctx.
type CondFunc func(condition string, ctx map[string]any) (bool, error)

// Call is one data step invocation. With and Config are raw (unrendered).
type Call struct {
	Type   string
	With   any
	Config map[string]any
	Ctx    map[string]any
	R      Renderer
	Cond   CondFunc
}

// Run executes one data step.
func Run(c Call) (any, error) {
	return nil, fmt.Errorf("datastep: unknown step type %q", c.Type)
}

// Types returns the data.* step types Run handles.
func Types() []string { return nil }
