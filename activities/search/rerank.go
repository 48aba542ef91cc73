// Package search implements search.rerank (§6.8): reorder documents by
// relevance to a text with an Elasticsearch rerank inference endpoint
// (POST /_inference/rerank/<inference_id>), as Kibana's workflows_extensions
// rerank step does, on the default .elasticsearch connector.
package search

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of search.rerank.
const (
	fInferenceID    = "inference_id"
	fRerankText     = "rerank_text"
	fData           = "data"
	fFields         = "fields"
	fRankWindowSize = "rank_window_size"
	fMaxFieldLength = "max_input_field_length"
	fMaxTotalLength = "max_input_total_length"
)

// Kibana's defaults.
const (
	defaultRankWindowSize = 100
	defaultMaxFieldLength = 1000
	defaultMaxTotalLength = 2000
)

// errNoEndpoint is Kibana's message when no endpoint is given nor found.
const errNoEndpoint = "No inference_id provided and no rerank inference endpoints found in Elasticsearch. " +
	"Please create a rerank inference endpoint."

var rerankSpec = &step.Spec{
	Type:     "search.rerank",
	Kind:     step.KindActivity,
	Category: "elasticsearch",
	Status:   step.StatusNewer,
	Summary:  "Reorder documents by relevance to a text with an Elasticsearch rerank inference endpoint; output the reordered documents.",
	Doc: "Sends the first `rank_window_size` documents of `data` to `POST /_inference/rerank/<inference_id>` " +
		"(`{query: rerank_text, input: [...]}`, timeout 5m) and outputs them in the returned order, followed by the " +
		"documents beyond the window in their input order. The text sent for a document is its `fields` (paths such as " +
		"`[\"user\", \"name\"]`, each value cut to `max_input_field_length` characters, joined by spaces), or else the " +
		"document itself (strings as they are, other values as JSON), cut to `max_input_total_length` characters. " +
		"Without `inference_id` the step picks a rerank endpoint from `GET /_inference/rerank/_all`: an Elastic-hosted " +
		"one (service `elastic`) first, then a self-hosted one (`elasticsearch`), then the first; with none it fails " +
		"`" + errNoEndpoint + "`. Empty `data` outputs `[]` without a call. secflow differences: JSON object keys are " +
		"sorted; lengths count UTF-16 code units as JavaScript does; a `fields` entry may also be a dotted string.",
	Config: []step.Field{
		{Name: fInferenceID, Type: step.String, Doc: "Rerank inference endpoint id (discovered when absent).", Example: "my-rerank-model"},
	},
	With: []step.Field{
		{Name: fRerankText, Type: step.String, Required: true, Doc: "Text to rank the documents against.", Example: "{{ inputs.question }}"},
		{Name: fData, Type: step.List, Required: true, Doc: "Documents to rerank (objects or strings).", Example: "${{ steps.search.output.hits.hits }}"},
		{Name: fFields, Type: step.List, Doc: "Field paths to send instead of the whole document: [[\"title\"], [\"user\", \"name\"]].",
			Example: []any{[]any{"title"}, []any{"content"}}},
		{Name: fRankWindowSize, Type: step.Number, Default: defaultRankWindowSize, Doc: "How many documents from the start of data to rerank (0: all)."},
		{Name: fMaxFieldLength, Type: step.Number, Default: defaultMaxFieldLength, Doc: "Characters kept of each extracted field."},
		{Name: fMaxTotalLength, Type: step.Number, Default: defaultMaxTotalLength, Doc: "Characters kept of the text sent per document."},
	},
	Output: step.Output{Doc: "The documents of data (whole), reranked window first.",
		Example: `[{"title": "Best laptops of 2025", "content": "..."}, {"title": "Laptop bags", "content": "..."}]`},
	Examples: []step.Example{{Title: "Rerank search hits", YAML: `- name: rerank_docs
  type: search.rerank
  inference_id: my-rerank-model
  with:
    rerank_text: "{{ inputs.question }}"
    data: "${{ steps.search.output.hits.hits }}"
    fields:
      - ["_source", "title"]
      - ["_source", "content"]
    rank_window_size: 20`}},
	Activity:  rerank,
	Timeout:   6 * time.Minute,
	Heartbeat: true,
	Source:    "activities/search/rerank.go",
}

func init() { step.Register(rerankSpec) }

func rerank(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	text, ok := in.With[fRerankText].(string)
	if !ok {
		return nil, step.Errorf("InputValidationError", "search.rerank: with.rerank_text must be a string")
	}
	raw, ok := in.With[fData]
	data, isList := raw.([]any)
	if !ok || (raw != nil && !isList) {
		return nil, step.Errorf("InputValidationError", "search.rerank: with.data must be a list")
	}
	if len(data) == 0 {
		return []any{}, nil
	}
	paths, err := fieldPaths(in.With[fFields])
	if err != nil {
		return nil, err
	}
	window, err := intField(in, fRankWindowSize, defaultRankWindowSize)
	if err != nil {
		return nil, err
	}
	maxField, err := intField(in, fMaxFieldLength, defaultMaxFieldLength)
	if err != nil {
		return nil, err
	}
	maxTotal, err := intField(in, fMaxTotalLength, defaultMaxTotalLength)
	if err != nil {
		return nil, err
	}
	ranked, rest := data, []any(nil)
	if window > 0 && window < len(data) {
		ranked, rest = data[:window], data[window:]
	}
	input := make([]any, len(ranked))
	for i, doc := range ranked {
		var s string
		if len(paths) > 0 {
			s = extractFields(doc, paths, maxField)
		} else if str, ok := doc.(string); ok {
			s = str
		} else {
			b, err := activitykit.EncodeJSON(doc)
			if err != nil {
				return nil, step.Errorf("InputValidationError", "search.rerank: data[%d]: %v", i, err)
			}
			s = string(b)
		}
		input[i] = truncate(s, maxTotal)
	}
	es, err := newES(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	id, _ := in.Config[fInferenceID].(string)
	if id == "" {
		if id = es.discover(ctx); id == "" {
			return nil, step.Errorf("Error", "%s", errNoEndpoint)
		}
	}
	out, err := es.call(ctx, http.MethodPost, "/_inference/rerank/"+url.PathEscape(id), url.Values{"timeout": {"5m"}},
		map[string]any{"query": text, "input": input})
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	list, ok := m["rerank"].([]any)
	if !ok {
		return nil, step.Errorf("Error", "Rerank API returned unexpected response format. Expected an array of reranked results.")
	}
	result := make([]any, 0, len(data))
	for _, r := range list {
		item, _ := r.(map[string]any)
		idx, ok := activitykit.Int(item["index"])
		if !ok || idx < 0 || int(idx) >= len(ranked) {
			result = append(result, nil) // Kibana maps an out-of-range index to undefined
			continue
		}
		result = append(result, ranked[idx])
	}
	return append(result, rest...), nil
}

// intField reads a non-negative integer `with` field (default def).
func intField(in step.Input, key string, def int) (int, error) {
	v, ok := in.With[key]
	if !ok || v == nil {
		return def, nil
	}
	n, ok := activitykit.Int(v)
	if !ok || n < 0 {
		return 0, step.Errorf("InputValidationError", "search.rerank: with.%s must be a non-negative number", key)
	}
	return int(n), nil
}

// fieldPaths reads with.fields: a list of paths, each a list of keys (or a
// dotted string, a secflow leniency).
func fieldPaths(v any) ([][]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, step.Errorf("InputValidationError", "search.rerank: with.fields must be a list of field paths")
	}
	out := make([][]string, 0, len(list))
	for i, p := range list {
		switch x := p.(type) {
		case string:
			out = append(out, strings.Split(x, "."))
		case []any:
			path := make([]string, len(x))
			for j, k := range x {
				s, ok := k.(string)
				if !ok {
					return nil, step.Errorf("InputValidationError", "search.rerank: with.fields[%d][%d] must be a string", i, j)
				}
				path[j] = s
			}
			out = append(out, path)
		default:
			return nil, step.Errorf("InputValidationError", "search.rerank: with.fields[%d] must be a list of keys", i)
		}
	}
	return out, nil
}

// extractFields joins the non-empty values at paths, each cut to max.
func extractFields(doc any, paths [][]string, max int) string {
	var parts []string
	for _, p := range paths {
		v := doc
		for _, k := range p {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[k]
		}
		s := jsString(v)
		if s == "" {
			continue
		}
		parts = append(parts, truncate(s, max))
	}
	return strings.Join(parts, " ")
}

// jsString renders v as JavaScript's String(v), null and undefined as "".
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case map[string]any:
		return "[object Object]"
	case []any:
		s := make([]string, len(x))
		for i, e := range x {
			s[i] = jsString(e)
		}
		return strings.Join(s, ",")
	}
	return activitykit.Stringify(v)
}

// truncate keeps the first max UTF-16 code units of s (0: no limit), as
// JavaScript's substring does.
func truncate(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	u := utf16.Encode([]rune(s))
	if len(u) <= max {
		return s
	}
	return string(utf16.Decode(u[:max]))
}

// es is a minimal Elasticsearch client for the inference API.
type es struct {
	hc      *http.Client
	base    string
	auth    string
	secrets []string
}

func newES(ctx context.Context, rt step.Runtime, in step.Input) (*es, error) {
	c, err := rt.Connector(ctx, in.ConnectorID, ".elasticsearch")
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(c.ConfigString("url"), "/")
	if base == "" {
		return nil, step.Errorf("ConnectorConfigError", "Elasticsearch connector %s has no url", c.ID)
	}
	secrets := activitykit.SecretValues(c)
	hc, err := activitykit.ClientFor(rt.HTTPClient(), c)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "%s", activitykit.Redact(err.Error(), secrets...))
	}
	return &es{hc: hc, base: base, auth: activitykit.AuthHeader(c), secrets: secrets}, nil
}

// call sends a JSON request and returns the parsed body; an error response
// fails with {type: ResponseError, message: "<es type>: <reason>"}.
func (e *es) call(ctx context.Context, method, path string, q url.Values, body any) (any, error) {
	u := e.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	h := http.Header{"Accept": {"application/json"}}
	if e.auth != "" {
		h.Set("Authorization", e.auth)
	}
	var b []byte
	if body != nil {
		enc, err := activitykit.EncodeJSON(body)
		if err != nil {
			return nil, step.Errorf("InvalidRequest", "encoding request body: %v", err)
		}
		b = enc
		h.Set("Content-Type", "application/json")
	}
	stop := activitykit.KeepAlive(ctx, 0)
	defer stop()
	res, err := activitykit.Do(ctx, e.hc, activitykit.Request{Method: method, URL: u, Header: h, Body: b, Secrets: e.secrets})
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		typ, reason := "", strings.TrimSpace(string(res.Body))
		if m, ok := res.Data().(map[string]any); ok {
			if er, ok := m["error"].(map[string]any); ok {
				typ, _ = er["type"].(string)
				if r, ok := er["reason"].(string); ok {
					reason = r
				}
			}
		}
		if typ == "" {
			typ = strings.ReplaceAll(strings.ToLower(http.StatusText(res.Status)), " ", "_")
		}
		msg := activitykit.Redact(fmt.Sprintf("%s: %s", typ, reason), e.secrets...)
		return nil, activitykit.StatusError(res, "ResponseError", msg, map[string]any{"status": float64(res.Status), "type": typ})
	}
	return activitykit.RedactValue(res.Data(), e.secrets...), nil
}

// discover picks a rerank endpoint as Kibana does: service elastic, then
// elasticsearch, then the first; "" when there is none or the call fails.
func (e *es) discover(ctx context.Context) string {
	out, err := e.call(ctx, http.MethodGet, "/_inference/rerank/_all", nil, nil)
	if err != nil {
		return ""
	}
	m, _ := out.(map[string]any)
	eps, _ := m["endpoints"].([]any)
	first := ""
	for _, want := range []string{"elastic", "elasticsearch", ""} {
		for _, raw := range eps {
			ep, _ := raw.(map[string]any)
			id, _ := ep["inference_id"].(string)
			if first == "" {
				first = id
			}
			if want != "" && ep["service"] == want && id != "" {
				return id
			}
		}
	}
	return first
}
