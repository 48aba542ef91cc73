package interpreter

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/step"
)

// call is one execution of one step, handed to its executor.
type call struct {
	r   *run
	ctx workflow.Context
	sc  *scope
	s   *Step
	// name is the name the result is stored under (s.Name, or a synthetic
	// foreach_<name>).
	name string
	path string
	at   attempt

	// input and state are recorded as steps.<name>.input and merged into
	// steps.<name> (loop state).
	input any
	state map[string]any
}

// context returns the template context of the step.
func (c *call) context() map[string]any {
	return c.r.templateContext(c.sc, viewer{at: c.s})
}

// render renders v (§4.2) against the step's context.
func (c *call) render(v any) (any, error) {
	return c.r.renderValue(c.ctx, c.s, v, c.context())
}

// renderWith renders the step's `with`, which must be an object (or absent).
func (c *call) renderWith() (map[string]any, error) {
	return c.renderWithIn(c.context())
}

// renderWithIn is renderWith against ctx, the step's context already
// built by a step that renders more than its `with`.
func (c *call) renderWithIn(ctx map[string]any) (map[string]any, error) {
	if c.s.With == nil {
		return map[string]any{}, nil
	}
	v, err := c.r.renderValue(c.ctx, c.s, c.s.With, ctx)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &step.Error{Type: "Error", Message: "Input must be an object with key-value pairs"}
	}
	return m, nil
}

// setState replaces the step's state and publishes it at once, so steps
// nested in a loop see steps.<loop>.item/index while it runs.
func (c *call) setState(st map[string]any) {
	c.state = st
	prev := c.sc.store.get(c.name)
	res := &result{input: c.input, state: st}
	if prev != nil && prev.err == nil {
		res.output, res.hasOutput = prev.output, prev.hasOutput
	}
	c.sc.store.put(c.name, res)
}

// inner returns the scope for the steps nested in this step (path
// <step path>/<suffix>).
func (c *call) inner(suffix string) *scope {
	p := c.path
	if suffix != "" {
		p = p + "/" + suffix
	}
	isc := c.sc.child(p)
	isc.noCut = true // see innerScope (continue.go)
	return isc
}

// classify converts whatever an executor returned into one of the walker's
// error kinds (see walker_errors.go).
func (c *call) classify(err error) error {
	if err == nil {
		return nil
	}
	switch err.(type) {
	case *failure, *abort, *loopSignal, *terminate, *continueAsNew:
		return err
	}
	if temporal.IsCanceledError(err) || errors.Is(err, workflow.ErrCanceled) || c.ctx.Err() != nil {
		return c.r.abortFor(c.sc)
	}
	return &failure{E: fromActivityError(err, c.s.Timeout)}
}

// abortFor returns the abort of the innermost zone of sc that fired, or of
// the run (timeout or cancellation).
func (r *run) abortFor(sc *scope) error {
	for z := sc.zone; z != nil; z = z.parent {
		if z.fired {
			return &abort{zone: z, E: z.err}
		}
	}
	if r.wfZone != nil && r.wfZone.fired {
		return &abort{zone: r.wfZone, E: r.wfZone.err}
	}
	return &abort{E: cancelledError()}
}
