package ai

import (
	"context"
	"fmt"
	"strings"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of ai.classify.
const (
	fCategories = "categories"
	fMultiple   = "allowMultipleCategories"
	fFallback   = "fallbackCategory"
	fRationale  = "includeRationale"
)

var classifySpec = &step.Spec{
	Type:     "ai.classify",
	Kind:     step.KindActivity,
	Category: "ai",
	Status:   step.StatusNewer,
	Summary:  "Classify an input into categories with an LLM; output {category | categories, rationale?, metadata}.",
	Doc: "Asks the model to put `input` into one of `categories` (or several with `allowMultipleCategories`), " +
		"falling back to `fallbackCategory` when none fits. A category outside `categories ∪ {fallbackCategory}` " +
		"fails with `UnexpectedCategories`; an empty or unreadable answer with `InvalidModelResponse`." + connectorDoc,
	With: []step.Field{
		{Name: fInput, Type: step.Any, Required: true, Doc: "What to classify (a string, or any value sent as JSON)."},
		{Name: fCategories, Type: step.List, Required: true, Doc: "Allowed categories (at least one)."},
		{Name: fInstruction, Type: step.String, Doc: "Extra instructions."},
		{Name: fMultiple, Type: step.Bool, Default: false, Doc: "Allow several categories (output `categories`)."},
		{Name: fFallback, Type: step.String, Doc: "Category to use when none fits."},
		{Name: fRationale, Type: step.Bool, Default: false, Doc: "Also return a short `rationale`."},
		temperatureField,
	},
	Output: step.Output{Doc: "The category (or categories) chosen.", Example: `{"category": "security alert",
		"rationale": "Mentions a failed login burst.", "metadata": {"model": "gpt-4o-mini",
		"usage": {"inputTokens": 80, "outputTokens": 12, "totalTokens": 92}}}`},
	Activity:  runClassify,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/ai/classify.go",
}

func init() { step.Register(classifySpec) }

func runClassify(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	input, ok := in.With[fInput]
	if !ok || input == nil {
		return nil, step.Errorf("InputValidationError", "ai.classify: with.input is required")
	}
	cats := activitykit.StringSlice(in.With[fCategories])
	if len(cats) == 0 {
		return nil, step.Errorf("InputValidationError", "ai.classify: with.categories must hold at least one category")
	}
	multiple, _ := activitykit.Bool(in.With[fMultiple])
	rationale, _ := activitykit.Bool(in.With[fRationale])
	fallback := in.String(fFallback)
	allowed := append([]string(nil), cats...)
	if fallback != "" {
		allowed = append(allowed, fallback)
	}
	enum := make([]any, len(allowed))
	for i, c := range allowed {
		enum[i] = c
	}
	props := map[string]any{}
	req := []any{}
	if multiple {
		props["categories"] = map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": enum}}
		req = append(req, "categories")
	} else {
		props["category"] = map[string]any{"type": "string", "enum": enum}
		req = append(req, "category")
	}
	if rationale {
		props["rationale"] = map[string]any{"type": "string"}
		req = append(req, "rationale")
	}
	schema := map[string]any{"type": "object", "properties": props, "required": req, "additionalProperties": false}

	var sys strings.Builder
	sys.WriteString("You are a classifier. ")
	if multiple {
		sys.WriteString("Assign the input to every category that applies among: ")
	} else {
		sys.WriteString("Assign the input to exactly one category among: ")
	}
	sys.WriteString(strings.Join(quoteAll(cats), ", ") + ".")
	if fallback != "" {
		fmt.Fprintf(&sys, " If none applies, use %q.", fallback)
	}
	if rationale {
		sys.WriteString(" Explain your choice briefly in rationale.")
	}
	sys.WriteString(" Answer with JSON only.")
	if ins := in.String(fInstruction); ins != "" {
		sys.WriteString("\n\nInstructions: " + ins)
	}
	c, err := resolveAI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	res, err := chat(ctx, rt, in, c, []message{{Role: "system", Content: sys.String()}, {Role: "user", Content: inputText(input)}},
		in.With[fTemperature], schema)
	if err != nil {
		return nil, err
	}
	v, err := decodeJSONReply(res.Content)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	var got []string
	if multiple {
		got = activitykit.StringSlice(m["categories"])
		if len(got) == 0 {
			got = activitykit.StringSlice(m["category"])
		}
	} else {
		got = activitykit.StringSlice(m["category"])
		if len(got) == 0 {
			got = activitykit.StringSlice(m["categories"])
		}
	}
	if len(got) == 0 || strings.TrimSpace(got[0]) == "" {
		return nil, step.Errorf("InvalidModelResponse", "The model returned no category")
	}
	var unexpected []string
	for _, g := range got {
		if !contains(allowed, g) {
			unexpected = append(unexpected, g)
		}
	}
	if len(unexpected) > 0 {
		return nil, &step.Error{Type: "UnexpectedCategories",
			Message: fmt.Sprintf("The model returned categories that are not allowed: %s. Allowed: %s", strings.Join(quoteAll(unexpected), ", "), strings.Join(quoteAll(allowed), ", ")),
			Details: map[string]any{"unexpected": toAny(unexpected), "allowed": toAny(allowed)}}
	}
	out := map[string]any{"metadata": res.Metadata}
	if multiple {
		out["categories"] = toAny(got)
	} else {
		out["category"] = got[0]
	}
	if rationale {
		if r, ok := m["rationale"].(string); ok {
			out["rationale"] = r
		}
	}
	return out, nil
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, e := range s {
		out[i] = fmt.Sprintf("%q", e)
	}
	return out
}

func contains(list []string, v string) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}
