package interpreter

import (
	"strings"

	"github.com/secflow/secflow/interpreter/step"
)

// step_workflow_output.go: workflow.output and workflow.fail (§6.1.11).
// The rendered values become the run's output (validated against the
// declared outputs) and the run ends at once with the step's status;
// enclosing steps close with the same status.

func init() {
	define("workflow.output", true, runWorkflowOutput)
	define("workflow.fail", true, runWorkflowFail)
}

func runWorkflowOutput(c *call) (any, error) {
	with := map[string]any{}
	if m, ok := c.s.With.(map[string]any); ok {
		for _, k := range keysSorted(m) {
			with[k] = wholeTemplateAsExpression(m[k])
		}
	}
	v, err := c.render(with)
	if err != nil {
		return nil, err
	}
	values, _ := v.(map[string]any)
	if values == nil {
		values = map[string]any{}
	}
	c.input = values
	if c.r.def.Outputs != nil {
		if msg := validateOutputs(c.r.def.Outputs, values); msg != "" {
			return nil, &step.Error{Type: "Error", Message: msg}
		}
	}
	status := c.s.Status
	if status == "" {
		status = StatusCompleted
	}
	if c.r.output == nil {
		c.r.output = map[string]any{}
	}
	for _, k := range keysSorted(values) {
		c.r.output[k] = values[k]
	}
	t := &terminate{status: status}
	if status == StatusFailed {
		msg, _ := values["message"].(string)
		if msg == "" {
			msg = "Workflow terminated with failed status"
		}
		t.err = &step.Error{Type: "Error", Message: msg}
	}
	return values, t
}

func runWorkflowFail(c *call) (any, error) {
	with, err := c.renderWith()
	if err != nil {
		return nil, err
	}
	c.input = with
	msg, _ := with["message"].(string)
	if msg == "" {
		msg = "Workflow terminated with failed status"
	}
	e := &step.Error{Type: "Error", Message: msg}
	if reason, ok := with["reason"].(string); ok && reason != "" {
		e.Details = map[string]any{"reason": reason}
	}
	return nil, &terminate{status: StatusFailed, err: e}
}

// wholeTemplateAsExpression rewrites a value that is exactly one "{{ … }}"
// (after trimming) into "${{ … }}", so it keeps its type.
func wholeTemplateAsExpression(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}") && strings.Count(t, "{{") == 1 {
		return "$" + t
	}
	return v
}
