package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

func init() { register("openai", func() Service { return NewOpenAI() }) }

// OpenAI is a deterministic fake of an OpenAI-compatible chat-completions
// endpoint (POST /v1/chat/completions, GET /v1/models). Authentication is
// "Authorization: Bearer <key>" (or Azure's "api-key" header); a missing or
// wrong key gets OpenAI's 401 error object. Replies are deterministic: with
// response_format json_schema the reply is a JSON value satisfying the
// schema (an enum value mentioned in the prompt wins), otherwise a text
// that quotes the last user message.
type OpenAI struct {
	Faults
	mu      sync.Mutex
	replies []string
	seq     int
}

// NewOpenAI returns the fake.
func NewOpenAI() *OpenAI { return &OpenAI{} }

// Name implements Service.
func (*OpenAI) Name() string { return "openai" }

// Handler implements Service.
func (o *OpenAI) Handler() http.Handler {
	return o.Faults.Wrap(http.HandlerFunc(o.serve), nil, func(status int) string {
		typ := "server_error"
		if status == http.StatusTooManyRequests {
			typ = "rate_limit_exceeded"
		}
		return fmt.Sprintf(`{"error":{"message":"injected fault %d","type":%q,"param":null,"code":null}}`, status, typ)
	})
}

// QueueReply makes the next completion return content verbatim (tests use
// it to feed malformed or unexpected model output).
func (o *OpenAI) QueueReply(content string) {
	o.mu.Lock()
	o.replies = append(o.replies, content)
	o.mu.Unlock()
}

func oaError(w http.ResponseWriter, status int, typ, code, msg string) {
	var c any
	if code != "" {
		c = code
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": c}})
}

func (o *OpenAI) serve(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if key == "" {
		key = r.Header.Get("api-key")
	}
	switch {
	case key == "":
		oaError(w, 401, "invalid_request_error", "", "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
		return
	case key != OpenAIAPIKey:
		oaError(w, 401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.")
		return
	}
	switch {
	case r.URL.Path == "/v1/models" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"object": "list", "data": []any{map[string]any{"id": "gpt-4o-mini", "object": "model", "owned_by": "sandbox"}}})
	case strings.HasSuffix(r.URL.Path, "/chat/completions") && r.Method == http.MethodPost:
		o.complete(w, r)
	default:
		oaError(w, 404, "invalid_request_error", "unknown_url", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
	}
}

func (o *OpenAI) complete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content any    `json:"content"`
		} `json:"messages"`
		Temperature    *float64       `json:"temperature"`
		ResponseFormat map[string]any `json:"response_format"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		oaError(w, 400, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	if len(req.Messages) == 0 {
		oaError(w, 400, "invalid_request_error", "", "[] is too short - 'messages'")
		return
	}
	if req.Temperature != nil && (*req.Temperature < 0 || *req.Temperature > 2) {
		oaError(w, 400, "invalid_request_error", "", fmt.Sprintf("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got %v instead.", *req.Temperature))
		return
	}
	if req.Model == "" {
		req.Model = "gpt-4o-mini"
	}
	var last, all string
	for _, m := range req.Messages {
		text := contentText(m.Content)
		all += text + " "
		if m.Role == "user" {
			last = text
		}
	}
	o.mu.Lock()
	o.seq++
	id := fmt.Sprintf("chatcmpl-sandbox-%d", o.seq)
	var content string
	if len(o.replies) > 0 {
		content, o.replies = o.replies[0], o.replies[1:]
	}
	o.mu.Unlock()
	if content == "" {
		content = "Sandbox completion. You said: " + truncate(last, 300)
		if req.ResponseFormat != nil {
			var schema map[string]any
			if js, ok := req.ResponseFormat["json_schema"].(map[string]any); ok {
				schema, _ = js["schema"].(map[string]any)
			}
			var v any = map[string]any{"response": content}
			if schema != nil {
				v = exampleFor(schema, last)
			}
			b, _ := json.Marshal(v)
			content = string(b)
		}
	}
	in, out := len(strings.Fields(all)), len(strings.Fields(content))
	writeJSON(w, 200, map[string]any{
		"id": id, "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"system_fingerprint": "fp_sandbox",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil,
			"message": map[string]any{"role": "assistant", "content": content, "refusal": nil}}},
		"usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
	})
}

// contentText flattens a message content (string or content parts).
func contentText(c any) string {
	switch x := c.(type) {
	case string:
		return x
	case []any:
		var parts []string
		for _, p := range x {
			if m, ok := p.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					parts = append(parts, t)
				}
			}
		}
		return strings.Join(parts, "\n")
	}
	return ""
}
