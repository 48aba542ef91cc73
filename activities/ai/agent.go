package ai

import (
	"context"
	"net/http"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Config and field names of ai.agent.
const (
	cAgentID            = "agent-id"
	cCreateConversation = "create-conversation"
	fMessage            = "message"
	fConversationID     = "conversation_id"
	fAttachments        = "attachments"

	// DefaultAgentID is Agent Builder's default agent.
	DefaultAgentID = "elastic-ai-agent"
)

var agentSpec = &step.Spec{
	Type:     "ai.agent",
	Kind:     step.KindActivity,
	Category: "ai",
	Status:   step.StatusNewer,
	Summary:  "Run an Agent Builder agent (POST /api/agent_builder/converse); output {message, structured_output?, conversation_id?, metadata}.",
	Doc: "Sends `message` to the agent `agent-id` (default `elastic-ai-agent`) through Kibana's converse API in " +
		"the run's space. With `schema`, the agent returns structured output: `structured_output` holds it and " +
		"`message` is its JSON. `conversation_id` is returned when `create-conversation` is true or a " +
		"`conversation_id` was given (to continue that conversation). Token usage is in " +
		"`metadata.usage: {inputTokens, outputTokens, cachedTokens, totalTokens}`. `connector-id` (optional) is the " +
		"Kibana LLM connector the agent should use, passed to Kibana as is.",
	Config: []step.Field{
		{Name: cAgentID, Type: step.String, Default: DefaultAgentID, Doc: "Agent id."},
		{Name: cCreateConversation, Type: step.Bool, Default: false, Doc: "Keep the conversation and return its id."},
	},
	With: []step.Field{
		{Name: fMessage, Type: step.String, Required: true, Doc: "The message to the agent."},
		{Name: fSchema, Type: step.Object, Doc: "JSON schema of a structured answer."},
		{Name: fConversationID, Type: step.String, Doc: "Continue this conversation."},
		{Name: fAttachments, Type: step.List, Doc: "Converse API attachments, passed as is."},
	},
	Output: step.Output{Doc: "The agent's answer.", Example: `{"message": "Likely credential stuffing from 10.0.0.5; escalate.",
		"structured_output": {"verdict": "true_positive"}, "conversation_id": "c0ffee00-0000-4000-8000-000000000001",
		"metadata": {"usage": {"connectorId": "openai", "inputTokens": 900, "outputTokens": 120, "cachedTokens": 0, "totalTokens": 1020}}}`},
	Examples: []step.Example{{Title: "Triage an alert", YAML: `- name: triage
  type: ai.agent
  agent-id: elastic-ai-agent
  create-conversation: true
  with:
    message: "Triage this alert: {{ event | json }}"`}},
	Activity:  runAgent,
	Timeout:   15 * time.Minute,
	Heartbeat: true,
	Source:    "activities/ai/agent.go",
}

func init() { step.Register(agentSpec) }

func runAgent(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	msg := in.String(fMessage)
	if msg == "" {
		if v, ok := in.With[fMessage]; ok && v != nil {
			msg = inputText(v)
		}
	}
	if msg == "" {
		return nil, step.Errorf("InputValidationError", "ai.agent: with.message is required")
	}
	agent, _ := in.Config[cAgentID].(string)
	if agent == "" {
		agent = DefaultAgentID
	}
	create, _ := activitykit.Bool(in.Config[cCreateConversation])
	convID := in.String(fConversationID)
	body := map[string]any{"agent_id": agent, "input": msg}
	if convID != "" {
		body["conversation_id"] = convID
	}
	connector := in.ConnectorID
	if connector == "" {
		connector, _ = in.Config[cConnectorID].(string)
	}
	if connector != "" {
		body["connector_id"] = connector
	}
	schema := in.Map(fSchema)
	if schema != nil {
		body["structured_output"] = true
		body["output_schema"] = schema
	}
	if att, ok := in.With[fAttachments].([]any); ok && len(att) > 0 {
		body["attachments"] = att
	}
	kb, err := activitykit.KibanaFor(ctx, rt, "")
	if err != nil {
		return nil, err
	}
	out, err := kb.JSON(ctx, activitykit.KibanaRequest{Method: http.MethodPost, Path: "/api/agent_builder/converse",
		Body: body, Space: kb.Space(in.SpaceID)})
	if err != nil {
		return nil, err
	}
	res, _ := out.(map[string]any)
	resp, _ := res["response"].(map[string]any)
	if resp == nil {
		return nil, step.Errorf("Error", "No round_complete event received from execution service")
	}
	u := map[string]any{"inputTokens": 0.0, "outputTokens": 0.0, "cachedTokens": 0.0, "totalTokens": 0.0}
	if mu, ok := res["model_usage"].(map[string]any); ok {
		i, _ := activitykit.Float(mu["input_tokens"])
		o, _ := activitykit.Float(mu["output_tokens"])
		c, _ := activitykit.Float(mu["cached_input_tokens"])
		u = map[string]any{"inputTokens": i, "outputTokens": o, "cachedTokens": c, "totalTokens": i + o}
		if id, _ := mu["connector_id"].(string); id != "" && id != "unknown" {
			u["connectorId"] = id
		}
	}
	output := map[string]any{"message": resp["message"], "metadata": map[string]any{"usage": u}}
	if so, ok := resp["structured_output"]; ok {
		output["structured_output"] = so
	}
	if schema != nil {
		enc, err := activitykit.EncodeJSON(resp["structured_output"])
		if err != nil {
			return nil, step.Errorf("InvalidModelResponse", "structured output is not JSON: %v", err)
		}
		output["message"] = string(enc)
	}
	if s, _ := output["message"].(string); s == "" && output["message"] == nil {
		output["message"] = ""
	}
	if create || convID != "" {
		id, _ := res["conversation_id"].(string)
		if id == "" {
			return nil, step.Errorf("Error", "No conversation_created / conversation_updated event received")
		}
		output["conversation_id"] = id
	}
	return output, nil
}
