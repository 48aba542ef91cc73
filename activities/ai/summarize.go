package ai

import (
	"context"
	"fmt"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

const fMaxLength = "maxLength"

var summarizeSpec = &step.Spec{
	Type:     "ai.summarize",
	Kind:     step.KindActivity,
	Category: "ai",
	Status:   step.StatusNewer,
	Summary:  "Summarise an input with an LLM; output {content, metadata}.",
	Doc:      "Asks the model for a concise summary of `input`, following `instructions` and keeping under `maxLength` characters when given." + connectorDoc,
	With: []step.Field{
		{Name: fInput, Type: step.Any, Required: true, Doc: "What to summarise (a string, or any value sent as JSON)."},
		{Name: fInstruction, Type: step.String, Doc: "Extra instructions."},
		{Name: fMaxLength, Type: step.Int, Doc: "Maximum summary length in characters."},
		temperatureField,
	},
	Output: step.Output{Doc: "The summary.", Example: `{"content": "Three failed logins from 10.0.0.5, then a success.",
		"metadata": {"model": "gpt-4o-mini", "usage": {"inputTokens": 300, "outputTokens": 14, "totalTokens": 314}}}`},
	Activity:  runSummarize,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/ai/summarize.go",
}

func init() { step.Register(summarizeSpec) }

func runSummarize(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	input, ok := in.With[fInput]
	if !ok || input == nil {
		return nil, step.Errorf("InputValidationError", "ai.summarize: with.input is required")
	}
	sys := "You summarise content for a security analyst. Be concise and factual; answer with the summary only."
	if n, ok := activitykit.Int(in.With[fMaxLength]); ok && n > 0 {
		sys += fmt.Sprintf(" Keep the summary under %d characters.", n)
	}
	if ins := in.String(fInstruction); ins != "" {
		sys += "\n\nInstructions: " + ins
	}
	c, err := resolveAI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	res, err := chat(ctx, rt, in, c, []message{{Role: "system", Content: sys}, {Role: "user", Content: inputText(input)}},
		in.With[fTemperature], nil)
	if err != nil {
		return nil, err
	}
	return map[string]any{"content": res.Content, "metadata": res.Metadata}, nil
}
