package ai

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

type env struct {
	sb     *sandbox.Sandbox
	kibana *sandbox.Kibana
	openai *sandbox.OpenAI
	rt     step.Runtime
}

func setup(t *testing.T) *env {
	t.Helper()
	sb, rt := activitytest.Sandbox(t)
	return &env{sb: sb, kibana: sb.Service("kibana").(*sandbox.Kibana), openai: sb.Service("openai").(*sandbox.OpenAI), rt: rt}
}

func run(t *testing.T, rt step.Runtime, in step.Input) (map[string]any, error) {
	t.Helper()
	out, err := activitytest.Run(t, rt, in, sandbox.KibanaAPIKey, sandbox.OpenAIAPIKey)
	m, _ := out.(map[string]any)
	return m, err
}

func lastBody(t *testing.T, sb *sandbox.Sandbox, service string) (sandbox.Request, map[string]any) {
	t.Helper()
	reqs := sb.ReceivedBy(service)
	r := reqs[len(reqs)-1]
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	return r, body
}

func TestAgent(t *testing.T) {
	e := setup(t)
	out, err := run(t, e.rt, step.Input{Type: "ai.agent", With: map[string]any{"message": "Triage alert on host web-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out["message"].(string), "Triage alert on host web-1") {
		t.Fatalf("message = %v", out["message"])
	}
	if _, ok := out["conversation_id"]; ok {
		t.Fatal("conversation_id without create-conversation")
	}
	u := out["metadata"].(map[string]any)["usage"].(map[string]any)
	if u["inputTokens"] != 5.0 || u["totalTokens"].(float64) <= 5 || u["connectorId"] != "sandbox-llm" {
		t.Fatalf("usage = %v", u)
	}
	r, body := lastBody(t, e.sb, "kibana")
	if r.Path != "/api/agent_builder/converse" || r.Method != "POST" || body["agent_id"] != "elastic-ai-agent" ||
		body["input"] != "Triage alert on host web-1" || r.Header["Kbn-Xsrf"] != "true" {
		t.Fatalf("request = %+v", r)
	}

	schema := map[string]any{"type": "object", "properties": map[string]any{
		"disposition": map[string]any{"type": "string", "enum": []any{"benign", "malicious"}}, "confidence": map[string]any{"type": "number"}}}
	out, err = run(t, e.rt, step.Input{Type: "ai.agent", SpaceID: "soc",
		Config: map[string]any{"agent-id": "alert.triage", "create-conversation": true},
		With:   map[string]any{"message": "Is this malicious?", "schema": schema}})
	if err != nil {
		t.Fatal(err)
	}
	so := out["structured_output"].(map[string]any)
	if so["disposition"] != "malicious" || out["conversation_id"] == "" {
		t.Fatalf("output = %v", out)
	}
	var fromMsg map[string]any
	if err := json.Unmarshal([]byte(out["message"].(string)), &fromMsg); err != nil || fromMsg["disposition"] != "malicious" {
		t.Fatalf("message is not the structured output's JSON: %v", out["message"])
	}
	r, body = lastBody(t, e.sb, "kibana")
	if r.Path != "/s/soc/api/agent_builder/converse" || body["agent_id"] != "alert.triage" || body["output_schema"] == nil {
		t.Fatalf("request = %+v", r)
	}
	conv := out["conversation_id"].(string)
	out, err = run(t, e.rt, step.Input{Type: "ai.agent", With: map[string]any{"message": "follow up", "conversation_id": conv}})
	if err != nil || out["conversation_id"] != conv {
		t.Fatalf("continue: %v %v", out, err)
	}
	if convs := e.kibana.Conversations(); len(convs) != 2 || len(convs[1].Rounds) != 2 {
		t.Fatalf("conversations = %+v", convs)
	}
	e.kibana.Inject("/api/agent_builder/converse", 502, "", "", 1)
	_, err = run(t, e.rt, step.Input{Type: "ai.agent", With: map[string]any{"message": "x"}})
	if se := step.AsError(err); !se.Retryable {
		t.Fatalf("502: %+v", se)
	}
}

func TestPromptDirect(t *testing.T) {
	e := setup(t)
	out, err := run(t, e.rt, step.Input{Type: "ai.prompt", ConnectorID: "OpenAI (sandbox)", With: map[string]any{
		"systemPrompt": "You are a SOC analyst.", "prompt": "Assess alert 42", "temperature": 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out["content"].(string), "Assess alert 42") {
		t.Fatalf("content = %v", out["content"])
	}
	meta := out["metadata"].(map[string]any)
	if meta["model"] != "gpt-4o-mini" || meta["usage"].(map[string]any)["totalTokens"].(float64) == 0 {
		t.Fatalf("metadata = %v", meta)
	}
	r, body := lastBody(t, e.sb, "openai")
	msgs := body["messages"].([]any)
	if r.Path != "/v1/chat/completions" || r.Header["Authorization"] != "Bearer ****" || len(msgs) != 2 ||
		msgs[0].(map[string]any)["role"] != "system" || body["temperature"] != 0.2 || body["model"] != "gpt-4o-mini" {
		t.Fatalf("request = %+v", r)
	}
	schema := map[string]any{"type": "array", "items": map[string]any{"type": "object",
		"properties": map[string]any{"id": map[string]any{"type": "string"}}}}
	out, err = run(t, e.rt, step.Input{Type: "ai.prompt", With: map[string]any{"prompt": "Generate alerts", "schema": schema}})
	if err != nil {
		t.Fatal(err)
	}
	if list, ok := out["content"].([]any); !ok || len(list) != 1 {
		t.Fatalf("structured content = %v", out["content"])
	}
	e.openai.Inject("/v1/chat/completions", 429, "9", "", 1)
	_, err = run(t, e.rt, step.Input{Type: "ai.prompt", With: map[string]any{"prompt": "x"}})
	if se := step.AsError(err); !se.Retryable || se.RetryAfter != 9*time.Second {
		t.Fatalf("429: %+v", se)
	}
	_, err = run(t, e.rt, step.Input{Type: "ai.prompt", ConnectorID: "azure_open_ai", With: map[string]any{"prompt": "x"}})
	if err == nil || err.Error() != "Error: AI Connector 'azure_open_ai' not found. Available AI connectors: OpenAI (sandbox)" {
		t.Fatalf("not found: %v", err)
	}
}

func TestPromptUnauthorizedIsPermanent(t *testing.T) {
	e := setup(t)
	t.Setenv("TEST_OPENAI_KEY", "sk-wrong-key-value")
	store, _ := connectors.NewStore(connectors.Def{ID: "oa", Type: ".gen-ai",
		Config:  map[string]any{"apiUrl": e.sb.URL("openai") + "/v1/chat/completions"},
		Secrets: map[string]string{"apiKey": "${env:TEST_OPENAI_KEY}"}})
	_, err := run(t, connectors.NewRuntime(store, nil, nil), step.Input{Type: "ai.prompt", With: map[string]any{"prompt": "x"}})
	se := step.AsError(err)
	if se.Retryable || se.Type != "AIConnectorError" || strings.Contains(err.Error(), "sk-wrong-key-value") {
		t.Fatalf("401: %+v", se)
	}
	empty, _ := connectors.NewStore()
	_, err = run(t, connectors.NewRuntime(empty, nil, nil), step.Input{Type: "ai.prompt", With: map[string]any{"prompt": "x"}})
	if err == nil || err.Error() != "Error: No default AI connector configured" {
		t.Fatalf("no default: %v", err)
	}
}

func TestClassify(t *testing.T) {
	e := setup(t)
	in := step.Input{Type: "ai.classify", With: map[string]any{
		"input":      map[string]any{"message": "failed logins then malicious download"},
		"categories": []any{"malicious", "not malicious"}, "fallbackCategory": "other", "includeRationale": true}}
	out, err := run(t, e.rt, in)
	if err != nil {
		t.Fatal(err)
	}
	if out["category"] != "malicious" {
		t.Fatalf("output = %v", out)
	}
	if _, ok := out["rationale"].(string); !ok {
		t.Fatalf("rationale missing: %v", out)
	}
	_, body := lastBody(t, e.sb, "openai")
	rf := body["response_format"].(map[string]any)
	if rf["type"] != "json_schema" {
		t.Fatalf("response_format = %v", rf)
	}
	tests := []struct{ reply, wantType string }{
		{`{"category":"benign"}`, "UnexpectedCategories"},
		{`{"category":""}`, "InvalidModelResponse"},
		{`not json`, "InvalidModelResponse"},
		{"```json\n{\"category\":\"other\"}\n```", ""},
	}
	for _, tt := range tests {
		e.openai.QueueReply(tt.reply)
		out, err := run(t, e.rt, in)
		if tt.wantType == "" {
			if err != nil || out["category"] != "other" {
				t.Errorf("%q: %v %v", tt.reply, out, err)
			}
			continue
		}
		if se := step.AsError(err); se == nil || se.Type != tt.wantType || se.Retryable {
			t.Errorf("%q: %+v", tt.reply, se)
		}
	}
	e.openai.QueueReply(`{"categories":["malicious","not malicious"]}`)
	in.With["allowMultipleCategories"] = true
	in.With["includeRationale"] = false
	out, err = run(t, e.rt, in)
	if err != nil || len(out["categories"].([]any)) != 2 {
		t.Fatalf("multiple: %v %v", out, err)
	}
}

func TestSummarize(t *testing.T) {
	e := setup(t)
	out, err := run(t, e.rt, step.Input{Type: "ai.summarize", With: map[string]any{"input": "A long alert text", "maxLength": 50.0}})
	if err != nil || !strings.Contains(out["content"].(string), "A long alert text") {
		t.Fatalf("summarize: %v %v", out, err)
	}
	_, body := lastBody(t, e.sb, "openai")
	sys := body["messages"].([]any)[0].(map[string]any)["content"].(string)
	if !strings.Contains(sys, "under 50 characters") {
		t.Fatalf("system prompt = %q", sys)
	}
}

// TestViaKibanaExecute runs an .inference connector through Kibana's _execute.
func TestViaKibanaExecute(t *testing.T) {
	e := setup(t)
	store := connectors.FromSandbox(e.sb)
	if err := store.Add(connectors.Def{ID: "kb-llm", Name: "Elastic LLM", Type: ".inference"}); err != nil {
		t.Fatal(err)
	}
	rt := connectors.NewRuntime(store, nil, nil)
	e.kibana.SetConnectorResult("kb-llm", sandbox.ConnectorResult{Status: "ok", Data: map[string]any{
		"id": "c1", "model": "elastic-llm", "choices": []any{map[string]any{"finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": "inference says hi"}}},
		"usage": map[string]any{"prompt_tokens": 3.0, "completion_tokens": 3.0, "total_tokens": 6.0}}})
	out, err := run(t, rt, step.Input{Type: "ai.prompt", ConnectorID: "Elastic LLM", With: map[string]any{"prompt": "hi"}})
	if err != nil || out["content"] != "inference says hi" || out["metadata"].(map[string]any)["usage"].(map[string]any)["totalTokens"] != 6.0 {
		t.Fatalf("output = %v %v", out, err)
	}
	ex := e.kibana.Executions()
	sub := ex[len(ex)-1].Params
	if ex[len(ex)-1].ConnectorID != "kb-llm" || sub["subAction"] != "unified_completion" {
		t.Fatalf("execute params = %+v", ex)
	}
	e.kibana.SetConnectorResult("kb-llm", sandbox.ConnectorResult{Status: "error", Message: "an error occurred", ServiceMessage: "model overloaded"})
	_, err = run(t, rt, step.Input{Type: "ai.prompt", ConnectorID: "kb-llm", With: map[string]any{"prompt": "hi"}})
	if se := step.AsError(err); se.Type != "ConnectorExecutionError" || se.Message != "model overloaded" {
		t.Fatalf("error result: %+v", se)
	}
}
