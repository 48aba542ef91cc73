package elasticsearch

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

func apiFor(t *testing.T, typ string) *api {
	t.Helper()
	for i := range apis {
		if apis[i].typ == typ {
			return &apis[i]
		}
	}
	t.Fatalf("no api %s", typ)
	return nil
}

// TestC37Mapping checks the request mapping of §6.5 / C37.
func TestC37Mapping(t *testing.T) {
	tests := []struct {
		name, typ  string
		with       map[string]any
		method     string
		path       string
		query      string
		body       string
		contentTyp string
	}{
		{name: "search", typ: "elasticsearch.search",
			with:   map[string]any{"index": "test-index", "query": map[string]any{"match": map[string]any{"message": "test"}}, "size": 10.0},
			method: "GET", path: "/test-index/_search", body: `{"query":{"match":{"message":"test"}},"size":10}`},
		{name: "search without index", typ: "elasticsearch.search", with: map[string]any{"size": 1.0},
			method: "GET", path: "/_search", body: `{"size":1}`},
		{name: "search url params and body merge", typ: "elasticsearch.search",
			with:   map[string]any{"index": []any{"a", "b"}, "expand_wildcards": []any{"open", "hidden"}, "body": map[string]any{"from": 5.0}, "extra": true},
			method: "GET", path: "/a,b/_search", query: "expand_wildcards=open%2Chidden", body: `{"extra":true,"from":5}`},
		{name: "index with id", typ: "elasticsearch.index",
			with:   map[string]any{"index": "test-index", "id": "1", "document": map[string]any{"name": "Yellowstone"}},
			method: "POST", path: "/test-index/_doc/1", body: `{"name":"Yellowstone"}`},
		{name: "index without id", typ: "elasticsearch.index",
			with:   map[string]any{"index": "test-index", "document": map[string]any{"name": "Yellowstone"}, "refresh": "wait_for"},
			method: "POST", path: "/test-index/_doc", query: "refresh=wait_for", body: `{"name":"Yellowstone"}`},
		{name: "bulk plain documents", typ: "elasticsearch.bulk",
			with:   map[string]any{"index": "test-index", "operations": []any{map[string]any{"message": "test"}, map[string]any{"field1": "value1"}}},
			method: "POST", path: "/test-index/_bulk", contentTyp: "application/x-ndjson",
			body: "{\"index\":{}}\n{\"message\":\"test\"}\n{\"index\":{}}\n{\"field1\":\"value1\"}\n"},
		{name: "bulk doc with index field still wrapped", typ: "elasticsearch.bulk",
			with:   map[string]any{"index": "test-index", "operations": []any{map[string]any{"message": "test", "index": "custom-field"}}},
			method: "POST", path: "/test-index/_bulk", contentTyp: "application/x-ndjson",
			body: "{\"index\":{}}\n{\"index\":\"custom-field\",\"message\":\"test\"}\n"},
		{name: "bulk explicit actions pass through", typ: "elasticsearch.bulk",
			with: map[string]any{"operations": []any{map[string]any{"index": map[string]any{"_index": "x", "_id": "1"}}, map[string]any{"a": 1.0},
				map[string]any{"delete": map[string]any{"_index": "x", "_id": "2"}}}},
			method: "POST", path: "/_bulk", contentTyp: "application/x-ndjson",
			body: "{\"index\":{\"_id\":\"1\",\"_index\":\"x\"}}\n{\"a\":1}\n{\"delete\":{\"_id\":\"2\",\"_index\":\"x\"}}\n"},
		{name: "esql", typ: "elasticsearch.esql.query", with: map[string]any{"query": "FROM logs-* | LIMIT 10", "format": "json", "columnar": false},
			method: "POST", path: "/_query", query: "format=json", body: `{"columnar":false,"query":"FROM logs-* | LIMIT 10"}`},
		{name: "update", typ: "elasticsearch.update", with: map[string]any{"index": "i", "id": "7", "doc": map[string]any{"a": 1.0}},
			method: "POST", path: "/i/_update/7", body: `{"doc":{"a":1}}`},
		{name: "method override", typ: "elasticsearch.search", with: map[string]any{"index": "i", "method": "post"},
			method: "POST", path: "/i/_search"},
		{name: "path params escaped", typ: "elasticsearch.get", with: map[string]any{"index": "i", "id": "a/b c"},
			method: "GET", path: "/i/_doc/a%2Fb%20c"},
		{name: "indices.create", typ: "elasticsearch.indices.create", with: map[string]any{"index": "new", "mappings": map[string]any{"properties": map[string]any{}}},
			method: "PUT", path: "/new", body: `{"mappings":{"properties":{}}}`},
		{name: "indices.exists", typ: "elasticsearch.indices.exists", with: map[string]any{"index": "new"}, method: "HEAD", path: "/new"},
		{name: "raw request form", typ: "elasticsearch.search",
			with:   map[string]any{"index": "ignored", "request": map[string]any{"method": "GET", "path": "/test-index/_search", "body": map[string]any{"size": 1.0}}},
			method: "GET", path: "/test-index/_search", body: `{"size":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := apiFor(t, tt.typ).build(tt.with)
			if err != nil {
				t.Fatal(err)
			}
			if r.Method != tt.method || r.Path != tt.path || r.Query.Encode() != tt.query || string(r.Body) != tt.body || r.ContentType != tt.contentTyp {
				t.Fatalf("got %s %s ?%s ct=%q body=%q", r.Method, r.Path, r.Query.Encode(), r.ContentType, r.Body)
			}
		})
	}
	if _, err := apiFor(t, "elasticsearch.index").build(map[string]any{"document": map[string]any{}}); err == nil ||
		!strings.Contains(err.Error(), "missing required parameter(s): index") {
		t.Fatalf("missing index: %v", err)
	}
}

func setup(t *testing.T) (*sandbox.Sandbox, *sandbox.Elasticsearch, step.Runtime) {
	t.Helper()
	sb, rt := activitytest.Sandbox(t)
	return sb, sb.Service("elasticsearch").(*sandbox.Elasticsearch), rt
}

func run(t *testing.T, rt step.Runtime, typ string, with map[string]any) (any, error) {
	t.Helper()
	return activitytest.Run(t, rt, step.Input{Type: typ, With: with, IdempotencyKey: "wf/" + typ}, sandbox.ElasticsearchAPIKey, sandbox.KibanaAPIKey)
}

func TestAgainstFake(t *testing.T) {
	sb, fake, rt := setup(t)
	if _, err := run(t, rt, "elasticsearch.indices.create", map[string]any{"index": "hosts"}); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, rt, "elasticsearch.index", map[string]any{"index": "hosts", "id": "web-1",
		"document": map[string]any{"host": map[string]any{"name": "web-1"}, "user": "alice", "risk": 80.0}})
	if err != nil {
		t.Fatal(err)
	}
	if out.(map[string]any)["result"] != "created" || out.(map[string]any)["_id"] != "web-1" {
		t.Fatalf("index output = %v", out)
	}
	if _, err := run(t, rt, "elasticsearch.bulk", map[string]any{"index": "hosts",
		"operations": []any{map[string]any{"host": map[string]any{"name": "db-1"}, "user": "bob"}}}); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, rt, "elasticsearch.search", map[string]any{"index": "hosts",
		"query": map[string]any{"term": map[string]any{"host.name": "web-1"}}, "size": 5.0})
	if err != nil {
		t.Fatal(err)
	}
	hits := out.(map[string]any)["hits"].(map[string]any)
	if hits["total"].(map[string]any)["value"] != 1.0 || hits["hits"].([]any)[0].(map[string]any)["_source"].(map[string]any)["user"] != "alice" {
		t.Fatalf("search output = %v", out)
	}
	if _, err := run(t, rt, "elasticsearch.update", map[string]any{"index": "hosts", "id": "web-1", "doc": map[string]any{"risk": 10.0}}); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, rt, "elasticsearch.esql.query", map[string]any{"query": "FROM hosts | WHERE user == \"alice\" | KEEP host.name, risk | LIMIT 10"})
	if err != nil {
		t.Fatal(err)
	}
	values := out.(map[string]any)["values"].([]any)
	if len(values) != 1 || values[0].([]any)[0] != "web-1" || values[0].([]any)[1] != 10.0 {
		t.Fatalf("esql values = %v", out)
	}
	out, err = run(t, rt, "elasticsearch.request", map[string]any{"method": "GET", "path": "/hosts/_count"})
	if err != nil || out.(map[string]any)["count"] != 2.0 {
		t.Fatalf("raw count = %v %v", out, err)
	}
	if out, err = run(t, rt, "elasticsearch.indices.exists", map[string]any{"index": "hosts"}); err != nil || out != true {
		t.Fatalf("exists = %v %v", out, err)
	}
	if out, err = run(t, rt, "elasticsearch.indices.exists", map[string]any{"index": "nope"}); err != nil || out != false {
		t.Fatalf("exists(nope) = %v %v", out, err)
	}
	if _, err = run(t, rt, "elasticsearch.indices.delete", map[string]any{"index": "hosts"}); err != nil {
		t.Fatal(err)
	}
	if len(fake.Indices()) != 0 {
		t.Fatalf("indices = %v", fake.Indices())
	}
	// What the fake received: the API key header and the product headers.
	reqs := sb.ReceivedBy("elasticsearch")
	if len(reqs) == 0 || !strings.EqualFold(reqs[0].Header["Authorization"], "ApiKey ****") {
		t.Fatalf("received = %+v", reqs)
	}
}

func TestErrors(t *testing.T) {
	_, fake, rt := setup(t)
	_, err := run(t, rt, "elasticsearch.search", map[string]any{"index": "missing"})
	se := step.AsError(err)
	if se.Type != "ResponseError" || se.Message != "index_not_found_exception: no such index [missing]" || se.Retryable {
		t.Fatalf("404: %+v", se)
	}
	fake.Inject("/", 429, "5", "", 1)
	_, err = run(t, rt, "elasticsearch.request", map[string]any{"path": "/_search"})
	if se := step.AsError(err); !se.Retryable || se.RetryAfter != 5*time.Second || se.Details["status"] != 429.0 {
		t.Fatalf("429: %+v", se)
	}
	fake.Inject("/", 503, "", "", 1)
	_, err = run(t, rt, "elasticsearch.request", map[string]any{"path": "/_search"})
	if se := step.AsError(err); !se.Retryable {
		t.Fatalf("503: %+v", se)
	}
	_, err = run(t, rt, "elasticsearch.cat.indices", map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "No connector definition found for elasticsearch.cat.indices") {
		t.Fatalf("family without request: %v", err)
	}
	out, err := run(t, rt, "elasticsearch.cluster.health", map[string]any{"request": map[string]any{"path": "/"}})
	if err != nil || out.(map[string]any)["cluster_name"] != "secflow-sandbox" {
		t.Fatalf("family with request: %v %v", out, err)
	}
}

func TestUnauthorizedAndProductCheck(t *testing.T) {
	sb, _, _ := setup(t)
	t.Setenv("TEST_BAD_ES_KEY", "wrong-key-value")
	store, _ := connectors.NewStore(connectors.Def{ID: "es", Type: ".elasticsearch", Config: map[string]any{"url": sb.URL("elasticsearch")},
		Secrets: map[string]string{"apiKey": "${env:TEST_BAD_ES_KEY}"}})
	rt := connectors.NewRuntime(store, nil, nil)
	_, err := run(t, rt, "elasticsearch.search", map[string]any{})
	se := step.AsError(err)
	if se.Retryable || se.Details["status"] != 401.0 || !strings.Contains(se.Message, "security_exception") || strings.Contains(err.Error(), "wrong-key-value") {
		t.Fatalf("401: %+v", se)
	}
	notES := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
	defer notES.Close()
	store2, _ := connectors.NewStore(connectors.Def{ID: "es", Type: ".elasticsearch", Config: map[string]any{"url": notES.URL}})
	_, err = run(t, connectors.NewRuntime(store2, nil, nil), "elasticsearch.search", map[string]any{})
	if se := step.AsError(err); se.Type != "ProductNotSupportedError" {
		t.Fatalf("product check: %+v", se)
	}
}

func TestSpecsRegistered(t *testing.T) {
	for _, typ := range []string{"elasticsearch.search", "elasticsearch.index", "elasticsearch.update", "elasticsearch.bulk",
		"elasticsearch.request", "elasticsearch.esql.query", "elasticsearch.indices.create", "elasticsearch.indices.exists",
		"elasticsearch.indices.delete", "elasticsearch.msearch", "elasticsearch.cat.indices", "elasticsearch.indices.get_alias"} {
		s, ok := step.Default().Lookup(typ)
		if !ok || s.Activity == nil {
			t.Errorf("%s not registered", typ)
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(s.Output.Example), &v); err != nil {
			t.Errorf("%s output example: %v", typ, err)
		}
	}
}
