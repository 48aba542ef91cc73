package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func call(t *testing.T, h http.Handler, method, path, body string, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return res, m
}

var esAuth = map[string]string{"Authorization": "ApiKey " + ElasticsearchAPIKey, "Content-Type": "application/json"}

func TestElasticsearchAuthAndProductHeader(t *testing.T) {
	es := NewElasticsearch()
	h := es.Handler()
	tests := []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"missing", nil, 401},
		{"wrong", map[string]string{"Authorization": "ApiKey nope"}, 401},
		{"basic", map[string]string{"Authorization": "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="}, 401},
		{"ok", esAuth, 200},
		{"ok lower-case scheme", map[string]string{"Authorization": "apikey " + ElasticsearchAPIKey}, 200},
	}
	for _, tt := range tests {
		res, body := call(t, h, "GET", "/", "", tt.hdr)
		if res.StatusCode != tt.status || res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
			t.Errorf("%s: %d %v", tt.name, res.StatusCode, res.Header)
		}
		if tt.status == 401 && body["error"].(map[string]any)["type"] != "security_exception" {
			t.Errorf("%s: body %v", tt.name, body)
		}
	}
	es.Inject("", 429, "2", "", 1)
	res, _ := call(t, h, "GET", "/", "", esAuth)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "2" || res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("fault: %d %v", res.StatusCode, res.Header)
	}
}

func TestElasticsearchDocsSearchESQL(t *testing.T) {
	es := NewElasticsearch()
	h := es.Handler()
	es.Seed("logs-a", map[string]any{"_id": "1", "host": map[string]any{"name": "web-1"}, "event": map[string]any{"severity": 3.0}},
		map[string]any{"host": map[string]any{"name": "db-1"}, "event": map[string]any{"severity": 7.0}})
	res, body := call(t, h, "POST", "/logs-*/_search", `{"query":{"bool":{"filter":[{"range":{"event.severity":{"gte":5}}}],"must_not":[{"term":{"host.name":"web-1"}}]}}}`, esAuth)
	hits := body["hits"].(map[string]any)
	if res.StatusCode != 200 || hits["total"].(map[string]any)["value"] != 1.0 {
		t.Fatalf("search: %d %v", res.StatusCode, body)
	}
	res, body = call(t, h, "POST", "/_query", `{"query":"FROM logs-a | SORT event.severity DESC | KEEP host.name | LIMIT 1"}`, esAuth)
	if res.StatusCode != 200 || body["values"].([]any)[0].([]any)[0] != "db-1" || body["columns"].([]any)[0].(map[string]any)["type"] != "keyword" {
		t.Fatalf("esql: %d %v", res.StatusCode, body)
	}
	res, body = call(t, h, "POST", "/_query", `{"query":"ROW a = 1"}`, esAuth)
	if res.StatusCode != 400 || body["error"].(map[string]any)["type"] != "parsing_exception" {
		t.Fatalf("esql unsupported: %d %v", res.StatusCode, body)
	}
	res, body = call(t, h, "POST", "/logs-a/_bulk", "{\"index\":{\"_id\":\"9\"}}\n{\"a\":1}\n{\"create\":{\"_id\":\"9\"}}\n{\"a\":2}\n", esAuth)
	if res.StatusCode != 200 || body["errors"] != true || len(body["items"].([]any)) != 2 {
		t.Fatalf("bulk: %d %v", res.StatusCode, body)
	}
	res, _ = call(t, h, "POST", "/logs-a/_update/nope", `{"doc":{"a":1}}`, esAuth)
	if res.StatusCode != 404 {
		t.Fatalf("update missing: %d", res.StatusCode)
	}
	if len(es.Docs("logs-a")) != 3 {
		t.Fatalf("docs = %v", es.Docs("logs-a"))
	}
}

var kbAuth = map[string]string{"Authorization": "ApiKey " + KibanaAPIKey, "kbn-xsrf": "true", "Content-Type": "application/json"}

func TestKibanaAuthXsrfAndCases(t *testing.T) {
	kb := NewKibana()
	h := kb.Handler()
	if res, body := call(t, h, "GET", "/api/cases/_find", "", nil); res.StatusCode != 401 || body["message"] != "Unauthorized" {
		t.Fatalf("no auth: %d %v", res.StatusCode, body)
	}
	if res, body := call(t, h, "POST", "/api/cases", "{}", map[string]string{"Authorization": "ApiKey " + KibanaAPIKey}); res.StatusCode != 400 ||
		!strings.Contains(body["message"].(string), "kbn-xsrf") {
		t.Fatalf("no xsrf: %d %v", res.StatusCode, body)
	}
	create := `{"title":"T","description":"D","owner":"securitySolution","tags":["a"],"settings":{"syncAlerts":false},"connector":{"id":"none","name":"none","type":".none","fields":null}}`
	res, c := call(t, h, "POST", "/s/soc/api/cases", create, kbAuth)
	if res.StatusCode != 200 || c["status"] != "open" || c["severity"] != "low" || c["version"] == "" {
		t.Fatalf("create: %d %v", res.StatusCode, c)
	}
	id := c["id"].(string)
	if res, _ := call(t, h, "GET", "/api/cases/"+id, "", kbAuth); res.StatusCode != 404 {
		t.Fatalf("case visible in another space: %d", res.StatusCode)
	}
	res, _ = call(t, h, "PATCH", "/s/soc/api/cases", `{"cases":[{"id":"`+id+`","version":"stale","status":"closed"}]}`, kbAuth)
	if res.StatusCode != 409 {
		t.Fatalf("stale version: %d", res.StatusCode)
	}
	res, _ = call(t, h, "POST", "/s/soc/api/cases/"+id+"/comments", `{"type":"user","comment":"hello","owner":"securitySolution"}`, kbAuth)
	if res.StatusCode != 200 {
		t.Fatalf("comment: %d", res.StatusCode)
	}
	res, _ = call(t, h, "POST", "/s/soc/api/cases/"+id+"/comments", `{"type":"user","comment":"x","owner":"observability"}`, kbAuth)
	if res.StatusCode != 400 {
		t.Fatalf("owner mismatch accepted: %d", res.StatusCode)
	}
	snap := kb.Cases()
	if len(snap) != 1 || snap[0].Space != "soc" || len(snap[0].Comments) != 1 || snap[0].Comments[0].Comment != "hello" {
		t.Fatalf("snapshot = %+v", snap)
	}
	res, conv := call(t, h, "POST", "/api/agent_builder/converse", `{"input":"check host web-1"}`, kbAuth)
	if res.StatusCode != 200 || !strings.Contains(conv["response"].(map[string]any)["message"].(string), "check host web-1") {
		t.Fatalf("converse: %d %v", res.StatusCode, conv)
	}
}

func TestOpenAI(t *testing.T) {
	o := NewOpenAI()
	h := o.Handler()
	res, body := call(t, h, "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, nil)
	if res.StatusCode != 401 || body["error"].(map[string]any)["type"] != "invalid_request_error" {
		t.Fatalf("no key: %d %v", res.StatusCode, body)
	}
	auth := map[string]string{"Authorization": "Bearer " + OpenAIAPIKey}
	res, body = call(t, h, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hello there"}]}`, auth)
	msg := body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"].(string)
	if res.StatusCode != 200 || !strings.Contains(msg, "hello there") || body["usage"].(map[string]any)["total_tokens"].(float64) == 0 {
		t.Fatalf("completion: %d %v", res.StatusCode, body)
	}
	res, body = call(t, h, "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"is it low or high? high"}],
		"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"level":{"type":"string","enum":["low","high"]}}}}}}`, auth)
	msg = body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"].(string)
	if res.StatusCode != 200 || msg != `{"level":"low"}` {
		// "low" is mentioned first in the enum and appears in the text.
		t.Fatalf("json schema: %d %s", res.StatusCode, msg)
	}
	res, _ = call(t, h, "POST", "/v1/chat/completions", `{"messages":[]}`, auth)
	if res.StatusCode != 400 {
		t.Fatalf("empty messages: %d", res.StatusCode)
	}
}
