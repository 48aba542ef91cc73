package interpreter

import (
	"encoding/json"
	"time"

	"github.com/secflow/secflow/interpreter/datastep"
	"github.com/secflow/secflow/interpreter/kql"
	"github.com/secflow/secflow/interpreter/schema"
	"github.com/secflow/secflow/interpreter/template"
)

// The walker calls the pure packages (template, kql, datastep, schema) and
// encoding/json only through the functions below. Those packages are
// deterministic by contract: they take the run's clock as an argument and
// sort map keys wherever an order shows. They still range over maps (to
// sort the keys) and use reflection, which workflowcheck cannot tell apart
// from non-determinism, so each call is marked for it here, in one place.

func newEngine(opts template.Options) *template.Engine {
	return template.New(opts) //workflowcheck:ignore
}

func pureRender(tpl *template.Engine, v any, ctx map[string]any) (any, error) {
	return tpl.Render(v, ctx) //workflowcheck:ignore
}

func pureRenderString(tpl *template.Engine, s string, ctx map[string]any) (string, error) {
	return tpl.RenderString(s, ctx) //workflowcheck:ignore
}

func pureEvaluate(tpl *template.Engine, expr string, ctx map[string]any) (any, error) {
	return tpl.Evaluate(expr, ctx) //workflowcheck:ignore
}

func kqlEval(q string, ctx map[string]any, now time.Time) (bool, error) {
	return kql.Eval(q, ctx, now) //workflowcheck:ignore
}

func runData(c datastep.Call) (any, error) {
	return datastep.Run(c) //workflowcheck:ignore
}

func applyDefaults(s *schema.Schema, in map[string]any) map[string]any {
	return schema.ApplyDefaults(s, in) //workflowcheck:ignore
}

func validateInputs(s *schema.Schema, in map[string]any) []string {
	return schema.Validate(s, in) //workflowcheck:ignore
}

func validateOutputs(s *schema.Schema, values map[string]any) string {
	return schema.ValidateOutputs(s, values) //workflowcheck:ignore
}

func jsonMarshal(v any) []byte {
	b, _ := json.Marshal(v) //workflowcheck:ignore
	return b
}

func jsonUnmarshal(b []byte, v any) error {
	return json.Unmarshal(b, v) //workflowcheck:ignore
}
