package elasticsearch

import (
	"context"
	"strings"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of elasticsearch.request.
const (
	fMethod  = "method"
	fPath    = "path"
	fBody    = "body"
	fHeaders = "headers"
	fQuery   = "query"
	fRequest = "request"
)

var requestSpec = &step.Spec{
	Type:     "elasticsearch.request",
	Kind:     step.KindActivity,
	Category: "elasticsearch",
	Status:   step.StatusCore,
	Summary:  "Send a raw request to Elasticsearch; output is the response body.",
	Doc: "Sends `method` `path` (the query string goes in `path`, or in `query`) with `body` to the default " +
		"`.elasticsearch` connector (or `connector-id`). A string body is sent as-is (NDJSON for `_bulk`), " +
		"anything else as JSON. The output is the raw response body; an Elasticsearch error fails the step with " +
		"`ResponseError` and the error's type and reason.",
	With: []step.Field{
		{Name: fMethod, Type: step.String, Default: "GET", Enum: []string{"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"}, Doc: "HTTP method."},
		{Name: fPath, Type: step.String, Required: true, Doc: "Request path, with any query string.", Example: "/logs-*/_search"},
		{Name: fBody, Type: step.Any, Doc: "Request body: an object (JSON) or a string (sent as-is)."},
		{Name: fHeaders, Type: step.Object, Doc: "Extra request headers."},
		{Name: fQuery, Type: step.Object, Doc: "Query-string parameters appended to path."},
	},
	Output: step.Output{Doc: "The raw Elasticsearch response body.",
		Example: `{"took": 3, "timed_out": false, "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}`},
	Examples: []step.Example{{Title: "Search with a raw request", YAML: `- name: recent
  type: elasticsearch.request
  with:
    method: GET
    path: /logs-*/_search
    body: { size: 5, query: { term: { host.name: "{{ event.alerts[0].host.name }}" } } }`}},
	Activity:  runRequest,
	Timeout:   5 * time.Minute,
	Heartbeat: true,
	Source:    "activities/elasticsearch/request.go",
}

// familySpec accepts any other elasticsearch.* type in the raw
// `with.request` form (Kibana generates ~570 API steps; we name the common
// ones in api_steps.go).
var familySpec = &step.Spec{
	Type:     "elasticsearch.*",
	Kind:     step.KindActivity,
	Category: "elasticsearch",
	Status:   step.StatusCore,
	Summary:  "Any other Elasticsearch API, in the raw `with.request` form.",
	Doc: "Elasticsearch APIs without a named contract run in the raw form " +
		"`with: {request: {method, path, body, headers}}`. Without `request` the step fails with " +
		"`No connector definition found for <type>`.",
	With:      []step.Field{{Name: fRequest, Type: step.Object, Required: true, Doc: "Raw request {method, path, body, headers}."}},
	OpenWith:  true,
	Output:    step.Output{Doc: "The raw Elasticsearch response body.", Example: `{"acknowledged": true}`},
	Activity:  runFamily,
	Timeout:   5 * time.Minute,
	Heartbeat: true,
	Source:    "activities/elasticsearch/request.go",
}

// namespaces are the Elasticsearch API namespaces; each gets a
// "elasticsearch.<ns>.*" family spec because the registry resolves a family
// by the type's last dot only (elasticsearch.cat.indices → elasticsearch.cat.*).
var namespaces = []string{"async_search", "autoscaling", "cat", "ccr", "cluster", "connector", "dangling_indices",
	"enrich", "eql", "esql", "features", "fleet", "graph", "ilm", "indices", "inference", "ingest", "license",
	"logstash", "migration", "ml", "monitoring", "nodes", "profiling", "query_rules", "rollup", "search_application",
	"searchable_snapshots", "security", "shutdown", "simulate", "slm", "snapshot", "sql", "ssl", "streams",
	"synonyms", "tasks", "text_structure", "transform", "watcher", "xpack"}

func init() {
	step.Register(requestSpec)
	step.Register(familySpec)
	for _, ns := range namespaces {
		s := *familySpec
		s.Type = "elasticsearch." + ns + ".*"
		s.Summary = "Any other elasticsearch." + ns + " API, in the raw `with.request` form."
		step.Register(&s)
	}
}

func runRequest(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	src := in.With
	if r, ok := in.With[fRequest].(map[string]any); ok {
		src = r
	}
	req, err := rawFrom(src, in.With)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, req)
}

func runFamily(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	r, ok := in.With[fRequest].(map[string]any)
	if !ok {
		return nil, step.Errorf("Error", "No connector definition found for %s. Use raw API format with 'request' parameter: "+
			"with: { request: { method: GET, path: /_cluster/health } }", in.Type)
	}
	req, err := rawFrom(r, in.With)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, req)
}

// rawFrom builds a request from a raw {method, path, body, headers, query}
// object.
func rawFrom(r map[string]any, _ map[string]any) (rawRequest, error) {
	path, _ := r[fPath].(string)
	if path == "" {
		return rawRequest{}, step.Errorf("InputValidationError", "elasticsearch request: path is required")
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	method := "GET"
	if m, ok := r[fMethod].(string); ok && m != "" {
		method = strings.ToUpper(m)
	}
	if !methodOK(method) {
		return rawRequest{}, step.Errorf("InputValidationError", "elasticsearch request: unsupported method %s", method)
	}
	req := rawRequest{Method: method, Path: path, Header: map[string]string{}}
	if q, ok := r[fQuery].(map[string]any); ok && len(q) > 0 {
		req.Query = activitykit.Query(q)
	}
	if h, ok := r[fHeaders].(map[string]any); ok {
		for k, v := range h {
			req.Header[k] = activitykit.Stringify(v)
		}
	}
	switch b := r[fBody].(type) {
	case nil:
	case string:
		req.Body = []byte(b)
		if strings.Contains(path, "_bulk") || strings.Contains(path, "_msearch") {
			req.ContentType = "application/x-ndjson"
			if !strings.HasSuffix(b, "\n") {
				req.Body = append(req.Body, '\n')
			}
		}
	default:
		if list, ok := b.([]any); ok && strings.Contains(path, "_bulk") {
			nd, err := ndjson(list)
			if err != nil {
				return rawRequest{}, step.Errorf("InputValidationError", "elasticsearch request: %v", err)
			}
			req.Body, req.ContentType = nd, "application/x-ndjson"
			break
		}
		enc, err := activitykit.EncodeJSON(b)
		if err != nil {
			return rawRequest{}, step.Errorf("InputValidationError", "elasticsearch request: body is not JSON: %v", err)
		}
		req.Body = enc
	}
	if ct, ok := req.Header["Content-Type"]; ok {
		req.ContentType = ct
		delete(req.Header, "Content-Type")
	}
	return req, nil
}
