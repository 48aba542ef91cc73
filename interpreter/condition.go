package interpreter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/jsvalue"
	"github.com/secflow/secflow/interpreter/kql"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/interpreter/template"
)

// evalCondition implements the condition algorithm of §5.1 for the step
// with id stepID: the condition is rendered first (so "${{ … }}" can yield
// a real boolean), then booleans are taken as they are, undefined is false,
// "true"/"false" short-circuit and any other string is KQL evaluated
// against the full context. Errors carry Kibana's texts. A condition that
// reads a value kept in the blob store is evaluated by the fetch local
// activity (blob.go).
func (r *run) evalCondition(wctx workflow.Context, cond any, ctx map[string]any, stepID string) (bool, error) {
	if b, ok := cond.(bool); ok {
		return b, nil
	}
	if slots := r.neededSlots(wctx, ctx, cond); len(slots) > 0 {
		res, err := r.viaBlobs(wctx, &BlobRequest{Op: blobOpCondition, Value: cond, StepID: stepID}, ctx, slots)
		if err != nil {
			return false, err
		}
		return res.Bool, nil
	}
	return conditionOf(r.tpl, r.now(), cond, ctx, stepID)
}

// conditionOf is the pure part of evalCondition (also run by the fetch
// local activity once blob references are resolved).
func conditionOf(tpl *template.Engine, now time.Time, cond any, ctx map[string]any, stepID string) (bool, error) {
	if b, ok := cond.(bool); ok {
		return b, nil
	}
	rendered, err := pureRender(tpl, cond, ctx)
	if err != nil {
		return false, step.AsError(err)
	}
	switch v := rendered.(type) {
	case bool:
		return v, nil
	case nil: // undefined
		return false, nil
	case string:
		t := strings.TrimSpace(v)
		switch t {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		ok, err := kqlEval(v, ctx, now)
		if err != nil {
			var se *kql.SyntaxError
			if errors.As(err, &se) {
				return false, &step.Error{Type: "Error", Message: fmt.Sprintf("Syntax error in condition \"%s\" for step %s: %s", v, stepID, err.Error())}
			}
			return false, step.AsError(err)
		}
		return ok, nil
	default:
		b := jsonMarshal(v)
		return false, &step.Error{Type: "Error", Message: fmt.Sprintf(
			"Invalid condition type for step %s. Got %s (type: %s), but expected boolean or string (KQL expression).",
			stepID, string(b), jsTypeOf(v))}
	}
}

// jsTypeOf returns JavaScript's typeof for a JSON-like value, where nil is
// a missing value (undefined); see jsvalue.TypeOf.
func jsTypeOf(v any) string {
	if v == nil {
		return "undefined"
	}
	return jsvalue.TypeOf(v)
}
