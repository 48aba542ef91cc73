package interpreter

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/duration"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/interpreter/template"
)

// limits.go: the size and safety limits of §7.7 enforced while a run
// executes (the save-time ones, YAML size and step count, are in load.go).
//
//   - max-step-size (step's, else settings', else 10 MB): a step output
//     whose JSON is larger fails the step with StepSizeLimitExceeded.
//   - the same limit bounds every Liquid render done for the step (each
//     template string, and each capture in it): the renderer stops as soon
//     as it is exceeded and the step fails with TemplateSizeLimitExceeded.
//   - the outputs of a run's steps add up; one that would take the total
//     over the run's budget (EngineOptions.OutputBudget, default 150 MB)
//     fails its step with WorkflowOutputBudgetExceeded. The total is carried
//     over continue-as-new.
//   - workflow.execute fails with WorkflowOutputSizeExceeded when the
//     child's output is over 5 MB (EngineOptions.MaxChildOutputSize).
//
// Sizes are JSON bytes; a value kept in the blob store counts with the size
// its reference records, never the size of the reference. Every limit error
// is an ordinary step failure: on-failure (retry, fallback, continue) sees
// it like any other.
//
// The limits that can fail a step that used to complete (all but
// max-step-size) are guarded with workflow.GetVersion(changeSizeLimits),
// asked only when a limit is exceeded: histories recorded before them
// replay as they ran, and runs that never reach a limit record no marker.

// Error types of the limits.
const (
	ErrTypeStepSize        = "StepSizeLimitExceeded"
	ErrTypeTemplateSize    = "TemplateSizeLimitExceeded"
	ErrTypeOutputBudget    = "WorkflowOutputBudgetExceeded"
	ErrTypeChildOutputSize = "WorkflowOutputSizeExceeded"
)

// changeSizeLimits is the GetVersion change ID of the limits that can fail
// a step that used to complete.
const changeSizeLimits = "size-limits"

const (
	limitsAdvice      = "Simplify the template or increase 'max-step-size'."
	budgetAdvice      = "Filter what steps return or split the work into child workflows (workflow.execute)."
	childOutputAdvice = "Make workflow %q return less (workflow.output)."
)

// DefaultMaxStepSize is Kibana's default max-step-size (10 MB).
const DefaultMaxStepSize = 10 << 20

// DefaultOutputBudget is the default of EngineOptions.OutputBudget: the
// most bytes of step outputs one run keeps (Kibana's 150 MB).
const DefaultOutputBudget = 150 << 20

// DefaultMaxChildOutputSize is the default of
// EngineOptions.MaxChildOutputSize: the largest child output
// workflow.execute accepts (Kibana's 5 MB).
const DefaultMaxChildOutputSize = 5 << 20

// sizeLimitsOn reports whether the limits guarded by changeSizeLimits
// apply to this run (false when replaying a history recorded before them).
func (r *run) sizeLimitsOn(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeSizeLimits, workflow.DefaultVersion, 1) != workflow.DefaultVersion
}

// maxStepSize is the effective max-step-size of s in bytes: the step's,
// else the settings', else DefaultMaxStepSize.
func (r *run) maxStepSize(s *Step) int64 {
	limit := int64(DefaultMaxStepSize)
	vals := []string{r.def.Settings.MaxStepSize}
	if s != nil {
		vals = append(vals, s.MaxStepSize)
	}
	for _, v := range vals {
		if v != "" {
			if n, err := duration.ParseBytes(v); err == nil && n > 0 {
				limit = n
			}
		}
	}
	return limit
}

// outputSize is the size of a value as the limits count it: its JSON
// encoding, or for a blob reference the size of the value it stands for.
func outputSize(v any) int64 {
	if _, size, ok := BlobRefOf(v); ok {
		return size
	}
	return int64(len(jsonMarshal(v)))
}

// containerTypes are the step types with nested steps, whose outputs are
// made of their inner steps' outputs.
var containerTypes = map[string]bool{"if": true, "foreach": true, "while": true, "switch": true, "parallel": true}

// checkOutput enforces max-step-size and the run's output budget on the
// output of a completed step execution, and adds it to the run's total.
// Steps with nested steps (containerTypes) do not count towards the
// budget: their inner steps' outputs already did.
func (r *run) checkOutput(ctx workflow.Context, s *Step, out any) *step.Error {
	n := outputSize(out)
	if limit := r.maxStepSize(s); n > limit {
		return &step.Error{Type: ErrTypeStepSize, Message: fmt.Sprintf(
			"Output of step %s is %d bytes, above the max-step-size of %d bytes.", s.Name, n, limit),
			Details: map[string]any{"size": n, "limit": limit}}
	}
	if containerTypes[s.Type] {
		return nil
	}
	total := r.outputBytes + n
	if budget := r.outputBudget; total > budget && r.sizeLimitsOn(ctx) {
		return &step.Error{Type: ErrTypeOutputBudget, Message: fmt.Sprintf(
			"Output of step %s (%d bytes) would take the run's step outputs to %d bytes, above its output budget of %d bytes. %s",
			s.Name, n, total, budget, budgetAdvice),
			Details: map[string]any{"size": n, "total": total, "budget": budget}}
	}
	r.outputBytes = total
	return nil
}

// checkChildOutput enforces the child output limit of workflow.execute.
func (r *run) checkChildOutput(ctx workflow.Context, s *Step, defID string, out any) error {
	if out == nil {
		return nil
	}
	n, limit := outputSize(out), r.maxChildOutput
	if n <= limit || !r.sizeLimitsOn(ctx) {
		return nil
	}
	return &step.Error{Type: ErrTypeChildOutputSize, Message: fmt.Sprintf(
		"The output of workflow %q run by step %s is %d bytes, above the child output limit of %d bytes. "+childOutputAdvice,
		defID, s.Name, n, limit, defID),
		Details: map[string]any{"size": n, "limit": limit}}
}

// templateSizeError converts a template output limit error into the step
// error TemplateSizeLimitExceeded; other errors are returned unchanged. The
// message names the step and the limit, never the rendered text.
func templateSizeError(err error, stepName string) error {
	var le *template.OutputLimitError
	if !errors.As(err, &le) {
		return err
	}
	return &step.Error{Type: ErrTypeTemplateSize, Message: fmt.Sprintf(
		"Template rendering in step %s produced output exceeding the max-step-size of %d bytes. %s",
		stepName, le.Limit, limitsAdvice),
		Details: map[string]any{"limit": le.Limit}}
}

// isTemplateSize reports whether err is a TemplateSizeLimitExceeded error.
func isTemplateSize(err error) bool {
	var se *step.Error
	return errors.As(err, &se) && se.Type == ErrTypeTemplateSize
}

// limitedEngine renders with a template output limit and reports the limit
// as TemplateSizeLimitExceeded of its step (it is also the datastep
// Renderer of data steps).
type limitedEngine struct {
	eng  *template.Engine
	step string
}

// Render renders v (§4.2) against ctx.
func (e limitedEngine) Render(v any, ctx map[string]any) (any, error) {
	out, err := pureRender(e.eng, v, ctx)
	return out, templateSizeError(err, e.step)
}

// RenderString renders one template string against ctx.
func (e limitedEngine) RenderString(s string, ctx map[string]any) (string, error) {
	out, err := pureRenderString(e.eng, s, ctx)
	return out, templateSizeError(err, e.step)
}

// engineFor returns the run's template engine with an output limit of
// limit bytes (0: r.tpl, no limit), for step s.
func (r *run) engineFor(s *Step, limit int) limitedEngine {
	name := stepName(s)
	if limit <= 0 {
		return limitedEngine{eng: r.tpl, step: name}
	}
	eng, ok := r.engines[limit]
	if !ok {
		opts := r.tplOpts
		opts.Now = r.now
		opts.OutputLimit = limit
		eng = newEngine(opts)
		if r.engines == nil {
			r.engines = map[int]*template.Engine{}
		}
		r.engines[limit] = eng
	}
	return limitedEngine{eng: eng, step: name}
}

// withTemplateLimit runs render with the template output limit of step s
// (its max-step-size). When the limit is exceeded in a run recorded before
// the limit existed, it renders again without a limit, as that run did.
func withTemplateLimit[T any](r *run, ctx workflow.Context, s *Step, render func(limit int) (T, error)) (T, error) {
	out, err := render(int(r.maxStepSize(s)))
	if isTemplateSize(err) && !r.sizeLimitsOn(ctx) {
		return render(0)
	}
	return out, err
}
