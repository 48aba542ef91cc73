package search

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

func setup(t *testing.T) (*sandbox.Sandbox, *sandbox.Elasticsearch, step.Runtime) {
	t.Helper()
	sb, rt := activitytest.Sandbox(t)
	return sb, sb.Service("elasticsearch").(*sandbox.Elasticsearch), rt
}

func run(t *testing.T, rt step.Runtime, in step.Input) (any, error) {
	t.Helper()
	in.Type = "search.rerank"
	return activitytest.Run(t, rt, in, sandbox.ElasticsearchAPIKey)
}

func inferenceCalls(sb *sandbox.Sandbox) []sandbox.Request {
	var out []sandbox.Request
	for _, r := range sb.ReceivedBy("elasticsearch") {
		if strings.HasPrefix(r.Path, "/_inference/") {
			out = append(out, r)
		}
	}
	return out
}

func titles(t *testing.T, out any) string {
	t.Helper()
	var s []string
	for _, d := range out.([]any) {
		switch x := d.(type) {
		case string:
			s = append(s, x)
		case map[string]any:
			s = append(s, x["title"].(string))
		}
	}
	return strings.Join(s, "|")
}

var docs = []any{
	map[string]any{"title": "Laptop bags", "body": "bags", "user": map[string]any{"name": "ann"}},
	map[string]any{"title": "Best laptop of 2025", "body": "the best laptop", "user": map[string]any{"name": "bob"}},
	map[string]any{"title": "Gardening", "body": "plants"},
	map[string]any{"title": "Best phones", "body": "phones"},
}

func TestRerankWithFieldsAndWindow(t *testing.T) {
	sb, fake, rt := setup(t)
	fake.AddInferenceEndpoint(sandbox.InferenceEndpoint{InferenceID: "my-rerank", TaskType: "rerank", Service: "cohere"})
	out, err := run(t, rt, step.Input{Config: map[string]any{"inference_id": "my-rerank"}, With: map[string]any{
		"rerank_text": "best laptop?", "data": docs, "fields": []any{[]any{"title"}, []any{"user", "name"}},
		"rank_window_size": 3.0, "max_input_field_length": 12.0}})
	if err != nil {
		t.Fatal(err)
	}
	// window = first 3; the 4th follows in input order.
	if got := titles(t, out); got != "Best laptop of 2025|Laptop bags|Gardening|Best phones" {
		t.Fatalf("order = %s", got)
	}
	calls := inferenceCalls(sb)
	if len(calls) != 1 || calls[0].Method != "POST" || calls[0].Path != "/_inference/rerank/my-rerank" || calls[0].Query != "timeout=5m" {
		t.Fatalf("calls = %+v", calls)
	}
	var body struct {
		Query string   `json:"query"`
		Input []string `json:"input"`
	}
	if err := json.Unmarshal([]byte(calls[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	// fields cut to 12 characters, joined by a space; missing values dropped.
	if body.Query != "best laptop?" || strings.Join(body.Input, "|") != "Laptop bags ann|Best laptop  bob|Gardening" {
		t.Fatalf("body = %+v", body)
	}
}

func TestRerankDiscoveryAndStrings(t *testing.T) {
	sb, fake, rt := setup(t)
	fake.AddInferenceEndpoint(sandbox.InferenceEndpoint{InferenceID: "other", TaskType: "rerank", Service: "cohere"})
	fake.AddInferenceEndpoint(sandbox.InferenceEndpoint{InferenceID: ".rerank-v1-elasticsearch", TaskType: "rerank", Service: "elasticsearch"})
	fake.AddInferenceEndpoint(sandbox.InferenceEndpoint{InferenceID: "emb", TaskType: "text_embedding", Service: "elastic"})
	out, err := run(t, rt, step.Input{With: map[string]any{"rerank_text": "deployment failed",
		"data": []any{"lunch at noon", "deployment failed on prod", "deployment ok"}, "max_input_total_length": 20.0}})
	if err != nil {
		t.Fatal(err)
	}
	if got := titles(t, out); got != "deployment failed on prod|deployment ok|lunch at noon" {
		t.Fatalf("order = %s", got)
	}
	calls := inferenceCalls(sb)
	if len(calls) != 2 || calls[0].Method != "GET" || calls[0].Path != "/_inference/rerank/_all" ||
		calls[1].Path != "/_inference/rerank/.rerank-v1-elasticsearch" || !strings.Contains(calls[1].Body, `["lunch at noon","deployment failed on","deployment ok"]`) {
		t.Fatalf("calls = %+v", calls)
	}
}

func TestRerankErrorsAndEmpty(t *testing.T) {
	sb, fake, rt := setup(t)
	out, err := run(t, rt, step.Input{With: map[string]any{"rerank_text": "x", "data": []any{}}})
	if err != nil || len(out.([]any)) != 0 || len(inferenceCalls(sb)) != 0 {
		t.Fatalf("empty data: %v %v", out, err)
	}
	_, err = run(t, rt, step.Input{With: map[string]any{"rerank_text": "x", "data": []any{"a"}}})
	if err == nil || !strings.Contains(err.Error(), "no rerank inference endpoints found") {
		t.Fatalf("no endpoint: %v", err)
	}
	_, err = run(t, rt, step.Input{Config: map[string]any{"inference_id": "nope"}, With: map[string]any{"rerank_text": "x", "data": []any{"a"}}})
	if se := step.AsError(err); se == nil || se.Retryable || se.Message != "resource_not_found_exception: Inference endpoint not found [nope]" {
		t.Fatalf("unknown endpoint: %+v", se)
	}
	fake.AddInferenceEndpoint(sandbox.InferenceEndpoint{InferenceID: "r", TaskType: "rerank", Service: "elastic"})
	fake.Inject("/_inference/rerank/r", 503, "", "", 1)
	_, err = run(t, rt, step.Input{Config: map[string]any{"inference_id": "r"}, With: map[string]any{"rerank_text": "x", "data": []any{"a"}}})
	if se := step.AsError(err); se == nil || !se.Retryable {
		t.Fatalf("503: %+v", se)
	}
	for name, with := range map[string]map[string]any{
		"no text":     {"data": []any{"a"}},
		"data object": {"rerank_text": "x", "data": map[string]any{}},
		"bad fields":  {"rerank_text": "x", "data": []any{"a"}, "fields": []any{1.0}},
		"bad window":  {"rerank_text": "x", "data": []any{"a"}, "rank_window_size": -1.0},
	} {
		if _, err := run(t, rt, step.Input{With: with}); step.AsError(err) == nil || step.AsError(err).Type != "InputValidationError" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTruncateAndJSString(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, ""}, {"s", "s"}, {3.0, "3"}, {true, "true"}, {map[string]any{"a": 1.0}, "[object Object]"},
		{[]any{1.0, nil, "x"}, "1,,x"},
	}
	for _, c := range cases {
		if got := jsString(c.in); got != c.want {
			t.Errorf("jsString(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := truncate("héllo😀x", 6); got != "héllo\uFFFD" { // a surrogate pair cut in half, as substring does
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("abc", 0); got != "abc" {
		t.Errorf("no limit = %q", got)
	}
}
