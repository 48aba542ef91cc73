// Package ai implements the ai.* step types (§6.8): ai.agent over Kibana's
// Agent Builder converse API, and ai.prompt, ai.classify and ai.summarize
// over an AI connector — called directly when it is a .gen-ai connector
// with its own apiUrl and apiKey (any OpenAI-compatible
// /v1/chat/completions endpoint), otherwise through Kibana's connector
// _execute API (.inference: unified_completion; .gen-ai, .bedrock, .gemini:
// invokeAI).
package ai

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// aiTypes are the connector types the LLM steps accept, in default order.
var aiTypes = []string{".gen-ai", ".inference", ".bedrock", ".gemini"}

// Common field names.
const (
	cConnectorID = "connector-id"
	fTemperature = "temperature"
	fInput       = "input"
	fInstruction = "instructions"
)

// defaultTimeout is the activity timeout of LLM calls.
const defaultTimeout = 10 * time.Minute

// message is one chat message.
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// completion is a model reply and its provider metadata.
type completion struct {
	Content  string
	Metadata map[string]any
}

// resolveAI finds the AI connector: connector-id (id or name) or the
// default one, with Kibana's error messages.
func resolveAI(ctx context.Context, rt step.Runtime, in step.Input) (*step.Connector, error) {
	ref := in.ConnectorID
	if ref == "" {
		ref, _ = in.Config[cConnectorID].(string)
	}
	if ref == "" {
		c, err := rt.Connector(ctx, "", aiTypes...)
		if err != nil {
			return nil, step.Errorf("Error", "No default AI connector configured")
		}
		return c, nil
	}
	c, err := rt.Connector(ctx, ref, aiTypes...)
	if err != nil {
		if se := step.AsError(err); se.Type == "ConnectorSecretError" {
			return nil, se
		}
		names := activitykit.ConnectorNames(rt, aiTypes...)
		return nil, step.Errorf("Error", "AI Connector '%s' not found. Available AI connectors: %s", ref, strings.Join(names, ", "))
	}
	return c, nil
}

// chat sends messages to the connector. With a schema the model is asked
// for JSON; the raw JSON text is returned in Content.
func chat(ctx context.Context, rt step.Runtime, in step.Input, c *step.Connector, msgs []message, temperature any, schema map[string]any) (*completion, error) {
	if c.Type == ".gen-ai" && c.ConfigString("apiUrl") != "" && c.Secrets["apiKey"] != "" {
		return chatDirect(ctx, rt, c, msgs, temperature, schema)
	}
	return chatViaKibana(ctx, rt, in, c, msgs, temperature, schema)
}

// chatURL returns the chat-completions URL of a .gen-ai apiUrl: used as-is
// when it ends in /chat/completions (Kibana's convention), else extended.
func chatURL(api string) string {
	api = strings.TrimRight(api, "/")
	switch {
	case strings.HasSuffix(api, "/chat/completions"):
		return api
	case strings.HasSuffix(api, "/v1"):
		return api + "/chat/completions"
	}
	return api + "/v1/chat/completions"
}

func chatDirect(ctx context.Context, rt step.Runtime, c *step.Connector, msgs []message, temperature any, schema map[string]any) (*completion, error) {
	secrets := activitykit.SecretValues(c)
	body := map[string]any{"messages": msgs}
	if m := c.ConfigString("defaultModel"); m != "" {
		body["model"] = m
	}
	if t, ok := activitykit.Float(temperature); ok {
		body["temperature"] = t
	}
	if schema != nil {
		body["response_format"] = map[string]any{"type": "json_schema",
			"json_schema": map[string]any{"name": "response", "schema": schema, "strict": false}}
	}
	enc, err := activitykit.EncodeJSON(body)
	if err != nil {
		return nil, step.Errorf("InputValidationError", "encoding the chat request: %v", err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if strings.Contains(strings.ToLower(c.ConfigString("apiProvider")), "azure") {
		h.Set("api-key", c.Secrets["apiKey"])
	} else {
		h.Set("Authorization", "Bearer "+c.Secrets["apiKey"])
	}
	hc, err := activitykit.ClientFor(rt.HTTPClient(), c)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "%s", activitykit.Redact(err.Error(), secrets...))
	}
	res, err := activitykit.Do(ctx, hc, activitykit.Request{Method: http.MethodPost, URL: chatURL(c.ConfigString("apiUrl")),
		Header: h, Body: enc, Secrets: secrets})
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		msg := fmt.Sprintf("AI connector %s returned HTTP %d", c.ID, res.Status)
		if m, ok := res.Data().(map[string]any); ok {
			if e, ok := m["error"].(map[string]any); ok {
				msg += ": " + activitykit.Stringify(e["message"])
			}
		}
		return nil, activitykit.StatusError(res, "AIConnectorError", activitykit.Redact(msg, secrets...),
			map[string]any{"status": float64(res.Status)})
	}
	return fromChatCompletion(res.Data())
}

// fromChatCompletion reads an OpenAI chat.completion object.
func fromChatCompletion(data any) (*completion, error) {
	m, _ := data.(map[string]any)
	choices, _ := m["choices"].([]any)
	if len(choices) == 0 {
		return nil, step.Errorf("InvalidModelResponse", "The model returned no choices")
	}
	ch, _ := choices[0].(map[string]any)
	msg, _ := ch["message"].(map[string]any)
	content, _ := msg["content"].(string)
	meta := map[string]any{"id": m["id"], "model": m["model"], "finish_reason": ch["finish_reason"]}
	if u, ok := m["usage"].(map[string]any); ok {
		meta["usage"] = usage(u["prompt_tokens"], u["completion_tokens"], u["total_tokens"])
	}
	return &completion{Content: content, Metadata: meta}, nil
}

// usage builds the normalised {inputTokens, outputTokens, totalTokens}.
func usage(in, out, total any) map[string]any {
	i, _ := activitykit.Float(in)
	o, _ := activitykit.Float(out)
	t, ok := activitykit.Float(total)
	if !ok {
		t = i + o
	}
	return map[string]any{"inputTokens": i, "outputTokens": o, "totalTokens": t}
}

// chatViaKibana runs the connector through POST /api/actions/connector/{id}/_execute.
func chatViaKibana(ctx context.Context, rt step.Runtime, in step.Input, c *step.Connector, msgs []message, temperature any, schema map[string]any) (*completion, error) {
	kb, err := activitykit.KibanaFor(ctx, rt, "")
	if err != nil {
		return nil, err
	}
	if schema != nil {
		enc, _ := activitykit.EncodeJSON(schema)
		msgs = append([]message{{Role: "system", Content: "Respond only with a JSON value matching this JSON schema, without any other text: " + string(enc)}}, msgs...)
	}
	var params map[string]any
	if c.Type == ".inference" {
		b := map[string]any{"messages": msgs}
		if t, ok := activitykit.Float(temperature); ok {
			b["temperature"] = t
		}
		params = map[string]any{"subAction": "unified_completion", "subActionParams": map[string]any{"body": b}}
	} else {
		sp := map[string]any{"messages": msgs}
		if t, ok := activitykit.Float(temperature); ok {
			sp["temperature"] = t
		}
		params = map[string]any{"subAction": "invokeAI", "subActionParams": sp}
	}
	res, err := kb.ExecuteConnector(ctx, c, kb.Space(in.SpaceID), params)
	if err != nil {
		return nil, err
	}
	if st, _ := res["status"].(string); st != "ok" {
		return nil, step.Errorf("ConnectorExecutionError", "%s", activitykit.ServiceMessage(res))
	}
	data := res["data"]
	if dm, ok := data.(map[string]any); ok {
		if _, ok := dm["choices"]; ok {
			return fromChatCompletion(dm)
		}
		if msg, ok := dm["message"].(string); ok {
			meta := map[string]any{}
			if u, ok := dm["usage"].(map[string]any); ok {
				meta["usage"] = usage(u["prompt_tokens"], u["completion_tokens"], u["total_tokens"])
			}
			return &completion{Content: msg, Metadata: meta}, nil
		}
	}
	if s, ok := data.(string); ok {
		return &completion{Content: s, Metadata: map[string]any{}}, nil
	}
	return nil, step.Errorf("InvalidModelResponse", "The AI connector %s returned no message", c.ID)
}

// inputText renders a step input (string, or JSON of anything else).
func inputText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return activitykit.Stringify(v)
}

// decodeJSONReply parses a JSON reply, tolerating a ```json fence.
func decodeJSONReply(s string) (any, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "```") {
		t = strings.TrimPrefix(t, "```json")
		t = strings.TrimPrefix(t, "```")
		t = strings.TrimSuffix(strings.TrimSpace(t), "```")
	}
	v, err := activitykit.DecodeJSON([]byte(t))
	if err != nil {
		return nil, step.Errorf("InvalidModelResponse", "The model did not return valid JSON")
	}
	return v, nil
}
