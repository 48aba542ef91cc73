package ai

import (
	"context"

	"github.com/secflow/secflow/interpreter/step"
)

// Field names of ai.prompt.
const (
	fPrompt       = "prompt"
	fSystemPrompt = "systemPrompt"
	fSchema       = "schema"
)

// connectorDoc documents connector-id for the LLM steps.
const connectorDoc = "\n\n`connector-id` names the AI connector (.gen-ai, .inference, .bedrock, .gemini) by id or name; " +
	"without it the default AI connector is used (error `No default AI connector configured`; an unknown one fails " +
	"with `AI Connector '<x>' not found. Available AI connectors: …`)."

var temperatureField = step.Field{Name: fTemperature, Type: step.Number, Doc: "Sampling temperature, 0..1."}

var promptSpec = &step.Spec{
	Type:     "ai.prompt",
	Kind:     step.KindActivity,
	Category: "ai",
	Status:   step.StatusNewer,
	Summary:  "Prompt an LLM; output {content, metadata}.",
	Doc: "Sends `prompt` (after an optional `systemPrompt`) to the AI connector. With `schema` (a JSON schema) " +
		"the model is asked for JSON `{response: <schema>}` and `content` is that `response` value; otherwise " +
		"`content` is the reply text. `metadata` holds the provider's response metadata with token usage " +
		"normalised to `usage: {inputTokens, outputTokens, totalTokens}`." + connectorDoc,
	With: []step.Field{
		{Name: fPrompt, Type: step.String, Required: true, Doc: "The prompt."},
		{Name: fSystemPrompt, Type: step.String, Doc: "System prompt."},
		{Name: fSchema, Type: step.Object, Doc: "JSON schema of a structured answer."},
		temperatureField,
	},
	Output: step.Output{Doc: "The model's answer.", Example: `{"content": "The alert is a true positive.",
		"metadata": {"id": "chatcmpl-1", "model": "gpt-4o-mini", "finish_reason": "stop",
		"usage": {"inputTokens": 120, "outputTokens": 8, "totalTokens": 128}}}`},
	Examples: []step.Example{{Title: "Summarise an alert", YAML: `- name: analysis
  type: ai.prompt
  connector-id: openai
  with:
    systemPrompt: You are a SOC analyst.
    prompt: "Assess this alert: {{ event | json }}"`}},
	Activity:  runPrompt,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/ai/prompt.go",
}

func init() { step.Register(promptSpec) }

func runPrompt(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	prompt := in.String(fPrompt)
	if prompt == "" {
		if v, ok := in.With[fPrompt]; ok && v != nil {
			prompt = inputText(v)
		}
	}
	if prompt == "" {
		return nil, step.Errorf("InputValidationError", "ai.prompt: with.prompt is required")
	}
	c, err := resolveAI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	var msgs []message
	if sp := in.String(fSystemPrompt); sp != "" {
		msgs = append(msgs, message{Role: "system", Content: sp})
	}
	msgs = append(msgs, message{Role: "user", Content: prompt})
	schema := in.Map(fSchema)
	var wrapped map[string]any
	if schema != nil {
		wrapped = map[string]any{"type": "object", "properties": map[string]any{"response": schema},
			"required": []any{"response"}, "additionalProperties": false}
	}
	res, err := chat(ctx, rt, in, c, msgs, in.With[fTemperature], wrapped)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"content": res.Content, "metadata": res.Metadata}
	if schema != nil {
		v, err := decodeJSONReply(res.Content)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok || m["response"] == nil {
			return nil, step.Errorf("InvalidModelResponse", "The model's JSON answer has no response field")
		}
		out["content"] = m["response"]
	}
	return out, nil
}
